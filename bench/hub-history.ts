/**
 * The history's figures (issue 12), the `hub-history` section of `npm run bench`: the recorder's CPU
 * per message (all threads, and the broker's thread alone), bytes per raw sample on disk, a 7-day
 * 5-second series queried and downsampled for a 1000 px chart, and 1,000,000 rows exported as CSV
 * (time and RSS growth). In-process, without a broker: on a shared machine CPU time per message is
 * steadier than a broker's latency. About a minute; quick: 1/10 the rows.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryRecorder } from '../src/hub/history/index.js';

export interface HistoryFigures {
  recorderCpu: Record<string, number>;
  bytesPerSample: Record<string, number>;
  weekQuery: Record<string, number | string>;
  csvExport: Record<string, number>;
}

let SAMPLES = 1_000_000;
let EXPORT_ROWS = 1_000_000;
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

/** CPU time of this process's main thread (the one a broker's event loop runs on), µs. */
function mainThreadCpuMicros(): number {
  return (
    Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000
  );
}

/**
 * What record() and the worker cost per message, as hub@1k loads it: 40 topics, 1,000 messages then
 * a commit, 30 times. `binary`: the benchmark's 64-byte stamped payloads, viewed in a 64 KiB socket
 * buffer as the broker hands them over; `json`: three-field telemetry.
 */
async function recorderCpu(kind: 'binary' | 'json'): Promise<{ allThreads: number; brokerThread: number }> {
  const rec = fresh();
  const socketBuffer = Buffer.alloc(65536);
  const message = (i: number) => {
    let payload: Buffer;
    if (kind === 'json') {
      payload = Buffer.from(JSON.stringify({ t: 20 + (i % 50) / 10, h: 40 + (i % 7), rssi: -60 - (i % 5) }));
    } else {
      socketBuffer.writeBigUInt64LE(process.hrtime.bigint(), 100);
      socketBuffer.writeUInt32LE(i, 112);
      payload = socketBuffer.subarray(100, 164);
    }
    return {
      topic: `hub/board/${i % 40}/telemetry`,
      payload,
      qos: 1 as const,
      retain: false,
      receivedAt: Date.now(),
    };
  };
  const round = async (from: number) => {
    for (let i = from; i < from + 1000; i++) rec.record(message(i), `board-${i % 40}`);
    await rec.flush();
  };
  for (let r = 0; r < 5; r++) await round(r * 1000); // warm-up
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const [all0, main0] = [cpu(), mainThreadCpuMicros()];
  const rounds = 30;
  for (let r = 0; r < rounds; r++) await round((5 + r) * 1000);
  const [all1, main1] = [cpu(), mainThreadCpuMicros()];
  await rec.close();
  const n = rounds * 1000;
  return { allThreads: (all1 - all0) / n, brokerThread: (main1 - main0) / n };
}

/** Every history figure; `quick`: 1/10 of the rows (the figures then only show that it runs). */
export async function historyFigures(quick = false): Promise<HistoryFigures> {
  SAMPLES = quick ? 100_000 : 1_000_000;
  EXPORT_ROWS = quick ? 100_000 : 1_000_000;
  try {
    const binary = await recorderCpu('binary');
    const json = await recorderCpu('json');
    return {
      recorderCpu: {
        binaryAllThreadsMicros: binary.allThreads,
        binaryBrokerThreadMicros: binary.brokerThread,
        jsonAllThreadsMicros: json.allThreads,
        jsonBrokerThreadMicros: json.brokerThread,
      },
      bytesPerSample: await bytesPerSample(),
      weekQuery: await weekQuery(),
      csvExport: await exportCsv(),
    };
  } finally {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** The section's lines in the report, each against its target. */
export function formatHistoryFigures(h: HistoryFigures): string {
  const f = (x: number | string | undefined, digits = 1) =>
    typeof x === 'number' ? x.toFixed(digits) : String(x);
  const c = h.recorderCpu;
  const b = h.bytesPerSample;
  const w = h.weekQuery;
  const e = h.csvExport;
  return [
    `recorder CPU per message (hub@1k's shape): binary ${f(c.binaryAllThreadsMicros)} µs all threads, ${f(c.binaryBrokerThreadMicros)} µs on the broker's thread; JSON ${f(c.jsonAllThreadsMicros)} / ${f(c.jsonBrokerThreadMicros)} µs`,
    `bytes per raw sample: ${f(b.rawTableBytesPerSample)} B (target ≤ 25: ${(b.rawTableBytesPerSample ?? 99) <= 25 ? 'met' : 'OVER'}); rollups ${f(b.rollupBytesPerSample)} B, whole file ${f(b.fileBytesPerSample)} B per sample`,
    `7-day 5 s series (${w.points} points), 1000 px, as the API asks: ${w.autoTier} tier ${f(w.autoTierMedianMs)} ms (target ≤ 100 ms: ${Number(w.autoTierMedianMs) <= 100 ? 'met' : 'OVER'}); the raw tier forced: ${f(w.rawTierMedianMs)} ms (${w.rawTierPoints} points)`,
    `CSV export of ${e.rows} rows (${f(e.megabytes)} MB): ${f(e.seconds, 2)} s (target ≤ 5 s: ${(e.seconds ?? 99) <= 5 ? 'met' : 'OVER'}), RSS growth ${f(e.rssGrowthFirstHalfMB)} MB first half, ${f(e.rssGrowthMB)} MB whole`,
  ].join('\n');
}
