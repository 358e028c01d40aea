/**
 * Runs one scenario against one running broker: starts the load workers, takes the measurements
 * (the broker's CPU and memory from /proc, the generator's own CPU per thread), and checks that
 * every message sent was delivered.
 */
import { Worker } from 'node:worker_threads';
import hdr from 'hdr-histogram-js';
import type { RunningBroker } from '../brokers/types.js';
import { nowNs } from '../lib/mqtt-wire.js';
import { memoryKb, processCpuMicros, threadCpuMicros } from '../lib/proc.js';
import {
  type ConnectionsScenario,
  deliveriesPerPublish,
  type RetainedScenario,
  type Scenario,
  type ThroughputScenario,
} from '../scenarios.js';
import {
  C,
  type FromWorker,
  type Job,
  SHARED_BYTES,
  sharedViews,
  T,
  type ToWorker,
  type WorkerReport,
} from './protocol.js';

export interface Latency {
  p50Ms: number;
  p99Ms: number;
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
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Worker threads do not inherit the tsx loader in Node 20, so each worker registers it before
 * importing worker.ts.
 */
const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })
  .catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }); });`;

class LoadWorker {
  private readonly worker: Worker;
  private readonly inbox: FromWorker[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(job: Job) {
    this.worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: job });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') this.failure = new Error(`load worker failed: ${m.message}`);
      else this.inbox.push(m);
      this.wake();
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      this.wake();
    });
    this.worker.on('exit', (code) => {
      this.failure ??= new Error(`load worker exited (${code})`);
      this.wake();
    });
  }

  private wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  async next<K extends FromWorker['type']>(
    type: K,
    timeoutMs: number,
  ): Promise<Extract<FromWorker, { type: K }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<FromWorker, { type: K }>;
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`load worker: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, Math.min(left, 250));
      });
    }
  }

  async close(): Promise<void> {
    if (!this.failure) {
      this.send({ type: 'close' });
      await this.next('closed', 30_000).catch(() => {});
    }
    await this.worker.terminate();
  }
}

interface Snapshot {
  t: number;
  brokerCpu: number;
  threads: Map<number, number>;
}

function snapshot(broker: RunningBroker): Snapshot {
  return { t: nowNs(), brokerCpu: processCpuMicros(broker.pid), threads: threadCpuMicros(process.pid) };
}

function generatorLoad(a: Snapshot, b: Snapshot, units: number): GeneratorLoad {
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

function mergeLatency(reports: WorkerReport[]): Latency | null {
  const merged = hdr.build({ numberOfSignificantValueDigits: 3 });
  for (const r of reports) if (r.histogram) merged.add(hdr.decodeFromCompressedBase64(r.histogram));
  if (merged.totalCount === 0) return null;
  return {
    p50Ms: merged.getValueAtPercentile(50) / 1000,
    p99Ms: merged.getValueAtPercentile(99) / 1000,
    maxMs: merged.maxValue / 1000,
    samples: merged.totalCount,
  };
}

async function collect(workers: LoadWorker[]): Promise<WorkerReport[]> {
  for (const w of workers) w.send({ type: 'report' });
  return Promise.all(workers.map(async (w) => (await w.next('report', 30_000)).report));
}

let runCounter = 0;
function jobBase(broker: RunningBroker, worker: number, workers: number) {
  return {
    host: broker.host,
    port: broker.port,
    clientPrefix: `bench${process.pid}r${runCounter}`,
    worker,
    workers,
  };
}

export interface RunOptions {
  /** Load-generator threads (the coordinator is one more, mostly idle). */
  workers: number;
}

export async function runScenario(
  s: Scenario,
  broker: RunningBroker,
  options: RunOptions,
): Promise<Measurement> {
  runCounter++;
  switch (s.kind) {
    case 'throughput':
      return runThroughput(s, broker, options);
    case 'connections':
      return runConnections(s, broker, options);
    case 'retained':
      return runRetained(s, broker);
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
    const ready = await Promise.all(workers.map((w) => w.next('ready', 120_000)));
    const connected = ready.reduce((a, r) => a + r.connected, 0);
    for (const r of ready) problems.push(...r.problems);
    if (connected !== s.publishers + s.subscribers) {
      throw new Error(
        `only ${connected} of ${s.publishers + s.subscribers} clients connected: ${problems.join('; ')}`,
      );
    }
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

    // Drain: everything published must arrive (QoS 1: and be acknowledged to its publisher).
    const fanout = deliveriesPerPublish(s);
    const done = () =>
      Atomics.load(i32, C.DELIVERED) >= Atomics.load(i32, C.SENT) * fanout &&
      (s.qos === 0 || Atomics.load(i32, C.PUBACKS) >= Atomics.load(i32, C.SENT));
    const drainEnd = Date.now() + s.drainMs;
    while (!done() && Date.now() < drainEnd) await sleep(10);
    await sleep(50); // anything beyond the expected count (duplicates) shows up here

    const reports = await collect(workers);
    const sent = Atomics.load(i32, C.SENT);
    const expected = sent * fanout;
    const delivered = Atomics.load(i32, C.DELIVERED);
    const lostConnections = reports.reduce((x, r) => x + r.lostConnections, 0);
    for (const r of reports) problems.push(...r.problems);
    if (lostConnections) problems.push(`${lostConnections} connections lost during the run`);
    if (s.qos > 0 && Atomics.load(i32, C.PUBACKS) !== sent) {
      problems.push(`${Atomics.load(i32, C.PUBACKS)} PUBACKs for ${sent} QoS 1 messages`);
    }
    const measuredUs = (b.t - a.t) / 1000;
    const deliveredIn = deliveredB - deliveredA;
    const cpu = b.brokerCpu - a.brokerCpu;
    return {
      unit: 'msg',
      rate: deliveredIn / (measuredUs / 1e6),
      latency: mergeLatency(reports),
      latencyOf: 'publish → delivery, messages sent in the measured interval',
      brokerCpuMicrosPerUnit: deliveredIn > 0 ? cpu / deliveredIn : Number.NaN,
      brokerCpuPercent: (100 * cpu) / measuredUs,
      baselineRssKb,
      rssPerItemKb: null,
      rssItem: null,
      expected,
      delivered,
      lost: expected - delivered,
      outOfOrder: reports.reduce((x, r) => x + r.outOfOrder, 0),
      generator: generatorLoad(a, b, deliveredIn),
      measuredMs: measuredUs / 1000,
      problems,
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
