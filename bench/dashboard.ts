/**
 * The dashboard's figures (issue 13), in headless Chromium against a hub holding 10,000 retained topics,
 * 20 boards and a 7-day series recorded every 5 s:
 *  1. the Devices screen's first load at 360×800 with 4× CPU throttling: from navigation to every board
 *     in the DOM, timed inside the page (a MutationObserver; no polling by Playwright meanwhile);
 *  2. the topic tree open on three levels while the 10,000 topics change at 100 msg/s: frames a second,
 *     main-thread busy share, tab heap, DOM rows, and the hub's CPU for the live stream (this process's
 *     CPU with the page open, less the same load with no page);
 *  3. a 7-day chart: from the tap on 7d to the chart painted, and the hub's answer within it.
 * Usage: node --import tsx bench/dashboard.ts [--quick], or npm run bench -- --dashboard [--quick]
 * (needs dist/web: npm run build; --quick: 1,000 topics, a 7-day series every 60 s, shorter windows).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { startMothership } from '../src/app/mothership.js';
import { HistoryRecorder } from '../src/hub/history/index.js';
import { launch } from '../test/e2e/chromium.js';

const quick = process.argv.includes('--quick');
const TOPICS = quick ? 1_000 : 10_000;
const BOARDS = 20;
const RUNS = quick ? 3 : 5;
const RATE = 100;
const WINDOW_MS = quick ? 5_000 : 10_000;
const WEEK_STEP_MS = quick ? 60_000 : 5_000;
const WEEK_TOPIC = 'bench/week';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'ms-bench-dashboard-'));

// A week of a DHT reading every 5 s in the history the hub opens (as if it had been up all week).
{
  const rec = new HistoryRecorder({ dir, maxBytes: 0, retentionIntervalMs: 1e12, commitIntervalMs: 1e9 });
  const now = Date.now();
  let i = 0;
  for (let t = now - 7 * 86_400_000; t < now - 60_000; t += WEEK_STEP_MS, i++) {
    const v = (21 + 4 * Math.sin((t / 3_600_000 / 24) * 2 * Math.PI) + (i % 7) / 10).toFixed(1);
    rec.record({
      topic: WEEK_TOPIC,
      payload: Buffer.from(`{"t":${v}}`),
      qos: 0,
      retain: false,
      receivedAt: t,
    });
    if (i % 5000 === 4999) await rec.flush();
  }
  await rec.flush();
  await rec.close();
}

const m = await startMothership({
  port: 0,
  wsPort: 0,
  host: '127.0.0.1',
  dataDir: dir,
  mdns: false,
  logFormat: 'json',
  warnings: [],
});
m.log.level = 'warn';
const mqttPort = m.listeners.find((l) => l.protocol === 'mqtt')!.port;
const base = `http://127.0.0.1:${m.listeners.find((l) => l.protocol === 'websockets')!.port}`;
// 100 sites of 100 sensors: levels as a real fleet has them.
const topicOf = (i: number) => `site${Math.floor(i / 100)}/sensor${i % 100}/value`;

const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
for (let i = 0; i < TOPICS; i++) {
  c.publish(topicOf(i), String(i), { qos: 0, retain: true });
  if (i % 1000 === 999) await c.publishAsync('bench/sync', String(i), { qos: 1 });
}
for (let b = 0; b < BOARDS; b++) {
  const id = `board${b}`;
  await c.publishAsync(`${id}/status`, b % 4 === 0 ? 'offline' : 'online', { qos: 1, retain: true });
  const info = {
    app: 'dht',
    fw: '0.1.0',
    ip: `192.168.1.${b + 10}`,
    rssi: -60,
    heap: 100_000,
    reset: 'power-on',
    pub: ['testincr', `${id}/soil`],
    sub: ['output'],
  };
  await c.publishAsync(`${id}/info`, JSON.stringify(info), { qos: 1, retain: true });
}

interface Metrics {
  TaskDuration: number;
  JSHeapUsedSize: number;
  Nodes: number;
}
async function metrics(cdp: CDPSession): Promise<Metrics> {
  const { metrics: list } = (await cdp.send('Performance.getMetrics')) as {
    metrics: { name: string; value: number }[];
  };
  return Object.fromEntries(list.map((x) => [x.name, x.value])) as unknown as Metrics;
}

async function phone(throttle: number): Promise<{ context: BrowserContext; page: Page; cdp: CDPSession }> {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  const cdp = await context.newCDPSession(page);
  if (throttle > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await cdp.send('Performance.enable');
  return { context, page, cdp };
}

const browser = await launch();
const out: string[] = [];
const say = (s: string) => {
  out.push(s);
  console.log(s);
};
try {
  // 1. Devices, first load.
  const listed: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const { context, page } = await phone(4);
    const last = `[data-device="board${BOARDS - 1}"]`;
    // In the page (as text: this file compiles without the DOM's types): mark when the last board is in.
    await page.addInitScript(`{
      const seen = () => {
        if (!document.querySelector('${last}')) return false;
        performance.mark('listed');
        return true;
      };
      const mo = new MutationObserver(() => seen() && mo.disconnect());
      document.addEventListener('DOMContentLoaded', () => {
        if (!seen()) mo.observe(document.body, { childList: true, subtree: true });
      });
    }`);
    // Waits inside the page (one command), not by polling it: Playwright's polls, throttled 4× too, would
    // take the main thread from the page being measured.
    await page.goto(base, { waitUntil: 'domcontentloaded' });
    const at = (await page.evaluate(`new Promise((resolve) => {
      const done = () => {
        const m = performance.getEntriesByName('listed')[0];
        if (m) resolve(m.startTime);
        return m;
      };
      if (!done()) new PerformanceObserver(done).observe({ type: 'mark' });
    })`)) as number;
    listed.push(at);
    await context.close();
  }
  say(
    `Dashboard, headless Chromium at 360×800; ${TOPICS.toLocaleString('en')} retained topics, ${BOARDS} boards; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the start`,
  );
  say(
    `  Devices listed (navigation → every board in the DOM, 4× CPU throttling)   ${Math.round(median(listed))} ms median of ${RUNS} (min ${Math.round(Math.min(...listed))}, max ${Math.round(Math.max(...listed))}; target ≤ 1500)`,
  );

  // 2. The topic tree, 3 levels open, while every topic changes in turn at 100 msg/s.
  let sent = 0;
  const limit = RATE * ((WINDOW_MS * 2 + 20_000) / 1000) * 2;
  const started = performance.now();
  // Catches up on each tick: a loaded machine's timers run late, the rate stays 100 msg/s.
  const ticker = setInterval(() => {
    const due = Math.min(limit, Math.floor(((performance.now() - started) / 1000) * RATE));
    for (; sent < due; sent++) c.publish(topicOf(sent % TOPICS), String(sent), { qos: 0, retain: true });
  }, 1000 / RATE);
  const cpuOver = async (ms: number) => {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(ms);
    const u = process.cpuUsage(u0);
    return ((u.user + u.system) / 1000 / (performance.now() - t0)) * 100;
  };
  await sleep(2000);
  const s0 = sent;
  const idleCpu = await cpuOver(WINDOW_MS);
  const actualRate = ((sent - s0) / WINDOW_MS) * 1000;
  const { context, page, cdp } = await phone(1);
  await page.goto(`${base}/#/topics`);
  // site0 is below the 20 boards: scroll the list down to it (the DOM holds only the rows in view).
  await page.locator('.vlist').hover();
  for (let i = 0; i < 20 && (await page.locator('.tree-row[data-topic="site0"]').count()) === 0; i++) {
    await page.mouse.wheel(0, 400);
    await sleep(200);
  }
  for (const node of ['site0', 'site0/sensor0']) {
    await page.locator(`.tree-row[data-topic="${node}"] button.expander`).click();
    await page.locator(`.tree-row[data-topic^="${node}/"]`).first().waitFor();
  }
  await sleep(2000);
  await page.evaluate(`{
    window.frames_ = 0;
    const tick = () => {
      window.frames_++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }`);
  const m0 = await metrics(cdp);
  const t0 = performance.now();
  const pageCpu = await cpuOver(WINDOW_MS);
  const m1 = await metrics(cdp);
  const wall = performance.now() - t0;
  const fps = (((await page.evaluate('window.frames_')) as number) / wall) * 1000;
  const rows = await page.locator('.vrow').count();
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await metrics(cdp)).JSHeapUsedSize / 1024 / 1024;
  await context.close();
  clearInterval(ticker);
  say(
    `  Topic tree, 3 levels open, ${TOPICS.toLocaleString('en')} topics changing at ${actualRate.toFixed(0)} msg/s (no throttling, ${WINDOW_MS / 1000} s):`,
  );
  say(`    frames a second                                                      ${fps.toFixed(0)}`);
  say(
    `    main thread busy                                                     ${(((m1.TaskDuration - m0.TaskDuration) * 1000 * 100) / wall).toFixed(1)} %   (target ≤ 20 %)`,
  );
  say(
    `    tree rows in the DOM / DOM nodes                                     ${rows} / ${m1.Nodes}   (target ≤ 200 rows)`,
  );
  say(
    `    tab JS heap after GC                                                 ${heap.toFixed(1)} MB   (target ≤ 60 MB)`,
  );
  say(
    `    hub CPU for the live stream (page open ${pageCpu.toFixed(1)} % − no page ${idleCpu.toFixed(1)} %)      ${(pageCpu - idleCpu).toFixed(1)} % of a core   (target ≤ 5 %)`,
  );

  // 3. A 7-day chart: tap 7d, until it is painted.
  const renders: number[] = [];
  const queries: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const { context, page } = await phone(1);
    await page.goto(`${base}/#/topic/${encodeURIComponent(WEEK_TOPIC)}`);
    const chart = page.locator(`[data-chart="${WEEK_TOPIC} /t"]`);
    await chart.locator('.u-over').waitFor();
    await page.locator(`[data-chart="${WEEK_TOPIC} /t"][data-loads="1"]`).waitFor();
    const [total, query] = (await page.evaluate(`(async () => {
      const el = document.querySelector('[data-chart="${WEEK_TOPIC} /t"]');
      const button = [...el.querySelectorAll('button')].find((b) => b.textContent === '7d');
      const t0 = performance.now();
      const drawn = new Promise((resolve) => {
        const mo = new MutationObserver(() => {
          if (el.dataset.loads !== '2') return;
          mo.disconnect();
          // The frame after the one the new data was drawn in: it is on screen.
          requestAnimationFrame(() => requestAnimationFrame(resolve));
        });
        mo.observe(el, { attributes: true, attributeFilter: ['data-loads'] });
      });
      button.click();
      await drawn;
      const total = performance.now() - t0;
      const request = performance.getEntriesByType('resource').filter((r) => r.name.includes('/api/series/points')).pop();
      return [total, request.responseEnd - request.startTime];
    })()`)) as [number, number];
    renders.push(total);
    queries.push(query);
    await context.close();
  }
  say(
    `  7-day chart (a sample every ${WEEK_STEP_MS / 1000} s): tap on 7d → painted                 ${Math.round(median(renders))} ms median of ${RUNS}: the hub's answer ${Math.round(median(queries))} ms, the page ${Math.round(median(renders.map((r, k) => r - queries[k]!)))} ms   (target ≤ 100 ms)`,
  );
  say(
    `  load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await c.endAsync();
  await browser.close();
  await m.stop();
  rmSync(dir, { recursive: true, force: true });
}
