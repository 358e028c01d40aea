/** What the coordinator (main thread) and the load workers tell each other. */
import type {
  ConnectionsScenario,
  RateScenario,
  RetainedScenario,
  ThroughputScenario,
} from '../scenarios.js';

/** Int32 counters in the shared buffer, summed over all workers. */
export const C = {
  SENT: 0,
  DELIVERED: 1,
  STOP: 2,
  PUBACKS: 3,
} as const;
/** Float64 slots (after the counters): the measured interval, in hrtime ns; latency is recorded for
 * messages sent (open loop: scheduled) inside it. START: when an open-loop schedule begins. */
export const T = {
  MEASURE_START: 0,
  MEASURE_END: 1,
  START: 2,
} as const;
export const SHARED_BYTES = 64 + 32;

export function sharedViews(buf: SharedArrayBuffer): { i32: Int32Array; f64: Float64Array } {
  return { i32: new Int32Array(buf, 0, 16), f64: new Float64Array(buf, 64, 4) };
}

export interface JobBase {
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
/**
 * One thread of an open-loop run: either publishers (on a fixed schedule) or subscribers, never both,
 * so a publisher thread's precise waits never delay a receive timestamp.
 */
export interface RateJob extends JobBase {
  kind: 'rate';
  role: 'publishers' | 'subscribers';
  /** The scenario with its rate resolved to messages per second. */
  scenario: RateScenario & { rate: number };
  shared: SharedArrayBuffer;
}
export type Job = ThroughputJob | ConnectionsJob | RetainedJob | RateJob;

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
  /** Open loop: receipt − moment of the write() (µs), for messages scheduled in the measured interval. */
  serviceHistogram?: string;
  /** Open loop: moment of the write() − scheduled send time (µs): how late the generator itself was. */
  lagHistogram?: string;
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
