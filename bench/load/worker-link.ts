/**
 * A load worker's side of its link to the coordinator: the job, posting, waiting to be told, and the
 * hooks the coordinator's `stop`, `report` and `close` run. Shared by every kind of load (worker.ts
 * for the closed-loop kinds, open-loop.ts for the fixed-rate one).
 */
import { parentPort, workerData } from 'node:worker_threads';
import hdr from 'hdr-histogram-js';
import type { Client } from './client.js';
import type { FromWorker, Job, ToWorker, WorkerReport } from './protocol.js';

const port = parentPort!;
export const job = workerData as Job;
export const post = (m: FromWorker) => port.postMessage(m);

const waiters = new Map<ToWorker['type'], () => void>();
export const hooks: {
  stop: (() => void)[];
  close: () => Promise<void>;
  report: () => WorkerReport;
} = {
  stop: [],
  close: async () => {},
  report: () => emptyReport(),
};

port.on('message', (m: ToWorker) => {
  if (m.type === 'stop') for (const h of hooks.stop) h();
  if (m.type === 'report') post({ type: 'report', report: hooks.report() });
  if (m.type === 'close') {
    hooks.close().then(() => post({ type: 'closed' }));
    return;
  }
  const w = waiters.get(m.type);
  waiters.delete(m.type);
  w?.();
});
export const told = (type: ToWorker['type']) => new Promise<void>((r) => waiters.set(type, r));

export const newHistogram = () => hdr.build({ numberOfSignificantValueDigits: 3 });
export type Histogram = ReturnType<typeof newHistogram>;
export const yieldIo = () => new Promise<void>((r) => setImmediate(r));

export function emptyReport(): WorkerReport {
  return { histogram: '', outOfOrder: 0, problems: [], lostConnections: 0 };
}

export function encodeHistogram(h: Histogram): string {
  return h.totalCount > 0 ? hdr.encodeIntoCompressedBase64(h) : '';
}

export function lostOf(clients: Client[]): { lost: number; problems: string[] } {
  const lost = clients.filter((c) => c.lostReason !== null);
  return { lost: lost.length, problems: lost.slice(0, 5).map((c) => `${c.id}: ${c.lostReason}`) };
}

/** Indices k in [0, n) that belong to worker `worker` of `workers` (k mod workers). */
export function share(n: number, worker = job.worker, workers = job.workers): number[] {
  const out: number[] = [];
  for (let k = worker; k < n; k += workers) out.push(k);
  return out;
}

export const fill = (pattern: string, i: number) => pattern.replaceAll('{i}', String(i));
