// Seed 004's DHT board in Chromium: its readings (sent with the seed's own mosquitto_pub) land in its
// gauges and charts, from the recorded history and live; its LED tile publishes `on`/`off` on `output`
// at QoS 1, which the board receives, and follows what others publish there.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../hub/helpers.js';
import { board, DESKTOP, mosquittoPub, openPage, rig, screenshot } from './helpers.js';

const r = rig();
let dht: MqttClient;

beforeAll(async () => {
  dht = await board(r.hub, 'dht1', { app: 'dht', pub: ['testincr', 'dht1/soil'], sub: ['output'] });
});

afterAll(async () => {
  await dht?.endAsync();
});

interface Points {
  points: { avg: number }[];
}

describe('dashboard: the DHT board', () => {
  it('recorded readings fill the chart; a new reading from mosquitto_pub appears in the gauge and the chart', async () => {
    const { browser, hub } = r;
    for (const [t, h] of [
      [21.5, 40.2],
      [22.0, 39.8],
      [22.7, 38.1],
    ])
      await dht.publishAsync('testincr', `t=${t}C, h=${h}%.`, { qos: 1 });
    await dht.publishAsync('dht1/soil', 'soil=37%, raw=41000', { qos: 1 });
    // The recorder commits about once a second: wait until the hub serves the three samples.
    await eventually(async () => {
      const r = await fetch(`${hub.base}/api/series/points?topic=testincr&field=/t&width=300`);
      return r.ok && ((await r.json()) as Points).points.length === 3 ? true : undefined;
    }, 'three recorded temperatures');

    const page = await openPage(browser, `${hub.base}/#/device/dht1`);
    const temperature = page.locator('[data-chart="testincr /t"]');
    await temperature.locator('[data-last]:has-text("22.7 °C")').waitFor();
    await expect(temperature.getAttribute('data-points')).resolves.toBe('3');
    await page.locator('[data-tile="gauge"][data-field="/t"] [data-value]:has-text("22.7 °C")').waitFor();

    await mosquittoPub(hub, ['-t', 'testincr', '-m', 't=24.1C, h=26.5%.']);
    await temperature.locator('[data-last]:has-text("24.1 °C")').waitFor();
    await expect(temperature.getAttribute('data-points')).resolves.toBe('4');
    await page.locator('[data-tile="gauge"][data-field="/t"] [data-value]:has-text("24.1 °C")').waitFor();
    await page.locator('[data-tile="gauge"][data-field="/h"] [data-value]:has-text("26.5 %")').waitFor();
    await page.locator('[data-chart="testincr /h"] [data-last]:has-text("26.5 %")').waitFor();
    // The export gives what is shown, as CSV: the three recorded readings and the live one.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      temperature.locator('button:text-is("CSV")').click(),
    ]);
    const csv = Buffer.concat(await (await download.createReadStream()).toArray()).toString();
    const rows = csv.trim().split('\n');
    expect(rows[0]).toBe('time,testincr /t avg,testincr /t min,testincr /t max,testincr /t count');
    expect(rows.slice(1).map((row) => row.split(',')[1])).toEqual(['21.5', '22', '22.7', '24.1']);
    await screenshot(page, 'dht-phone');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'dht-desktop');
    await page.context().close();
  }, 120_000);

  it("flipping the LED tile delivers `on` at QoS 1 on `output`; the seed's `mosquitto_pub ... off` flips it back", async () => {
    const { browser, hub } = r;
    const received: { payload: string; qos: number }[] = [];
    const onMessage = (topic: string, payload: Buffer, packet: { qos: number }) => {
      if (topic === 'output') received.push({ payload: payload.toString(), qos: packet.qos });
    };
    dht.on('message', onMessage);
    const page = await openPage(browser, `${hub.base}/#/device/dht1`);
    const led = page.locator('[data-tile="switch"][data-topic="output"] button[role="switch"]');
    await led.waitFor();
    await expect(led.getAttribute('aria-checked')).resolves.toBe('false');
    await led.click();
    await eventually(() => (received.length > 0 ? true : undefined), 'the board to receive output');
    expect(received).toEqual([{ payload: 'on', qos: 1 }]);
    await page.locator('[data-tile="switch"] button[aria-checked="true"]').waitFor();

    await mosquittoPub(hub, ['-t', 'output', '-m', 'off', '-q', '1']);
    await page.locator('[data-tile="switch"] button[aria-checked="false"]:has-text("off")').waitFor();
    await led.click();
    await eventually(() => (received.length === 3 ? true : undefined), 'the second flip');
    expect(received.map((r) => `${r.payload}/${r.qos}`)).toEqual(['on/1', 'off/1', 'on/1']);
    dht.off('message', onMessage);
    await page.context().close();
  }, 120_000);
});
