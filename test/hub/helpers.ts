import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mothershipDirectives } from '../../src/app/config-file.js';
import { type Mothership, startMothership } from '../../src/app/mothership.js';
import { hashPassword, PasswordFile, writePasswordFile } from '../../src/broker/auth/password-file.js';
import { type LoadedConfig, parseConfig } from '../../src/config/mosquitto-conf.js';

const dirs: string[] = [];
const running: Mothership[] = [];

export async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ms-hub-'));
  dirs.push(d);
  return d;
}

export async function cleanup(): Promise<void> {
  for (const m of running.splice(0)) await m.stop();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
}

export interface HubUnderTest {
  m: Mothership;
  mqttUrl: string;
  /** http://127.0.0.1:<ws port> */
  base: string;
  wsBase: string;
}

/** `mothership up` in-process on free loopback ports, with an optional config text. */
export async function hubUp(configText?: string): Promise<HubUnderTest> {
  const dir = await scratch();
  let config: LoadedConfig | undefined;
  if (configText !== undefined) {
    const file = join(dir, 'mothership.conf');
    await writeFile(file, configText);
    config = parseConfig(configText, file, mothershipDirectives());
  }
  const m = await startMothership({
    ...(config ? { config } : { port: 0, wsPort: 0, host: '127.0.0.1' }),
    dataDir: join(dir, 'data'),
    mdns: false,
    logFormat: 'json',
  });
  running.push(m);
  const mqtt = m.listeners.find((l) => l.protocol === 'mqtt')!;
  const ws = m.listeners.find((l) => l.protocol === 'websockets')!;
  return {
    m,
    mqttUrl: `mqtt://127.0.0.1:${mqtt.port}`,
    base: `http://127.0.0.1:${ws.port}`,
    wsBase: `ws://127.0.0.1:${ws.port}`,
  };
}

export async function passwordFile(dir: string, users: Record<string, string>): Promise<string> {
  const path = join(dir, 'passwd');
  const pf = new PasswordFile(path);
  for (const [u, p] of Object.entries(users)) pf.set(u, await hashPassword(p, { iterations: 1000 }));
  await writePasswordFile(path, pf);
  return path;
}

/** A POST as the dashboard sends it (JSON, with the anti-CSRF header). */
export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mothership': '1', ...headers },
    body: JSON.stringify(body),
  });
}

/** Polls until `check` returns a value (events we cannot await directly: broker-side bookkeeping). */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
