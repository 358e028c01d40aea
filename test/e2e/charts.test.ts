// Charts in Chromium: pinch to zoom and drag to pan on a phone (touch events through CDP, as a finger
// sends them), the export giving exactly the points in view, and a chart tile with several series.
import mqtt from 'mqtt';
import type { CDPSession, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually } from '../hub/helpers.js';
import { board, PHONE, rig, screenshot, UI_TIMEOUT } from './helpers.js';

const r = rig();

async function phone(url: string): Promise<{ page: Page; cdp: CDPSession }> {
  const context = await r.browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  await page.goto(url);
  return { page, cdp: await context.newCDPSession(page) };
}

/** Fingers from `from` to `to` (one or two of them) in a few moves, then lifted. */
async function gesture(cdp: CDPSession, from: [number, number][], to: [number, number][], y: number) {
  const at = (k: number) => from.map(([x0], i) => ({ x: x0 + (to[i]![0] - x0) * k, y, id: i }));
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0) });
  for (let k = 1; k <= 5; k++)
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(k / 5) });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
}

const windowOf = async (page: Page, chart: string) => {
  const el = page.locator(`[data-chart="${chart}"]`);
  return { from: Number(await el.getAttribute('data-from')), to: Number(await el.getAttribute('data-to')) };
};

describe('dashboard: charts', () => {
  it('pinch zooms and a drag pans on a phone; the export holds exactly the points in view', async () => {
    const c = await mqtt.connectAsync(r.hub.mqttUrl, { reconnectPeriod: 0 });
    for (let i = 0; i < 30; i++) await c.publishAsync('lab/temp', `{"t":${20 + i / 10}}`, { qos: 1 });
    await eventually(async () => {
      const res = await fetch(`${r.hub.base}/api/series?filter=lab/temp`);
      return ((await res.json()) as { series: unknown[] }).series.length > 0 ? true : undefined;
    }, 'the series');
    const { page, cdp } = await phone(`${r.hub.base}/#/topic/lab%2Ftemp`);
    const chart = page.locator('[data-chart="lab/temp /t"]');
    await chart.locator('button:text-is("5m")').click();
    await chart.locator('.u-over').waitFor();
    await expect
      .poll(async () => Number(await chart.getAttribute('data-shown')), { timeout: UI_TIMEOUT })
      .toBeGreaterThan(0);
    const before = await windowOf(page, 'lab/temp /t');
    const box = (await chart.locator('.u-over').boundingBox())!;
    const y = box.y + box.height / 2;
    const right = box.x + box.width - 2;

    // Two fingers apart at the right edge (where the readings are): a narrower window, still on them.
    await gesture(
      cdp,
      [
        [right - 20, 0],
        [right, 0],
      ],
      [
        [right - 140, 0],
        [right, 0],
      ],
      y,
    );
    await page.locator('[data-chart="lab/temp /t"][data-zoomed="true"]').waitFor();
    const zoomed = await windowOf(page, 'lab/temp /t');
    expect(zoomed.to - zoomed.from).toBeLessThan((before.to - before.from) / 3);
    await chart.locator('button:has-text("Reset zoom")').waitFor();
    await expect
      .poll(async () => Number(await chart.getAttribute('data-shown')), { timeout: UI_TIMEOUT })
      .toBeGreaterThan(0);
    await screenshot(page, 'chart-zoomed-phone');

    // The CSV is what the chart shows: one row per point in the window, inside it.
    const shown = Number(await chart.getAttribute('data-shown'));
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      chart.locator('button:text-is("CSV")').click(),
    ]);
    const text = await (await csv.createReadStream()).toArray().then((b) => Buffer.concat(b).toString());
    const rows = text.trim().split('\n');
    expect(rows[0]).toBe('time,lab/temp /t avg,lab/temp /t min,lab/temp /t max,lab/temp /t count');
    expect(rows.length - 1).toBe(shown);
    for (const row of rows.slice(1)) {
      const t = Date.parse(row.split(',')[0]!);
      expect(t).toBeGreaterThanOrEqual(zoomed.from);
      expect(t).toBeLessThanOrEqual(zoomed.to);
    }
    const [nd] = await Promise.all([
      page.waitForEvent('download'),
      chart.locator('button:text-is("NDJSON")').click(),
    ]);
    const lines = (await (await nd.createReadStream()).toArray().then((b) => Buffer.concat(b).toString()))
      .trim()
      .split('\n');
    expect(lines).toHaveLength(shown);
    expect(JSON.parse(lines[0]!)).toMatchObject({ topic: 'lab/temp', field: '/t' });

    // One finger dragged right: the window moves back in time, as long as it was.
    await gesture(cdp, [[box.x + 40, 0]], [[box.x + 240, 0]], y);
    await expect
      .poll(async () => (await windowOf(page, 'lab/temp /t')).from, { timeout: UI_TIMEOUT })
      .toBeLessThan(zoomed.from);
    const panned = await windowOf(page, 'lab/temp /t');
    expect(panned.to - panned.from).toBeCloseTo(zoomed.to - zoomed.from, -2);

    await chart.locator('button:has-text("Reset zoom")').click();
    await page.locator('[data-chart="lab/temp /t"][data-zoomed="false"]').waitFor();
    await c.endAsync();
    await page.context().close();
  }, 120_000);

  it('a chart tile added with several series draws them together, each with its live value', async () => {
    const station = await board(r.hub, 'station', { app: 'conversation', pub: ['station/weather'], sub: [] });
    await station.publishAsync('station/weather', '{"hpa": 1013.2, "wind": 3}', { qos: 1, retain: true });
    const { page } = await phone(`${r.hub.base}/#/device/station`);
    const add = page.locator('[data-add-tile]');
    await add.locator('button:has-text("+ Chart")').click();
    await expect
      .poll(() => add.locator('input[name="field"]').inputValue(), { timeout: UI_TIMEOUT })
      .toBe('/hpa');
    await add.locator('input[data-series="station/weather /wind"]').check();
    await add.locator('input[name="title"]').fill('Weather');
    await add.locator('button[type="submit"]').click();
    const chart = page.locator('[data-chart="station/weather /hpa + station/weather /wind"]');
    await chart.locator('[data-series="station/weather /wind"] [data-last]:has-text("3")').waitFor();
    await station.publishAsync('station/weather', '{"hpa": 1009.5, "wind": 7}', { qos: 1, retain: true });
    await chart.locator('[data-series="station/weather /hpa"] [data-last]:has-text("1009.5")').waitFor();
    await chart.locator('[data-series="station/weather /wind"] [data-last]:has-text("7")').waitFor();
    const stored = (await (await fetch(`${r.hub.base}/api/layouts/station`)).json()) as { tiles: unknown[] };
    expect(stored.tiles).toEqual([
      expect.objectContaining({
        kind: 'chart',
        topic: 'station/weather',
        field: '/hpa',
        series: [{ topic: 'station/weather', field: '/wind' }],
      }),
    ]);
    await screenshot(page, 'chart-series-phone');
    await station.endAsync();
    await page.context().close();
  }, 120_000);
});
