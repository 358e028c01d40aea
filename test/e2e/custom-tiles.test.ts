// Tiles added in two taps in Chromium: a gauge on any topic's numeric field and a button that publishes,
// stored on the hub so another browser (here a desktop-sized one) shows the same page.
import { describe, expect, it } from 'vitest';
import { eventually } from '../hub/helpers.js';
import { board, DESKTOP, openPage, rig, screenshot } from './helpers.js';

const r = rig();

describe('dashboard: tiles added by hand', () => {
  it('a gauge and a button added in two taps each, shown in another browser, the button publishing', async () => {
    const { browser, hub } = r;
    const station = await board(hub, 'station', {
      app: 'conversation',
      pub: ['station/weather'],
      sub: ['station/cmd'],
    });
    await station.publishAsync('station/weather', '{"hpa": 1013.2, "wind": 3}', { qos: 1, retain: true });
    const got: string[] = [];
    station.on('message', (topic, payload) => topic === 'station/cmd' && got.push(payload.toString()));

    const page = await openPage(browser, `${hub.base}/#/device/station`);
    const add = page.locator('[data-add-tile]');
    await add.waitFor();
    // Tap 1: the kind (the form opens on the board's first topic and its first numeric field).
    await add.locator('button:has-text("+ Gauge")').click();
    await expect
      .poll(() => add.locator('input[name="topic"]').inputValue(), { timeout: 30_000 })
      .toBe('station/weather');
    await expect(add.locator('input[name="field"]').inputValue()).resolves.toBe('/hpa');
    await add.locator('input[name="title"]').fill('Pressure');
    await add.locator('input[name="min"]').fill('950');
    await add.locator('input[name="max"]').fill('1050');
    // Tap 2: Add.
    await add.locator('button[type="submit"]').click();
    await page
      .locator('[data-tile="gauge"][data-topic="station/weather"] [data-value]:has-text("1013.2")')
      .waitFor();

    await add.locator('button:has-text("+ Button")').click();
    await add.locator('input[name="topic"]').fill('station/cmd');
    await add.locator('input[name="payload"]').fill('blink');
    await add.locator('button[type="submit"]').click();
    const button = page.locator('[data-tile="button"][data-topic="station/cmd"] button');
    await button.click();
    await eventually(() => (got.length > 0 ? true : undefined), 'the board to receive the button');
    expect(got).toEqual(['blink']);

    // Stored on the hub: another browser sees the same tiles.
    const desktop = await openPage(browser, `${hub.base}/#/device/station`, DESKTOP);
    await desktop
      .locator('[data-tile="gauge"][data-topic="station/weather"] [data-value]:has-text("1013.2")')
      .waitFor();
    await desktop.locator('[data-tile="button"][data-topic="station/cmd"]').waitFor();
    await screenshot(desktop, 'custom-tiles-desktop');
    await desktop.locator('[data-custom="Button"] button:has-text("Remove")').click();
    await desktop.locator('[data-tile="button"]').waitFor({ state: 'detached' });
    const stored = (await (await fetch(`${hub.base}/api/layouts/station`)).json()) as {
      tiles: { title: string }[];
    };
    expect(stored.tiles).toEqual([
      {
        kind: 'gauge',
        title: 'Pressure',
        topic: 'station/weather',
        field: '/hpa',
        min: 950,
        max: 1050,
        qos: 0,
      },
    ]);
    await station.endAsync();
    await page.context().close();
    await desktop.context().close();
  }, 120_000);
});
