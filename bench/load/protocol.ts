/** What the coordinator (main thread) and the load workers tell each other. */
import type { ConnectionsScenario, RetainedScenario, ThroughputScenario } from '../scenarios.js';

/** Int32 counters in the shared buffer, summed over all workers. */
export const C = {
  SENT: 0,
  DELIVERED: 1,
  STOP: 2,
  PUBACKS: 3,
} as const;
/** Float64 slots (after the counters): the measured interval, in hrtime ns; latency is recorded for
 * messages sent inside it. */
export const T = {
  MEASURE_START: 0,
  MEASURE_END: 1,
} as const;
export const SHARED_BYTES = 64 + 16;

export function sharedViews(buf: SharedArrayBuffer): { i32: Int32Array; f64: Float64Array } {
  return { i32: new Int32Array(buf, 0, 16), f64: new Float64Array(buf, 64, 2) };
}

interface JobBase {
  host: string;
  port: number;
  /** Unique per run, so client ids never collide with a previous scenario's. */
  clientPrefix: string;
  worker: number;
  workers: number;
}
export interface ThroughputJob extends JobBase {
  kind: 'throughput';
  scenario: ThroughputScenario;
  shared: SharedArrayBuffer;
}
export interface ConnectionsJob extends JobBase {
  kind: 'connections';
  scenario: ConnectionsScenario;
}
export interface RetainedJob extends JobBase {
  kind: 'retained';
  scenario: RetainedScenario;
}
export type Job = ThroughputJob | ConnectionsJob | RetainedJob;

export type ToWorker = { type: 'go' } | { type: 'stop' } | { type: 'report' } | { type: 'close' };

export interface WorkerReport {
  /** hdr-histogram of latencies in µs, compressed base64 (empty when nothing was recorded). */
  histogram: string;
  /** Messages that did not arrive in order (per sender): duplicates, gaps. */
  outOfOrder: number;
  /** Connections the broker closed, or that failed, with why (first few). */
  problems: string[];
  lostConnections: number;
  /** Per kind: connections made, rounds' figures. */
  connected?: number;
  rounds?: { received: number; notRetained: number; ms: number }[];
  stored?: number;
}

export type FromWorker =
  | { type: 'started' }
  | { type: 'ready'; connected: number; problems: string[] }
  | { type: 'stopped' }
  | { type: 'stored'; stored: number }
  | { type: 'done' }
  | { type: 'report'; report: WorkerReport }
  | { type: 'closed' }
  | { type: 'error'; message: string };
