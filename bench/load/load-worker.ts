/** The coordinator's handle on one load-generator thread: start it with a job, await its messages. */
import { Worker } from 'node:worker_threads';
import type { RunningBroker } from '../brokers/types.js';
import type { FromWorker, Job, ToWorker, WorkerReport } from './protocol.js';

/**
 * Worker threads do not inherit the tsx loader in Node 20, so each worker registers it before
 * importing worker.ts.
 */
const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })
  .catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }); });`;

export class LoadWorker {
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

/** Waits for every worker's 'ready'; fails unless `clients` clients connected in all. */
export async function allConnected(
  workers: LoadWorker[],
  clients: number,
  problems: string[],
): Promise<void> {
  const ready = await Promise.all(workers.map((w) => w.next('ready', 120_000)));
  const connected = ready.reduce((a, r) => a + r.connected, 0);
  for (const r of ready) problems.push(...r.problems);
  if (connected !== clients) {
    throw new Error(`only ${connected} of ${clients} clients connected: ${problems.join('; ')}`);
  }
}

export async function collect(workers: LoadWorker[]): Promise<WorkerReport[]> {
  for (const w of workers) w.send({ type: 'report' });
  return Promise.all(workers.map(async (w) => (await w.next('report', 30_000)).report));
}

let runCounter = 0;
/** Call once per run: client ids of the next run never collide with this one's. */
export function nextRun(): void {
  runCounter++;
}
export function jobBase(broker: RunningBroker, worker: number, workers: number) {
  return {
    host: broker.host,
    port: broker.port,
    clientPrefix: `bench${process.pid}r${runCounter}`,
    worker,
    workers,
  };
}
