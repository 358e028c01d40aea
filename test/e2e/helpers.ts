/**
 * The dashboard's end-to-end rig: a real `startMothership` on loopback ports (fixed per test so it can
 * be restarted on them), Debian's Chromium driven by playwright-core, and boards played by MQTT.js
 * clients with our firmware's status, will and info (firmware/lib/board.py).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { launch } from './chromium.js';

export { launch };

import { mothershipDirectives } from '../../src/app/config-file.js';
import { type Mothership, startMothership } from '../../src/app/mothership.js';
import { parseConfig } from '../../src/config/mosquitto-conf.js';

const exec = promisify(execFile);

export const PHONE = { width: 360, height: 800 };
export const DESKTOP = { width: 1280, height: 800 };
/** Generous: a loaded 2-core machine runs other suites beside Chromium. */
export const UI_TIMEOUT = 30_000;

const dirs: string[] = [];

export function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'ms-e2e-'));
  dirs.push(d);
  return d;
}

export function removeScratch(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

export interface Hub {
  m: Mothership;
  mqttPort: number;
  wsPort: number;
  mqttUrl: string;
  base: string;
  dataDir: string;
  stop(): Promise<void>;
  /** Starts it again on the same ports and data, after stop() (a broker restart). */
  start(): Promise<void>;
}

/** `mothership up` in-process on loopback, optionally with a config (its listeners are added here). */
export async function hubUp(configLines = ''): Promise<Hub> {
  const dir = scratch();
  const mqttPort = await freePort();
  const wsPort = await freePort();
  const dataDir = join(dir, 'data');
  const start = async () => {
    if (configLines === '')
      return startMothership({
        port: mqttPort,
        wsPort,
        host: '127.0.0.1',
        dataDir,
        mdns: false,
        logFormat: 'json',
      });
    const text = `listener ${mqttPort} 127.0.0.1\nlistener ${wsPort} 127.0.0.1\nprotocol websockets\n${configLines}`;
    const file = join(dir, 'mothership.conf');
    writeFileSync(file, text);
    const config = parseConfig(text, file, mothershipDirectives());
    return startMothership({ config, dataDir, mdns: false, logFormat: 'json' });
  };
  const hub: Hub = {
    m: await start(),
    mqttPort,
    wsPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    base: `http://127.0.0.1:${wsPort}`,
    dataDir,
    stop: () => hub.m.stop(),
    async start() {
      hub.m = await start();
    },
  };
  return hub;
}

export interface Rig {
  browser: Browser;
  hub: Hub;
}

/** One Chromium and one hub for a test file, started before its tests and stopped after them. */
export function rig(configLines = ''): Rig {
  const r = {} as Rig;
  beforeAll(async () => {
    r.browser = await launch();
    r.hub = await hubUp(configLines);
  });
  afterAll(async () => {
    await r.browser?.close();
    await r.hub?.stop();
    removeScratch();
  });
  return r;
}

export async function openPage(browser: Browser, url: string, viewport = PHONE): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  await page.goto(url);
  return page;
}

/**
 * A PNG of the page as it is. Written to docs/screenshots/ when MOTHERSHIP_SCREENSHOTS=1 (to refresh the
 * committed ones), else to a scratch folder so a test run leaves the checkout clean.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const folder =
    process.env.MOTHERSHIP_SCREENSHOTS === '1'
      ? fileURLToPath(new URL('../../docs/screenshots', import.meta.url))
      : join(scratch(), 'screenshots');
  mkdirSync(folder, { recursive: true });
  await page.evaluate('window.scrollTo(0, 0)');
  const png = await page.screenshot({ path: join(folder, `${name}.png`), fullPage: false });
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const size = page.viewportSize()!;
  expect(png.readUInt32BE(16)).toBe(size.width);
}

export interface BoardOptions {
  app: 'dht' | 'led_remote' | 'conversation';
  pub: string[];
  sub: string[];
  pins?: Record<string, number>;
  /** A user of the hub's password file, when anonymous access is off. */
  username?: string;
  password?: string;
}

/** A board as our firmware behaves: will and retained status, then a retained info, then its subscriptions. */
export async function board(hub: Hub, id: string, o: BoardOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(hub.mqttUrl, {
    clientId: id,
    keepalive: 60,
    reconnectPeriod: 0,
    ...(o.username ? { username: o.username, password: o.password ?? '' } : {}),
    will: { topic: `${id}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  await client.publishAsync(`${id}/status`, 'online', { qos: 1, retain: true });
  const info = {
    app: o.app,
    fw: '0.1.0',
    ip: '192.168.1.23',
    rssi: -61,
    heap: 104_512,
    reset: 'power-on',
    pins: o.pins ?? { led: 2 },
    pub: o.pub,
    sub: o.sub,
  };
  await client.publishAsync(`${id}/info`, JSON.stringify(info), { qos: 0, retain: true });
  for (const s of o.sub) await client.subscribeAsync(s, { qos: 1 });
  return client;
}

/** The link dies without a DISCONNECT (power cut, Wi-Fi gone): the broker publishes the will. */
export function killLink(client: MqttClient): void {
  client.stream.destroy();
  client.end(true);
}

/** Debian's mosquitto_pub, as the seeds run it. */
export async function mosquittoPub(hub: Hub, args: string[]): Promise<void> {
  await exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(hub.mqttPort), ...args], { timeout: 30_000 });
}
