/**
 * The recorder's cost inside one broker (issue 12: "broker CPU per message with the recorder on vs off
 * at 1,000 recorded msg/s, target ≤ 10 % more"), the `recorder-toggle` section of `npm run bench`.
 * One `mothership+hub` broker under hub@1k's load detaches and re-attaches its history recorder in
 * turns (recorder-windows.ts); a window with the recorder is compared with the windows without it on
 * either side. Two brokers side by side (hub@1k with --together) measure the same thing across two
 * processes, where the plain broker alone moved 83–140 µs a message from round to round; here both
 * states share the process, its compiled code and the machine's neighbours of the same minute.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeBroker } from './brokers/node-broker.js';
import { runScenario } from './load/coordinator.js';
import type { RecorderWindow } from './recorder-windows.js';
import { openLoopScenarios, quickVersion, type RateScenario } from './scenarios.js';

export const RECORDER_TOGGLE = 'recorder-toggle';
const TARGET = 1.1;

export interface ToggleFigures {
  windowMs: number;
  /** Windows measured at full rate after the warm-up, in order. */
  windows: RecorderWindow[];
  /** CPU per message over all windows of each state, all threads and the main thread (µs). */
  onMicros: number;
  offMicros: number;
  onMainMicros: number;
  offMainMicros: number;
  /** onMicros ÷ offMicros: the figure held to the target. */
  ratio: number;
  mainRatio: number;
  /** Per thread (by id), CPU per message on and off, the largest difference first. */
  threads: { tid: string; onMicros: number; offMicros: number }[];
  /** Each window with the recorder ÷ the mean of its neighbours without: median, min, max. */
  pairs: { count: number; median: number; min: number; max: number };
  /** The whole run's figures as the load generator saw them. */
  delivered: number;
  expected: number;
}

const perMessage = (ws: RecorderWindow[], key: 'cpuMicros' | 'mainMicros') =>
  ws.reduce((a, w) => a + w[key], 0) /
  Math.max(
    1,
    ws.reduce((a, w) => a + w.messages, 0),
  );

/**
 * The figures from the broker's windows: those at `rate` (at least 97 % of its messages: the load's
 * edges are left out), from `warmupMs` after the first such window on.
 */
export function summariseWindows(
  all: RecorderWindow[],
  rate: number,
  warmupMs: number,
): Omit<ToggleFigures, 'windowMs' | 'delivered' | 'expected'> {
  const full = all.filter((w) => w.messages >= 0.97 * rate * ((w.end - w.start) / 1000));
  const first = full[0]?.start ?? 0;
  const windows = full.filter((w) => w.start >= first + warmupMs);
  const on = windows.filter((w) => w.on);
  const off = windows.filter((w) => !w.on);
  const cpm = (w: RecorderWindow) => w.cpuMicros / w.messages;
  const ratios: number[] = [];
  for (const [i, w] of windows.entries()) {
    if (!w.on) continue;
    // Neighbours in time: the windows right before and after it, when they are in the list and off.
    const near = [windows[i - 1], windows[i + 1]].filter(
      (n): n is RecorderWindow =>
        n !== undefined && !n.on && Math.abs(n.start - w.start) < 3 * (w.end - w.start) + 60_000,
    );
    if (near.length) ratios.push(cpm(w) / (near.reduce((a, n) => a + cpm(n), 0) / near.length));
  }
  ratios.sort((a, b) => a - b);
  const onMicros = perMessage(on, 'cpuMicros');
  const offMicros = perMessage(off, 'cpuMicros');
  const onMainMicros = perMessage(on, 'mainMicros');
  const offMainMicros = perMessage(off, 'mainMicros');
  const mid = ratios.length >> 1;
  const tids = new Set(windows.flatMap((w) => Object.keys(w.threadMicros ?? {})));
  const ofThread = (ws: RecorderWindow[], tid: string) =>
    ws.reduce((a, w) => a + (w.threadMicros?.[tid] ?? 0), 0) /
    Math.max(
      1,
      ws.reduce((a, w) => a + w.messages, 0),
    );
  const threads = [...tids]
    .map((tid) => ({ tid, onMicros: ofThread(on, tid), offMicros: ofThread(off, tid) }))
    .sort((a, b) => b.onMicros - b.offMicros - (a.onMicros - a.offMicros));
  return {
    windows,
    onMicros,
    offMicros,
    onMainMicros,
    offMainMicros,
    ratio: onMicros / offMicros,
    mainRatio: onMainMicros / offMainMicros,
    threads,
    pairs: {
      count: ratios.length,
      median: ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2,
      min: ratios[0] ?? Number.NaN,
      max: ratios[ratios.length - 1] ?? Number.NaN,
    },
  };
}

