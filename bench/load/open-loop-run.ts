/**
 * Runs one open-loop (fixed-rate) scenario against one broker: publisher threads on a shared
 * schedule, subscriber threads measuring from it, the broker's CPU to the nanosecond over the
 * measured interval, and every message sent accounted for.
 */
import type { RunningBroker } from '../brokers/types.js';
import { nowNs } from '../lib/mqtt-wire.js';
import { memoryKb } from '../lib/proc.js';
import type { RateScenario } from '../scenarios.js';
import { count, drain } from './accounting.js';
import { allConnected, collect, jobBase, LoadWorker } from './load-worker.js';
import { type Measurement, mergeLatency, messageFigures, snapshot } from './measure.js';
import { C, SHARED_BYTES, sharedViews, T } from './protocol.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Sleeps until an hrtime (ns); bounded by the caller's schedule, which is itself bounded. */
const sleepUntil = (t: number) =>
  new Promise<void>((r) => setTimeout(r, Math.max(0, Math.ceil((t - nowNs()) / 1e6))));

export async function runOpenLoop(
  s: RateScenario,
  broker: RunningBroker,
  o: { workers: number; together?: () => Promise<void> },
): Promise<Measurement> {
  const rate = s.rate;
  if (typeof rate !== 'number') throw new Error(`${s.name}: its rate was never resolved to msg/s`);
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  const { i32, f64 } = sharedViews(shared);
  f64[T.START] = Number.POSITIVE_INFINITY;
  f64[T.MEASURE_START] = Number.POSITIVE_INFINITY;
  f64[T.MEASURE_END] = Number.POSITIVE_INFINITY;
  // Publishers and subscribers in separate threads (at least one each).
  const threads = Math.max(2, o.workers);
  const pubThreads = Math.min(s.publishers, Math.max(1, Math.floor(threads / 2)));
  const subThreads = Math.min(s.subscribers, Math.max(1, threads - pubThreads));
  const start = (role: 'publishers' | 'subscribers', n: number) =>
    Array.from(
      { length: n },
      (_, w) =>
        new LoadWorker({ kind: 'rate', role, scenario: { ...s, rate }, shared, ...jobBase(broker, w, n) }),
    );
  const subs = start('subscribers', subThreads);
  const pubs = start('publishers', pubThreads);
  const workers = [...subs, ...pubs];
  const problems: string[] = [];
  try {
    await allConnected(workers, s.publishers + s.subscribers, problems);
    // Runs of other brokers at the same time start their idle and schedule with this one.
    await o.together?.();
    const baselineRssKb = memoryKb(broker.pid).rssKb;
    const idleA = snapshot(broker, true);
    await sleep(s.idleMs);
    const idleB = snapshot(broker, true);
    const idleCpuPercent = (100 * (idleB.brokerCpu - idleA.brokerCpu)) / ((idleB.t - idleA.t) / 1000);
    const t0 = nowNs() + 100e6;
    f64[T.START] = t0;
    f64[T.MEASURE_START] = t0 + s.warmupMs * 1e6;
    f64[T.MEASURE_END] = t0 + (s.warmupMs + s.measureMs) * 1e6;
    for (const w of pubs) w.send({ type: 'go' });
    await sleepUntil(f64[T.MEASURE_START]!);
    const a = snapshot(broker, true);
    const deliveredA = Atomics.load(i32, C.DELIVERED);
    await sleepUntil(f64[T.MEASURE_END]!);
    const b = snapshot(broker, true);
    const deliveredB = Atomics.load(i32, C.DELIVERED);
    const rssKb = memoryKb(broker.pid).rssKb;
    // The schedule ends at MEASURE_END; a publisher thread that fell behind gets 30 s to finish it.
    await Promise.all(pubs.map((w) => w.next('stopped', 30_000)));

    await drain(s, i32);
    const reports = await collect(workers);
    const subReports = reports.slice(0, subs.length);
    const pubReports = reports.slice(subs.length);
    const counts = count(s, i32, reports, problems);
    const scheduled = Math.floor((rate * (s.warmupMs + s.measureMs)) / 1000);
    if (counts.sent !== scheduled)
      problems.push(`${counts.sent} of the ${scheduled} scheduled messages were sent`);
    return {
      ...messageFigures(a, b, deliveredB - deliveredA, counts, subReports, baselineRssKb, problems),
      targetRate: rate,
      latency: mergeLatency(subReports),
      latencyOf: 'scheduled send time → delivery, messages scheduled in the measured interval',
      serviceLatency: mergeLatency(subReports, 'serviceHistogram'),
      generatorLag: mergeLatency(pubReports, 'lagHistogram'),
      rssKb,
      idleCpuPercent,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}
