/**
 * The dashboard's figures (issue 13): first load of the Devices screen at 360×800 in headless Chromium
 * with 4× CPU throttling, against a hub holding 10,000 retained topics and 20 boards; then the topic
 * tree's first screen and how many rows its DOM holds, and the tab's JS heap.
 * Usage: node --import tsx bench/dashboard.ts [--quick]   (needs npm run build for dist/web; --quick: 1,000 topics)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMothership } from '../src/app/mothership.js';
import { launch } from '../test/e2e/chromium.js';

const quick = process.argv.includes('--quick');
const TOPICS = quick ? 1_000 : 10_000;
const BOARDS = 20;
const RUNS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'ms-bench-dashboard-'));
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

const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
for (let i = 0; i < TOPICS; i++) {
  // 100 sites of 100 sensors: levels as a real fleet has them.
  c.publish(`site${Math.floor(i / 100)}/sensor${i % 100}/value`, String(i), { qos: 0, retain: true });
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
await c.endAsync();

const browser = await launch();
const loads: number[] = [];
const trees: number[] = [];
let rows = 0;
let heapMb = 0;
try {
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(120_000);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const t0 = performance.now();
    await page.goto(base);
    await page.locator(`[data-device="board${BOARDS - 1}"]`).waitFor();
    loads.push(performance.now() - t0);
    const t1 = performance.now();
    await page.click('nav a:has-text("Topics")');
    await page.locator('.tree-row[data-topic="board0"]').waitFor();
    trees.push(performance.now() - t1);
    rows = await page.locator('.vrow').count();
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    heapMb = heap.usedSize / 1024 / 1024;
    await context.close();
  }
} finally {
  await browser.close();
  await m.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `Dashboard, headless Chromium at 360×800 with 4× CPU throttling, ${TOPICS.toLocaleString('en')} retained topics, ${BOARDS} boards (median of ${RUNS}):`,
);
console.log(
  `  Devices screen usable (every board listed)  ${Math.round(median(loads))} ms   (target ≤ 1500 ms)`,
);
console.log(`  Topic tree's first screen                   ${Math.round(median(trees))} ms`);
console.log(`  Tree rows in the DOM                        ${rows}`);
console.log(`  Tab JS heap after GC                        ${heapMb.toFixed(1)} MB   (target ≤ 60 MB)`);
