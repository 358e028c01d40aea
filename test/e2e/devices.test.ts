// The Devices home in Chromium: a board that connects appears online with its info, and goes offline
// (with the reason) when its link is killed; its page shows the tiles its info calls for.
import { describe, expect, it } from 'vitest';
import { board, DESKTOP, killLink, mosquittoPub, openPage, rig, screenshot } from './helpers.js';

const r = rig();

describe('dashboard: devices', () => {
  it('a board appears online with app, IP, signal and heap, then offline with the reason when its link dies', async () => {
    const { browser, hub } = r;
    const page = await openPage(browser, hub.base);
    await page.waitForSelector('[data-screen="devices"]');
    const dht = await board(hub, 'dht1', { app: 'dht', pub: ['testincr', 'dht1/soil'], sub: ['output'] });
    const card = page.locator('[data-device="dht1"]');
    await card.locator('[data-presence]:has-text("online")').waitFor();
    await card.locator('dd:has-text("dht 0.1.0")').waitFor(); // the retained info follows the status
    const text = (await card.textContent())!;
    expect(text).toContain('192.168.1.23');
    expect(text).toContain('-61 dBm (good)');
    expect(text).toContain('102.1 KB');
    expect(text).toContain('power-on');
    const other = await board(hub, 'blue', { app: 'led_remote', pub: ['blue/btn/0'], sub: ['green/btn/0'] });
    await page.locator('[data-device="blue"][data-online="true"]').waitFor();
    await screenshot(page, 'devices-phone');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'devices-desktop');

    killLink(dht);
    await page.locator('[data-device="dht1"][data-online="false"]').waitFor();
    await expect(card.locator('[data-presence]').textContent()).resolves.toMatch(/^offline/);
    await card.locator('[data-disconnect]', { hasText: /socket-error|client-closed/ }).waitFor();
    await other.endAsync();
    await page.context().close();
  }, 120_000);

  it("a board's page offers its tiles from its info, with no setup: the DHT board's gauges, LED switch and charts", async () => {
    const { browser, hub } = r;
    const dht = await board(hub, 'dht2', { app: 'dht', pub: ['testincr', 'dht2/soil'], sub: ['output'] });
    const page = await openPage(browser, `${hub.base}/#/device/dht2`);
    await page.locator('[data-tile="gauge"][data-field="/t"]').waitFor();
    await page.locator('[data-tile="gauge"][data-field="/h"]').waitFor();
    await page.locator('[data-tile="gauge"][data-topic="dht2/soil"]').waitFor();
    await page.locator('[data-tile="switch"][data-topic="output"]').waitFor();
    expect(await page.locator('[data-chart]').count()).toBe(3);
    await dht.publishAsync('dht2/soil', 'soil=42%, raw=30123', { qos: 1 });
    await page.locator('[data-tile="gauge"][data-topic="dht2/soil"] [data-value]:has-text("42 %")').waitFor();
    await screenshot(page, 'board-phone');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'board-desktop');
    await dht.endAsync();
    await page.context().close();
  }, 120_000);

  it("the led-remote board shows its button and LED (seed 002's mosquitto_pub lights it); a conversation board its log", async () => {
    const { browser, hub } = r;
    const blue = await board(hub, 'blue2', {
      app: 'led_remote',
      pub: ['blue2/btn/0'],
      sub: ['green2/btn/0'],
    });
    const page = await openPage(browser, `${hub.base}/#/device/blue2`);
    const led = page.locator('[data-tile="state"][data-topic="green2/btn/0"] [data-value]');
    await led.waitFor();
    await blue.publishAsync('blue2/btn/0', '0');
    await page
      .locator('[data-tile="state"][data-topic="blue2/btn/0"] [data-value]:has-text("pressed")')
      .waitFor();
    await mosquittoPub(hub, ['-t', 'green2/btn/0', '-m', '0']); // the peer's button pressed: our LED on
    await page.locator('[data-tile="state"][data-topic="green2/btn/0"] [data-value]:text-is("on")').waitFor();
    await mosquittoPub(hub, ['-t', 'green2/btn/0', '-m', '1']);
    await page
      .locator('[data-tile="state"][data-topic="green2/btn/0"] [data-value]:has-text("off")')
      .waitFor();
    await blue.publishAsync('blue2/btn/0', '1');
    await page
      .locator('[data-tile="state"][data-topic="blue2/btn/0"] [data-value]:has-text("released")')
      .waitFor();
    await blue.endAsync();

    const machine1 = await board(hub, 'machine1', {
      app: 'conversation',
      pub: ['hello'],
      sub: ['notification'],
    });
    await page.goto(`${hub.base}/#/device/machine1`);
    const log = page.locator('[data-tile="log"]');
    await log.waitFor();
    await machine1.publishAsync('hello', 'I say hello to you #0', { qos: 1 });
    await mosquittoPub(hub, ['-t', 'notification', '-m', 'received']);
    await log.locator('li:has-text("I say hello to you #0")').waitFor();
    await log.locator('li:has-text("received")').waitFor();
    await machine1.endAsync();
    await page.context().close();
  }, 120_000);
});
