// The dashboard with a real board behind it: `mothership demo`'s DHT board runs the unchanged
// firmware in the MicroPython interpreter (src/devices/sim). It appears online with no setup, its
// readings fill its temperature chart, and its LED tile switches the board's LED (pin 2) over MQTT.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, startDemo } from '../../src/app/demo.js';
import { eventually } from '../hub/helpers.js';
import { launch, openPage, removeScratch, scratch } from './helpers.js';

let browser: Browser;
let demo: Demo;
let base: string;

beforeAll(async () => {
  browser = await launch();
  demo = await startDemo({
    boards: 'dht',
    seed: 7,
    port: 0,
    wsPort: 0,
    host: '127.0.0.1',
    dataDir: join(scratch(), 'data'),
    mdns: false,
    logFormat: 'json',
  });
  const ws = demo.mothership.listeners.find((l) => l.protocol === 'websockets');
  base = `http://127.0.0.1:${ws!.port}`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  removeScratch();
});

describe('dashboard: a board running the real firmware', () => {
  it('dht1 appears online with no setup; its readings chart; its LED tile switches the LED on the board', async () => {
    const dht = demo.fleet.boards.find((b) => b.name === 'dht1')!;
    const page = await openPage(browser, `${base}/#/`);
    await page.locator('[data-device="dht1"][data-online="true"]').waitFor({ timeout: 90_000 });

    await page.goto(`${base}/#/device/dht1`);
    // a reading from the board's own DHT22 (simulated), through the broker and the hub
    await page.locator('[data-chart="testincr /t"] [data-last]:has-text("°C")').waitFor({ timeout: 90_000 });

    expect(dht.led).toBe(0);
    const led = page.locator('[data-tile="switch"][data-topic="output"] button[role="switch"]');
    await led.click();
    await eventually(() => (dht.led === 1 ? true : undefined), "the board's LED to light", 60_000);
    // the tile follows `output` as the broker routes it: flip it back once it shows on
    await expect.poll(() => led.getAttribute('aria-checked'), { timeout: 30_000 }).toBe('true');
    await led.click();
    await eventually(() => (dht.led === 0 ? true : undefined), "the board's LED to go out", 60_000);
    await page.context().close();
  }, 240_000);
});