/**
 * Runs it: ~5 minutes (30 s warm-up, 24 windows of 10 s) times `rounds` (`--repeat`: more windows, a
 * smaller error); quick: a few seconds' windows, to show it runs.
 */
export async function recorderToggleFigures(
  quick: boolean,
  workers: number,
  rounds = 1,
): Promise<ToggleFigures> {
  const hub = openLoopScenarios.find((s) => s.name === 'hub@1k')!;
  const windowMs = quick ? 3000 : 10_000;
  const windows = (quick ? 4 : 24) * rounds;
  const base: RateScenario = quick ? (quickVersion(hub) as RateScenario) : hub;
  const s: RateScenario = { ...base, measureMs: windows * windowMs };
  const dir = mkdtempSync(join(tmpdir(), 'bench-toggle-'));
  const file = join(dir, 'windows.ndjson');
  const broker = await startNodeBroker('mothership+hub', 'mothership-server.ts', {
    BENCH_HUB: '1',
    BENCH_RECORDER_WINDOWS: file,
    BENCH_RECORDER_WINDOW_MS: String(windowMs),
  });
  try {
    const m = await runScenario(s, broker, { workers });
    if (!broker.alive()) throw new Error(`the broker exited: ${broker.output().slice(-300)}`);
    const lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
    const summary = summariseWindows(
      lines.map((l) => JSON.parse(l) as RecorderWindow),
      s.rate as number,
      s.warmupMs,
    );
    if (!summary.windows.some((w) => w.on) || !summary.windows.some((w) => !w.on))
      throw new Error(
        `too few windows at full rate (${lines.length} written): ${lines.slice(0, 4).join(' ')}`,
      );
    return { windowMs, ...summary, delivered: m.delivered, expected: m.expected };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest difference in main-thread CPU per message between two windows of the same state. */
function mainSpread(f: ToggleFigures): number {
  let spread = 0;
  for (const on of [true, false]) {
    const per = f.windows.filter((w) => w.on === on).map((w) => w.mainMicros / w.messages);
    if (per.length > 1) spread = Math.max(spread, Math.max(...per) - Math.min(...per));
  }
  return spread;
}

export function formatToggleFigures(f: ToggleFigures): string {
  const on = f.windows.filter((w) => w.on).length;
  const met = (r: number) => (r <= TARGET ? 'met' : 'OVER');
  return [
    `- recorder on vs off in one broker at hub@1k, ${on} windows on and ${f.windows.length - on} off of ${f.windowMs / 1000} s: ` +
      `${f.onMicros.toFixed(1)} vs ${f.offMicros.toFixed(1)} µs a message, all threads: ${f.ratio.toFixed(3)}× ` +
      `(target ≤ ${TARGET.toFixed(2)}: ${met(f.ratio)})`,
    `- each window on ÷ its neighbours off: median ${f.pairs.median.toFixed(3)}× (${f.pairs.min.toFixed(3)}–${f.pairs.max.toFixed(3)}, ${f.pairs.count} windows)`,
    `- main thread: ${f.onMainMicros.toFixed(1)} vs ${f.offMainMicros.toFixed(1)} µs a message: ${f.mainRatio.toFixed(3)}× ` +
      `(its own noise: windows of one state differ by up to ${mainSpread(f).toFixed(0)} µs a message)`,
    `- the other threads (the writer's, V8's helpers): ${(f.onMicros - f.onMainMicros).toFixed(2)} vs ` +
      `${(f.offMicros - f.offMainMicros).toFixed(2)} µs a message, the recorder adding ` +
      `${(f.onMicros - f.onMainMicros - (f.offMicros - f.offMainMicros)).toFixed(2)}`,
    `- by thread, µs a message on / off, largest difference first: ${f.threads
      .slice(0, 6)
      .map((t) => `${t.tid} ${t.onMicros.toFixed(2)}/${t.offMicros.toFixed(2)}`)
      .join(', ')}`,
    `- ${f.delivered}/${f.expected} delivered`,
  ].join('\n');
}
