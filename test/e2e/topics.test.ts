// The topic tree and a topic's page in Chromium: lazy levels with counts and retained markers, search,
// clearing a branch's retained messages after a confirmation that says how many, the last messages
// as text, JSON and hex, a chart per numeric field (keys with dots included), and a windowed list.
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { eventually, post } from '../hub/helpers.js';
import { DESKTOP, openPage, rig, screenshot } from './helpers.js';

const r = rig();

/** What the page's window offers, for code run in it (the tests compile without the DOM's types). */
interface BrowserWindow {
  getComputedStyle(el: unknown): { backgroundColor: string };
}

describe('dashboard: topics', () => {
  it('opens levels lazily, and clears a branch of retained messages after saying how many', async () => {
    const { browser, hub } = r;
    const c = await mqtt.connectAsync(hub.mqttUrl, { reconnectPeriod: 0 });
    await c.publishAsync('garden/soil/moisture', '41', { qos: 1, retain: true });
    await c.publishAsync('garden/soil/ph', '6.5', { qos: 1, retain: true });
    await c.publishAsync('garden/light', 'on', { qos: 1, retain: true });
    await c.publishAsync('hello', 'I say hello to you #0', { qos: 1 });
    const page = await openPage(browser, `${hub.base}/#/topics`);
    const garden = page.locator('.tree-row[data-topic="garden"]');
    await garden.locator('text=3 msg').waitFor();
    await page.locator('.tree-row[data-topic="hello"]').waitFor();
    await garden.locator('button.expander').click();
    const soil = page.locator('.tree-row[data-topic="garden/soil"]');
    await soil.waitFor();
    await page.locator('.tree-row[data-topic="garden/light"] .badge:has-text("R")').waitFor();
    await soil.locator('button.expander').click();
    await page.locator('.tree-row[data-topic="garden/soil/ph"]').waitFor();
    await screenshot(page, 'topics-phone');

    await soil.locator('button:has-text("Clear")').click();
    const confirm = page.locator('[data-confirm]');
    await confirm.locator('text=Clear 2 retained messages matching garden/soil/#?').waitFor();
    await confirm.locator('button.danger:has-text("Clear 2")').click();
    await page.locator('[role="status"]:has-text("Cleared 2 retained messages.")').waitFor();
    const left = (await (await post(`${hub.base}/api/retained/clear`, { filter: 'garden/#' })).json()) as {
      topics: string[];
    };
    expect(left.topics).toEqual(['garden/light']);
    await c.endAsync();
    await page.context().close();
  }, 120_000);

  it('search finds a topic; its page shows the messages as text, JSON and hex, and a chart per field', async () => {
    const { browser, hub } = r;
    const c = await mqtt.connectAsync(hub.mqttUrl, { reconnectPeriod: 0 });
    await c.publishAsync('sensors/json', '{"a.b":1.5,"t":21.5}', { qos: 1 });
    await c.publishAsync('sensors/json', '{"a.b":2.5,"t":22}', { qos: 1 });
    await eventually(async () => {
      const res = await fetch(`${hub.base}/api/messages?topic=sensors/json`);
      return ((await res.json()) as { messages: unknown[] }).messages.length === 2 ? true : undefined;
    }, 'two recorded messages');
    const page = await openPage(browser, `${hub.base}/#/topics`);
    await page.fill('input[type="search"]', 'json');
    await page.locator('.tree-row[data-topic="sensors/json"] a').click();
    await page.locator('[data-screen="topic"] h2:has-text("sensors/json")').waitFor();
    const first = page.locator('[data-messages] li pre').first();
    await expect.poll(() => first.textContent(), { timeout: 30_000 }).toBe('{"a.b":2.5,"t":22}');
    await page.click('fieldset[aria-label="view"] button:has-text("json")');
    await expect.poll(() => first.textContent(), { timeout: 30_000 }).toBe('{\n  "a.b": 2.5,\n  "t": 22\n}');
    await page.click('fieldset[aria-label="view"] button:has-text("hex")');
    await expect
      .poll(() => first.textContent(), { timeout: 30_000 })
      .toMatch(/^000000 {2}7b 22 61 2e 62 22 3a 32/);
    // A key with a dot is one field, not a path.
    await page.locator('[data-chart="sensors/json /a.b"][data-points="2"]').waitFor();
    await page.locator('[data-chart="sensors/json /t"][data-points="2"]').waitFor();
    await page.click('fieldset[aria-label="view"] button:has-text("text")');
    await screenshot(page, 'topic-phone');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'topic-desktop');
    await c.endAsync();
    await page.context().close();
  }, 120_000);

  it('a level with 2,000 topics keeps only a screenful of rows in the DOM, and says what it does not list', async () => {
    const { browser, hub } = r;
    const c = await mqtt.connectAsync(hub.mqttUrl, { reconnectPeriod: 0 });
    for (let i = 0; i < 2000; i++)
      c.publish(`bulk/t${String(i).padStart(4, '0')}`, String(i), { qos: 0, retain: true });
    await c.publishAsync('bulk/last', 'x', { qos: 1, retain: true });
    const page = await openPage(browser, `${hub.base}/#/topics`);
    await page.locator('.tree-row[data-topic="bulk"]').locator('text=2001 msg').waitFor();
    await page.locator('.tree-row[data-topic="bulk"] button.expander').click();
    await page.locator('.tree-row[data-topic="bulk/t0000"]').waitFor();
    const rows = await page.locator('.vrow').count();
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThanOrEqual(40);
    // Scrolling to the end brings the last rows in and the first ones out.
    await page.locator('.vlist').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    // The hub sends a node's first 1000 children by name; the list says how many more there are.
    await page.locator('.tree-row[data-topic="bulk/t0998"]').waitFor();
    await page.locator('[data-more="bulk"]:has-text("1001 more under bulk: search to find them")').waitFor();
    expect(await page.locator('.tree-row[data-topic="bulk/t0000"]').count()).toBe(0);
    await c.endAsync();
    await page.context().close();
  }, 120_000);
  it('ticking two messages shows their diff: changed JSON keys highlighted, text line by line', async () => {
    const { browser, hub } = r;
    const c = await mqtt.connectAsync(hub.mqttUrl, { reconnectPeriod: 0 });
    // Text values only: no chart above the messages (the screenshot shows the diff).
    await c.publishAsync('diff/json', '{"mode":"auto","room":"hall","ip":"10.0.0.2"}', { qos: 1 });
    await c.publishAsync('diff/json', '{"mode":"eco","room":"hall","color":"blue"}', { qos: 1 });
    await c.publishAsync('diff/text', 't=24.1C\nh=26.5%', { qos: 1 });
    await c.publishAsync('diff/text', 't=24.3C\nh=26.5%', { qos: 1 });
    await eventually(async () => {
      const res = await fetch(`${hub.base}/api/messages?topic=diff/text`);
      return ((await res.json()) as { messages: unknown[] }).messages.length === 2 ? true : undefined;
    }, 'the recorded messages');
    const page = await openPage(browser, `${hub.base}/#/topic/diff%2Fjson`);
    const ticks = page.locator('[data-messages] input.pick');
    await expect.poll(() => ticks.count(), { timeout: 30_000 }).toBe(2);
    await ticks.nth(0).check();
    expect(await page.locator('[data-diff]').count()).toBe(0);
    await ticks.nth(1).check();
    const d = page.locator('[data-diff="json"]');
    await d.locator('text=3 keys differ.').waitFor();
    await d.locator('tr[data-path="/mode"][data-kind="changed"]:has-text(\'"auto" → "eco"\')').waitFor();
    await d.locator('tr[data-path="/room"][data-kind="same"]').waitFor();
    await d.locator('tr[data-path="/ip"][data-kind="removed"]').waitFor();
    await d.locator('tr[data-path="/color"][data-kind="added"]:has-text(\'"blue"\')').waitFor();
    // The changed key is highlighted, the same one is not.
    const bg = (path: string) =>
      d
        .locator(`tr[data-path="${path}"]`)
        .evaluate((el) => (globalThis as unknown as BrowserWindow).getComputedStyle(el).backgroundColor);
    expect(await bg('/mode')).not.toBe(await bg('/room'));
    await screenshot(page, 'topic-diff-phone');

    await page.goto(`${hub.base}/#/topic/diff%2Ftext`);
    await expect.poll(() => ticks.count(), { timeout: 30_000 }).toBe(2);
    await ticks.nth(0).check();
    await ticks.nth(1).check();
    const lines = page.locator('[data-diff="text"] [data-kind]');
    await expect
      .poll(async () => (await lines.allTextContents()).join('|'), { timeout: 30_000 })
      .toBe('− t=24.1C|+ t=24.3C|  h=26.5%');
    await c.endAsync();
    await page.context().close();
  }, 120_000);
  it('open levels stay live: counts and rates below the top change, and a new topic appears, without reopening', async () => {
    const { browser, hub } = r;
    const c = await mqtt.connectAsync(hub.mqttUrl, { reconnectPeriod: 0 });
    await c.publishAsync('live/room/temp', '20', { qos: 1, retain: true });
    const page = await openPage(browser, `${hub.base}/#/topics`);
    await page.locator('.tree-row[data-topic="live"] button.expander').click();
    await page.locator('.tree-row[data-topic="live/room"] button.expander').click();
    const temp = page.locator('.tree-row[data-topic="live/room/temp"]');
    await temp.locator('text=1 msg').waitFor();
    for (let i = 0; i < 5; i++) await c.publishAsync('live/room/temp', String(21 + i), { qos: 1 });
    await c.publishAsync('live/room/humidity', '40', { qos: 1 });
    // Two levels down, from the live socket: the new count and a rate, and the new sibling.
    await temp.locator('text=6 msg').waitFor();
    await temp.locator('text=/\\d+(\\.\\d)?\\/s/').waitFor();
    await page.locator('.tree-row[data-topic="live/room/humidity"]').locator('text=1 msg').waitFor();
    await page.locator('.tree-row[data-topic="live/room"]').locator('text=7 msg').waitFor();
    await page.locator('.tree-row[data-topic="live"]').locator('text=7 msg').waitFor();
    await c.endAsync();
    await page.context().close();
  }, 120_000);
});
