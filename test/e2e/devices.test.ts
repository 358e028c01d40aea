// The Devices home in Chromium: a board that connects appears online with its info, and goes offline
// (with the reason) when its link is killed; its page shows the tiles its info calls for.
import { describe, expect, it } from 'vitest';
import { board, DESKTOP, killLink, openPage, rig, screenshot } from './helpers.js';

const r = rig();

describe('dashboard: devices', () => {
  it('a board appears online with app, IP, signal and heap, then offline with the reason when its link dies', async () => {
    const { browser, hub } = r;
    const page = await openPage(browser, hub.base);
    await page.waitForSelector('[data-screen="devices"]');
    const dht = await board(hub, 'dht1', { app: 'dht', pub: ['testincr', 'dht1/soil'], sub: ['output'] });
    const card = page.locator('[data-device="dht1"]');
    await card.locator('[data-presence]:has-text("online")').waitFor();
    await expect(card.textContent()).resolves.toMatch(/dht 0\.1\.0/);
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
    await expect(card.locator('[data-disconnect]').textContent()).resolves.toMatch(
      /socket-error|client-closed/,
    );
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
});
