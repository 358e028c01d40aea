// Login and read-only rules in Chromium, with a password file and an ACL: the page asks for a login,
// says why a wrong one is refused, a user with only read sees everything but the LED tile and the
// publish form answer with the hub's refusal, and an administrator inspects and disconnects clients.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, passwordFile } from '../hub/helpers.js';
import {
  board,
  DESKTOP,
  type Hub,
  hubUp,
  launch,
  openPage,
  removeScratch,
  scratch,
  screenshot,
} from './helpers.js';

let browser: Browser;
let hub: Hub;
let dht: MqttClient;
const received: string[] = [];

beforeAll(async () => {
  const dir = scratch();
  const passwd = await passwordFile(dir, { viewer: 'look', admin: 'root', board: 'flash' });
  const acl = join(dir, 'acl');
  writeFileSync(
    acl,
    'user viewer\ntopic read #\n\nuser admin\ntopic readwrite #\ntopic write $hub/admin\n\nuser board\ntopic readwrite #\n',
  );
  browser = await launch();
  hub = await hubUp(`allow_anonymous false\npassword_file ${passwd}\nacl_file ${acl}\n`);
  dht = await board(hub, 'dht1', {
    app: 'dht',
    pub: ['testincr', 'dht1/soil'],
    sub: ['output'],
    username: 'board',
    password: 'flash',
  });
  dht.on('message', (topic, payload) => topic === 'output' && received.push(payload.toString()));
});

afterAll(async () => {
  dht?.end(true);
  await browser?.close();
  await hub?.stop();
  removeScratch();
});

async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.locator('[data-screen="login"]').waitFor();
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
}

describe('dashboard: login and the ACL', () => {
  it('asks for a login and says why a wrong one is refused; a read-only user is told why the LED and publish are refused', async () => {
    const page = await openPage(browser, hub.base);
    await logIn(page, 'viewer', 'wrong');
    await page
      .locator('[data-screen="login"] [role="alert"]:has-text("wrong username or password")')
      .waitFor();
    await screenshot(page, 'login-phone');
    await page.fill('input[name="password"]', 'look');
    await page.click('button[type="submit"]');
    await page.locator('[data-device="dht1"][data-online="true"]').waitFor();
    expect(await page.locator('nav a:has-text("Clients")').count()).toBe(0); // not an administrator

    await page.goto(`${hub.base}/#/device/dht1`);
    const tile = page.locator('[data-tile="switch"][data-topic="output"]');
    await tile.locator('button[role="switch"]').click();
    await tile.locator('[role="alert"]:has-text("Read-only: not allowed: publish to \'output\'")').waitFor();
    await expect(tile.locator('button[role="switch"]').isDisabled()).resolves.toBe(true);
    await screenshot(page, 'read-only-phone');

    await page.goto(`${hub.base}/#/publish?topic=output`);
    await page.fill('textarea[name="payload"]', 'on');
    await page.click('button[type="submit"]');
    await page
      .locator('[data-screen="publish"] [role="alert"]:has-text("not allowed: publish to \'output\'")')
      .waitFor();
    expect(received).toEqual([]); // the hub refused before anything reached the broker
    await page.context().close();
  }, 120_000);

  it('an administrator publishes, inspects the clients and disconnects one', async () => {
    const page = await openPage(browser, `${hub.base}/#/publish?topic=output`);
    await logIn(page, 'admin', 'root');
    await page.locator('[data-screen="publish"]').waitFor();
    await expect(page.inputValue('input[name="topic"]')).resolves.toBe('output');
    await page.fill('textarea[name="payload"]', 'on');
    await page.selectOption('select[name="qos"]', '1');
    await page.click('button[type="submit"]');
    await page
      .locator('[data-screen="publish"] [role="status"]:has-text("Sent 2 bytes to output (QoS 1)")')
      .waitFor();
    await eventually(() => (received.length > 0 ? true : undefined), 'the board to receive output');
    expect(received).toEqual(['on']);
    await screenshot(page, 'publish-phone');

    await page.click('nav a:has-text("Clients")');
    const card = page.locator('[data-client="dht1"]');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/output \(QoS 1\)/);
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'clients-desktop');
    await card.locator('button:has-text("Disconnect…")').click();
    await card.locator('button.danger:has-text("Disconnect")').click();
    await page.locator('text=Disconnected dht1.').waitFor();
    await page.context().close();
  }, 120_000);
});
