// A broker restart seen from the page: it says the link is lost, reconnects by itself when the broker
// is back on its port, resumes live updates for what it shows, and the history (messages and series)
// is still there after the restart.
import { describe, expect, it } from 'vitest';
import { eventually } from '../hub/helpers.js';
import { mosquittoPub, openPage, rig, screenshot } from './helpers.js';

const r = rig();

describe('dashboard: broker restart', () => {
  it('the page reconnects by itself and says so; the topic history survives the restart', async () => {
    const { browser, hub } = r;
    for (const t of ['20.5', '21.0', '21.5'])
      await mosquittoPub(hub, ['-t', 'testincr', '-m', `t=${t}C, h=40.0%.`]);
    await eventually(async () => {
      const res = await fetch(`${hub.base}/api/series/points?topic=testincr&field=/t&width=300`);
      return res.ok && ((await res.json()) as { points: unknown[] }).points.length === 3 ? true : undefined;
    }, 'three recorded temperatures');

    const page = await openPage(browser, `${hub.base}/#/topic/testincr`);
    const messages = page.locator('[data-messages] li');
    await page.locator('[data-messages] li:has-text("t=21.5C")').waitFor();
    expect(await messages.count()).toBe(3);

    await hub.stop();
    await page.locator('[data-live="lost"]').waitFor();
    await expect(page.locator('[data-live]').textContent()).resolves.toMatch(/Reconnecting/);
    await screenshot(page, 'reconnecting-phone');
    await hub.start();
    await page.locator('[data-reconnects="1"]').waitFor({ state: 'attached' });

    // Live again, for the same viewport: a new reading shows without a reload.
    await mosquittoPub(hub, ['-t', 'testincr', '-m', 't=22.0C, h=41.0%.']);
    await page.locator('[data-messages] li:has-text("t=22.0C")').waitFor();

    // A fresh load reads the history back from history.db (once the recorder committed the new one).
    await eventually(async () => {
      const res = await fetch(`${hub.base}/api/messages?topic=testincr`);
      return ((await res.json()) as { messages: unknown[] }).messages.length === 4 ? true : undefined;
    }, 'four recorded messages');
    await page.reload();
    await page.locator('[data-messages] li:has-text("t=22.0C")').waitFor();
    expect(await messages.count()).toBe(4);
    await page.locator('[data-chart="testincr /t"][data-points="4"]').waitFor();
    await page.context().close();
  }, 120_000);
});
