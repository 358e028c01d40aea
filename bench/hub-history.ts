/**
 * The history's figures (issue 12): bytes per raw sample on disk, a 7-day 5-second series queried and
 * downsampled for a 1000 px chart, and 1,000,000 rows exported as CSV (time and RSS growth).
 * Usage: node --import tsx bench/hub-history.ts [--quick]   (about a minute; --quick: 1/10 the rows)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryRecorder } from '../src/hub/history/index.js';

const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 100_000 : 1_000_000;
const EXPORT_ROWS = quick ? 100_000 : 1_000_000;
const WEEK_POINTS = 7 * 24 * 720; // 120,960: 7 days every 5 s
// Recent enough that every tier's retention still holds it (the query picks its tier by age).
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 8 * 24 * 3_600_000;
const dirs: string[] = [];

function fresh(): HistoryRecorder {
  const dir = mkdtempSync(join(tmpdir(), 'ms-bench-history-'));
  dirs.push(dir);
  // No retention or size cap during the bench: the rows written are the rows measured.
  return new HistoryRecorder({ dir, maxBytes: 0, retentionIntervalMs: 1e12, commitIntervalMs: 1e9 });
}

/** Feeds `count` messages through record() and commits every `batch` of them, as the 1 s timer would. */
async function feed(
  rec: HistoryRecorder,
  count: number,
  batch: number,
  message: (i: number) => [string, number, string],
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const [topic, t, text] = message(i);
    rec.record({ topic, payload: Buffer.from(text), qos: 0, retain: false, receivedAt: t });
    if ((i + 1) % batch === 0) await rec.flush();
  }
  await rec.flush();
}

/** A sensor reading with one decimal, as boards send them. */
const reading = (i: number) => (20 + 5 * Math.sin(i / 500) + (i % 7) / 10).toFixed(1);

async function bytesPerSample(): Promise<Record<string, number>> {
  const rec = fresh();
  const boards = 100;
  // 100 boards each publishing {"temp": 21.3} every 5 s, interleaved as they would arrive.
  await feed(rec, SAMPLES, 1000, (i) => [
    `bench/board-${i % boards}/temp`,
    T0 + Math.floor(i / boards) * 5000 + (i % boards) * 37,
    `{"temp":${reading(i)}}`,
  ]);
  await rec.close();
  const db = new Database(rec.file, { readonly: true });
  const pages = db
    .prepare<[], { name: string; bytes: number }>(
      'SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name',
    )
    .all();
  db.close();
  const of = (name: string) => pages.find((p) => p.name === name)?.bytes ?? 0;
  return {
    samples: SAMPLES,
    rawTableBytesPerSample: of('raw') / SAMPLES,
    rollupBytesPerSample: (of('minute') + of('hour')) / SAMPLES,
    fileBytesPerSample: statSync(rec.file).size / SAMPLES,
  };
}

async function weekQuery(): Promise<Record<string, number | string>> {
  const rec = fresh();
  await feed(rec, WEEK_POINTS, 720, (i) => ['bench/week', T0 + i * 5000, reading(i)]);
  const q = { from: T0, to: T0 + WEEK_POINTS * 5000 - 1, width: 1000 };
  const time = async (tier?: 'raw') => {
    const runs: number[] = [];
    let points = 0;
    let chosen = '';
    for (let r = 0; r < 11; r++) {
      const start = performance.now();
      const result = await rec.query({ topic: 'bench/week', path: [] }, { ...q, tier });
      runs.push(performance.now() - start);
      points = result?.points.length ?? -1;
      chosen = result?.tier ?? 'none';
    }
    runs.sort((a, b) => a - b);
    return { median: runs[5]!, points, chosen };
  };
  const raw = await time('raw');
  const auto = await time();
  await rec.close();
  return {
    points: WEEK_POINTS,
    rawTierMedianMs: raw.median,
    rawTierPoints: raw.points,
    autoTier: auto.chosen,
    autoTierMedianMs: auto.median,
    autoTierPoints: auto.points,
  };
}

async function exportCsv(): Promise<Record<string, number>> {
  const rec = fresh();
  await feed(rec, EXPORT_ROWS, 5000, (i) => ['bench/export', T0 + i * 1000, reading(i)]);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  let rssPeakFirstHalf = rssBefore;
  let bytes = 0;
  let rows = 0;
  const start = performance.now();
  for await (const chunk of rec.export({ topic: 'bench/export', path: [] }, { format: 'csv' })) {
    bytes += chunk.length;
    for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) rows++;
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    if (rows <= EXPORT_ROWS / 2) rssPeakFirstHalf = rssPeak;
  }
  const seconds = (performance.now() - start) / 1000;
  await rec.close();
  return {
    rows: rows - 1,
    seconds,
    megabytes: bytes / 1e6,
    rssBeforeMB: rssBefore / 1e6,
    // Constant memory: the growth over the first half is (about) the growth over the whole export.
    rssGrowthFirstHalfMB: (rssPeakFirstHalf - rssBefore) / 1e6,
    rssGrowthMB: (rssPeak - rssBefore) / 1e6,
  };
}

try {
  console.log('bytes per raw sample', await bytesPerSample());
  console.log('7-day 5 s series, 1000 px', await weekQuery());
  console.log('CSV export', await exportCsv());
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
