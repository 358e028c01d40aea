/**
 * Runs one scenario against one running broker: starts the load workers, takes the measurements
 * (the broker's CPU and memory from /proc, the generator's own CPU per thread), and checks that
 * every message sent was delivered.
 */
import type { RunningBroker } from '../brokers/types.js';
import { memoryKb } from '../lib/proc.js';
import type { ConnectionsScenario, RetainedScenario, Scenario, ThroughputScenario } from '../scenarios.js';
import { count, drain } from './accounting.js';
import { allConnected, collect, jobBase, LoadWorker, nextRun } from './load-worker.js';
import { generatorLoad, type Measurement, mergeLatency, messageFigures, snapshot } from './measure.js';
import { runOpenLoop } from './open-loop-run.js';
import { C, SHARED_BYTES, sharedViews, T } from './protocol.js';

export type { Latency, Measurement } from './measure.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RunOptions {
  /** Load-generator threads (the coordinator is one more, mostly idle). */
  workers: number;
  /**
   * Open loop, brokers run side by side: resolves when every run of the group is connected, so that
   * they idle and follow their schedules over the same seconds.
   */
  together?: () => Promise<void>;
}

export async function runScenario(
  s: Scenario,
  broker: RunningBroker,
  options: RunOptions,
): Promise<Measurement> {
  nextRun();
  switch (s.kind) {
    case 'throughput':
      return runThroughput(s, broker, options);
    case 'connections':
      return runConnections(s, broker, options);
    case 'retained':
      return runRetained(s, broker);
    case 'rate':
      return runOpenLoop(s, broker, options);
    case 'bridge':
      throw new Error(`${s.name} needs its remote broker: bench/load/bridge-run.ts runs it`);
  }
}

async function runThroughput(
  s: ThroughputScenario,
  broker: RunningBroker,
  o: RunOptions,
): Promise<Measurement> {
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  const { i32, f64 } = sharedViews(shared);
  f64[T.MEASURE_START] = Number.POSITIVE_INFINITY;
  f64[T.MEASURE_END] = Number.POSITIVE_INFINITY;
  const n = Math.max(1, Math.min(o.workers, Math.max(s.publishers, s.subscribers)));
  const workers = Array.from(
    { length: n },
    (_, w) => new LoadWorker({ kind: 'throughput', scenario: s, shared, ...jobBase(broker, w, n) }),
  );
  const problems: string[] = [];
  try {
    await allConnected(workers, s.publishers + s.subscribers, problems);
    const baselineRssKb = memoryKb(broker.pid).rssKb;
    for (const w of workers) w.send({ type: 'go' });
    await sleep(s.warmupMs);
    const a = snapshot(broker);
    const deliveredA = Atomics.load(i32, C.DELIVERED);
    f64[T.MEASURE_START] = a.t;
    await sleep(s.measureMs);
    const b = snapshot(broker);
    const deliveredB = Atomics.load(i32, C.DELIVERED);
    f64[T.MEASURE_END] = b.t;
    if (Atomics.load(i32, C.SENT) >= s.maxMessages) {
      problems.push(`the ${s.maxMessages} message bound was reached before the measured interval ended`);
    }
    Atomics.store(i32, C.STOP, 1);
    for (const w of workers) w.send({ type: 'stop' });
    await Promise.all(workers.map((w) => w.next('stopped', 10_000)));

    await drain(s, i32);
    const reports = await collect(workers);
    const counts = count(s, i32, reports, problems);
    return {
      ...messageFigures(a, b, deliveredB - deliveredA, counts, reports, baselineRssKb, problems),
      latency: mergeLatency(reports),
      latencyOf: 'publish → delivery, messages sent in the measured interval',
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

async function runConnections(
  s: ConnectionsScenario,
  broker: RunningBroker,
  o: RunOptions,
): Promise<Measurement> {
  const n = Math.max(1, o.workers);
  const workers = Array.from(
    { length: n },
    (_, w) => new LoadWorker({ kind: 'connections', scenario: s, ...jobBase(broker, w, n) }),
  );
  try {
    await Promise.all(workers.map((w) => w.next('started', 30_000)));
    await sleep(300);
    const baselineRssKb = memoryKb(broker.pid).rssKb;
    const a = snapshot(broker);
    for (const w of workers) w.send({ type: 'go' });
    const ready = await Promise.all(workers.map((w) => w.next('ready', 180_000)));
    const b = snapshot(broker);
    const connected = ready.reduce((x, r) => x + r.connected, 0);
    await sleep(s.settleMs);
    const rssKb = memoryKb(broker.pid).rssKb;
    const reports = await collect(workers);
    const problems = reports.flatMap((r) => r.problems);
    const stillConnected = reports.reduce((x, r) => x + (r.connected ?? 0), 0);
    const measuredUs = (b.t - a.t) / 1000;
    const cpu = b.brokerCpu - a.brokerCpu;
    return {
      unit: 'conn',
      rate: connected / (measuredUs / 1e6),
      latency: mergeLatency(reports),
      latencyOf: `TCP connect + CONNECT → CONNACK, ${s.concurrency} at a time`,
      brokerCpuMicrosPerUnit: connected > 0 ? cpu / connected : Number.NaN,
      brokerCpuPercent: (100 * cpu) / measuredUs,
      baselineRssKb,
      rssPerItemKb: connected > 0 ? (rssKb - baselineRssKb) / connected : null,
      rssItem: 'connection',
      expected: s.connections,
      delivered: stillConnected,
      lost: s.connections - stillConnected,
      outOfOrder: 0,
      generator: generatorLoad(a, b, connected),
      measuredMs: measuredUs / 1000,
      problems,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

async function runRetained(s: RetainedScenario, broker: RunningBroker): Promise<Measurement> {
  const worker = new LoadWorker({ kind: 'retained', scenario: s, ...jobBase(broker, 0, 1) });
  try {
    const baselineRssKb = memoryKb(broker.pid).rssKb;
    const stored = await worker.next('stored', 120_000);
    const storedRssKb = memoryKb(broker.pid).rssKb;
    const a = snapshot(broker);
    worker.send({ type: 'go' });
    await worker.next('done', s.rounds * s.roundTimeoutMs + 30_000);
    const b = snapshot(broker);
    const [report] = await collect([worker]);
    const rounds = report!.rounds ?? [];
    const delivered = rounds.reduce((x, r) => x + r.received, 0);
    const roundMs = rounds.reduce((x, r) => x + r.ms, 0);
    const problems = [...report!.problems];
    const notRetained = rounds.reduce((x, r) => x + r.notRetained, 0);
    if (notRetained) problems.push(`${notRetained} messages arrived without the retain flag`);
    const cpu = b.brokerCpu - a.brokerCpu;
    const measuredUs = (b.t - a.t) / 1000;
    return {
      unit: 'msg',
      rate: roundMs > 0 ? delivered / (roundMs / 1000) : 0,
      latency: mergeLatency([report!]),
      latencyOf: 'SUBSCRIBE sent → each retained message received',
      brokerCpuMicrosPerUnit: delivered > 0 ? cpu / delivered : Number.NaN,
      brokerCpuPercent: (100 * cpu) / measuredUs,
      baselineRssKb,
      rssPerItemKb: stored.stored > 0 ? (storedRssKb - baselineRssKb) / stored.stored : null,
      rssItem: 'retained message',
      expected: s.retained * s.rounds,
      delivered,
      lost: s.retained * s.rounds - delivered,
      outOfOrder: 0,
      generator: generatorLoad(a, b, delivered),
      measuredMs: measuredUs / 1000,
      problems,
    };
  } finally {
    await worker.close();
  }
}
