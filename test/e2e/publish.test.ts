// The Publish screen in Chromium: MQTT v5 properties reach a v5 subscriber as typed; a payload saved
// under a name survives a reload and goes again in one tap, as does anything in the sent history; a
// malformed user property is refused in the page with the line at fault.
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually } from '../hub/helpers.js';
import { DESKTOP, openPage, rig, screenshot } from './helpers.js';

const r = rig();

async function subscriber(topic: string) {
  const c = await mqtt.connectAsync(r.hub.mqttUrl, { reconnectPeriod: 0, protocolVersion: 5 });
  await c.subscribeAsync(topic, { qos: 1 });
  const got: mqtt.IPublishPacket[] = [];
  c.on('message', (_t, _p, packet) => got.push(packet));
  return { c, got };
}

const sentNote = (page: Page, text: string) =>
  page.locator(`[data-screen="publish"] [role="status"]:has-text("${text}")`).waitFor();

describe('dashboard: publish', () => {
  it('sends content type, response topic, correlation data, user properties and expiry', async () => {
    const { c, got } = await subscriber('lab/cmd');
    const page = await openPage(r.browser, `${r.hub.base}/#/publish?topic=lab/cmd`);
    await page.fill('textarea[name="payload"]', '{"led":"on"}');
    await page.selectOption('select[name="qos"]', '1');
    await page.click('summary:has-text("MQTT 5 properties")');
    await page.fill('input[name="contentType"]', 'application/json');
    await page.fill('input[name="responseTopic"]', 'lab/reply');
    await page.fill('input[name="correlationData"]', 'req-7');
    await page.fill('textarea[name="userProperties"]', 'site=lab\nsite=attic\nnote=a=b');
    await page.fill('input[name="expiry"]', '60');
    await page.click('button:has-text("Publish")');
    await sentNote(page, 'Sent 12 bytes to lab/cmd (QoS 1)');
    const p = await eventually(() => got[0], 'the v5 message');
    expect(p.payload.toString()).toBe('{"led":"on"}');
    expect(p.qos).toBe(1);
    expect(p.properties?.contentType).toBe('application/json');
    expect(p.properties?.responseTopic).toBe('lab/reply');
    expect(Buffer.from(p.properties!.correlationData!).toString()).toBe('req-7');
    expect(p.properties?.userProperties).toEqual({ site: ['lab', 'attic'], note: 'a=b' });
    expect(p.properties?.messageExpiryInterval).toBeLessThanOrEqual(60);
    expect(p.properties?.messageExpiryInterval).toBeGreaterThan(0);
    await screenshot(page, 'publish-properties-phone');

    // A line that is not name=value is refused before anything is sent.
    await page.fill('textarea[name="userProperties"]', 'no equals sign');
    await page.click('button:has-text("Publish")');
    await page
      .locator('[role="alert"]:has-text("user property \'no equals sign\' is not name=value")')
      .waitFor();
    expect(got).toHaveLength(1);
    await c.endAsync();
    await page.context().close();
  }, 120_000);

  it('a saved payload survives a reload and is sent again in one tap, as is one from the sent history', async () => {
    const { c, got } = await subscriber('lamp');
    const page = await openPage(r.browser, `${r.hub.base}/#/publish?topic=lamp`);
    await page.fill('textarea[name="payload"]', 'on');
    await page.selectOption('select[name="qos"]', '1');
    await page.click('button:has-text("Publish")');
    await sentNote(page, 'Sent 2 bytes to lamp (QoS 1)');
    await page.fill('input[name="saveName"]', 'Lamp on');
    await page.click('button:text-is("Save")');
    await page.fill('textarea[name="payload"]', 'off');
    await page.click('button:has-text("Publish")');
    await eventually(() => (got.length === 2 ? true : undefined), 'on, then off');

    await page.reload();
    const saved = page.locator('[data-saved] li[data-name="Lamp on"]');
    await saved.waitFor();
    // Sent history, newest first: "off" then "on"; one tap on "on" sends it again.
    const sent = page.locator('[data-sent] li');
    await expect.poll(() => sent.count()).toBe(2);
    await sent.nth(1).locator('button:has-text("Send again")').click();
    await eventually(() => (got.length === 3 ? true : undefined), 'the re-sent one');
    expect(got[2]!.payload.toString()).toBe('on');
    await saved.locator('button:text-is("Send")').click();
    await eventually(() => (got.length === 4 ? true : undefined), 'the saved one');
    expect(got.map((p) => [p.payload.toString(), p.qos])).toEqual([
      ['on', 1],
      ['off', 1],
      ['on', 1],
      ['on', 1],
    ]);
    // Tapping a saved payload's name puts it back in the form.
    await page.fill('textarea[name="payload"]', '');
    await saved.locator('button.link').click();
    await expect.poll(() => page.inputValue('textarea[name="payload"]')).toBe('on');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'publish-desktop');
    await c.endAsync();
    await page.context().close();
  }, 120_000);
});
