/** What a run measures: the figures' types, /proc snapshots, and the merged latency histograms. */
import hdr from 'hdr-histogram-js';
import type { RunningBroker } from '../brokers/types.js';
import { nowNs } from '../lib/mqtt-wire.js';
import {
  mainThreadCpuMicrosPrecise,
  processCpuMicros,
  processCpuMicrosPrecise,
  threadCpuMicros,
} from '../lib/proc.js';
import type { WorkerReport } from './protocol.js';

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  samples: number;
}

export interface GeneratorLoad {
  /** CPU of all generator threads together, in % of one core, over the measured interval. */
  totalPercent: number;
  /** The busiest generator thread, in % of one core: near 100 means the generator limits the run. */
  busiestThreadPercent: number;
  /** Generator CPU per unit (delivered message or connection), to set beside the broker's. */
  microsPerUnit?: number;
}

export interface Measurement {
  /** What the rate and CPU figures count: delivered messages, or accepted connections. */
  unit: 'msg' | 'conn';
  /** Units per second over the measured interval. */
  rate: number;
  latency: Latency | null;
  /** What the latency measures. */
  latencyOf: string;
  brokerCpuMicrosPerUnit: number;
  /** The broker's CPU over the measured interval, in % of one core. */
  brokerCpuPercent: number;
  /**
   * Of brokerCpuMicrosPerUnit, what the broker's main thread (its event loop) spent: work on other
   * threads (the history's writer thread) adds CPU but no latency. Open loop only (precise counters).
   */
  brokerMainThreadCpuMicrosPerUnit?: number;
  baselineRssKb: number;
  /** RSS growth per connection (idle scenario) or per retained message (retained scenario). */
  rssPerItemKb: number | null;
  rssItem: 'connection' | 'retained message' | null;
  /** Messages (or connections) sent/expected and delivered over the whole run, warm-up and drain included. */
  expected: number;
  delivered: number;
  lost: number;
  outOfOrder: number;
  generator: GeneratorLoad;
  measuredMs: number;
  problems: string[];
  /** Open loop: the scheduled rate, msg/s (`rate` is what was delivered). */
  targetRate?: number;
  /** Open loop: receipt − the moment of the write() (the headline `latency` is from the scheduled time). */
  serviceLatency?: Latency | null;
  /** Open loop: write() − scheduled time, how late the generator itself sent. */
  generatorLag?: Latency | null;
  /** The broker's RSS at the end of the measured interval. */
  rssKb?: number;
  /** Open loop: the broker's CPU, in % of one core, with every client connected and nothing sent. */
  idleCpuPercent?: number;
}

export interface Snapshot {
  t: number;
  brokerCpu: number;
  /** The broker's main thread alone (precise snapshots only). */
  brokerMainCpu?: number;
  threads: Map<number, number>;
}

/**
 * The clock, the broker's CPU and each generator thread's CPU. `precise`: the broker's CPU from the
 * scheduler's nanosecond counters instead of 10 ms clock ticks (for low rates).
 */
export function snapshot(broker: RunningBroker, precise = false): Snapshot {
  return {
    t: nowNs(),
    brokerCpu: precise ? processCpuMicrosPrecise(broker.pid) : processCpuMicros(broker.pid),
    ...(precise ? { brokerMainCpu: mainThreadCpuMicrosPrecise(broker.pid) } : {}),
    threads: threadCpuMicros(process.pid),
  };
}

export function generatorLoad(a: Snapshot, b: Snapshot, units: number): GeneratorLoad {
  const wallMicros = (b.t - a.t) / 1000;
  let total = 0;
  let busiest = 0;
  for (const [tid, cpu] of b.threads) {
    const d = cpu - (a.threads.get(tid) ?? 0);
    total += d;
    busiest = Math.max(busiest, d);
  }
  return {
    totalPercent: (100 * total) / wallMicros,
    busiestThreadPercent: (100 * busiest) / wallMicros,
    microsPerUnit: units > 0 ? total / units : undefined,
  };
}

/** The workers' latency histograms (µs) merged: `histogram` by default, or another of their histograms. */
export function mergeLatency(
  reports: WorkerReport[],
  which: 'histogram' | 'serviceHistogram' | 'lagHistogram' = 'histogram',
): Latency | null {
  const merged = hdr.build({ numberOfSignificantValueDigits: 3 });
  for (const r of reports) {
    const h = r[which];
    if (h) merged.add(hdr.decodeFromCompressedBase64(h));
  }
  if (merged.totalCount === 0) return null;
  return {
    p50Ms: merged.getValueAtPercentile(50) / 1000,
    p99Ms: merged.getValueAtPercentile(99) / 1000,
    p999Ms: merged.getValueAtPercentile(99.9) / 1000,
    maxMs: merged.maxValue / 1000,
    samples: merged.totalCount,
  };
}

/**
 * A message load's figures between two snapshots: rate and CPU per message delivered in between,
 * and the whole run's counts (`reports`: the receiving workers', for the order checks).
 */
export function messageFigures(
  a: Snapshot,
  b: Snapshot,
  deliveredIn: number,
  counts: { expected: number; delivered: number },
  reports: WorkerReport[],
  baselineRssKb: number,
  problems: string[],
): Omit<Measurement, 'latency' | 'latencyOf'> {
  const measuredUs = (b.t - a.t) / 1000;
  const cpu = b.brokerCpu - a.brokerCpu;
  return {
    unit: 'msg',
    rate: deliveredIn / (measuredUs / 1e6),
    brokerCpuMicrosPerUnit: deliveredIn > 0 ? cpu / deliveredIn : Number.NaN,
    brokerCpuPercent: (100 * cpu) / measuredUs,
    ...(a.brokerMainCpu !== undefined && b.brokerMainCpu !== undefined && deliveredIn > 0
      ? { brokerMainThreadCpuMicrosPerUnit: (b.brokerMainCpu - a.brokerMainCpu) / deliveredIn }
      : {}),
    baselineRssKb,
    rssPerItemKb: null,
    rssItem: null,
    expected: counts.expected,
    delivered: counts.delivered,
    lost: counts.expected - counts.delivered,
    outOfOrder: reports.reduce((x, r) => x + r.outOfOrder, 0),
    generator: generatorLoad(a, b, deliveredIn),
    measuredMs: measuredUs / 1000,
    problems,
  };
}
