/**
 * The open-loop (fixed-rate) load: a publisher thread sends every message at its scheduled time,
 * whatever the broker does, and stamps it with that time; a subscriber thread measures from it. A
 * thread holds publishers or subscribers, never both, so the publishers' precise waits (which block
 * their thread) never delay a receive timestamp.
 */
import { nowNs, PAYLOAD_HEADER } from '../lib/mqtt-wire.js';
import { mapLimit } from './client.js';
import { C, type RateJob, sharedViews, T } from './protocol.js';
import { openPublisher, openSubscriber, type StampedPublisher, stampMessage } from './stamped-clients.js';
import {
  encodeHistogram,
  type Histogram,
  hooks,
  lostOf,
  newHistogram,
  post,
  share,
  told,
  yieldIo,
} from './worker-link.js';

/** Payload bytes [16..24): the moment of the write(), as the scheduled time is in [0..8). */
const WRITE_TIME = PAYLOAD_HEADER;
export const OPEN_LOOP_PAYLOAD_MIN = PAYLOAD_HEADER + 8;

const micros = (ns: number) => Math.max(1, Math.round(ns / 1000));

export function openLoop(j: RateJob): Promise<void> {
  if (j.scenario.payloadBytes < OPEN_LOOP_PAYLOAD_MIN)
    throw new Error(`open-loop payloads must be at least ${OPEN_LOOP_PAYLOAD_MIN} bytes`);
  return j.role === 'subscribers' ? receive(j) : publish(j);
}

async function receive(j: RateJob): Promise<void> {
  const s = j.scenario;
  const { i32, f64 } = sharedViews(j.shared);
  const fromSchedule = newHistogram();
  const fromWrite = newHistogram();
  const stats = { outOfOrder: 0 };
  const subs = await mapLimit(share(s.subscribers), 32, (k) =>
    openSubscriber(j, s, k, i32, stats, (buf, p, now) => {
      const scheduled = buf.readDoubleLE(p);
      if (scheduled >= f64[T.MEASURE_START]! && scheduled < f64[T.MEASURE_END]!) {
        fromSchedule.recordValue(micros(now - scheduled));
        fromWrite.recordValue(micros(now - buf.readDoubleLE(p + WRITE_TIME)));
      }
    }),
  );
  hooks.report = () => {
    const lost = lostOf(subs.results);
    return {
      histogram: encodeHistogram(fromSchedule),
      serviceHistogram: encodeHistogram(fromWrite),
      outOfOrder: stats.outOfOrder,
      problems: [...subs.failures, ...lost.problems],
      lostConnections: lost.lost,
      connected: subs.results.length,
    };
  };
  hooks.close = async () => {
    await Promise.all(subs.results.map((c) => c.close()));
  };
  post({ type: 'ready', connected: subs.results.length, problems: subs.failures.slice(0, 5) });
  // Receiving is event-driven from here until the coordinator closes us.
}

interface Pub extends StampedPublisher {
  sent: number;
  acked: number;
  /** Scheduled times of the messages going out in the current write. */
  due: number[];
}

async function publish(j: RateJob): Promise<void> {
  const s = j.scenario;
  const { i32, f64 } = sharedViews(j.shared);
  const lag = newHistogram();
  const problems: string[] = [];
  const opened = await mapLimit(share(s.publishers), 32, async (k) => {
    const p: Pub = {
      ...(await openPublisher(j, s, k, i32, (n) => {
        p.acked += n;
      })),
      sent: 0,
      acked: 0,
      due: [],
    };
    return p;
  });
  problems.push(...opened.failures);
  const byIndex: (Pub | undefined)[] = new Array(s.publishers);
  for (const p of opened.results) byIndex[p.k] = p;
  hooks.report = () => {
    const lost = lostOf(opened.results.map((p) => p.c));
    return {
      histogram: '',
      lagHistogram: encodeHistogram(lag),
      outOfOrder: 0,
      problems: [...problems, ...lost.problems],
      lostConnections: lost.lost,
      connected: opened.results.length,
    };
  };
  hooks.close = async () => {
    await Promise.all(opened.results.map((p) => p.c.close()));
  };
  post({ type: 'ready', connected: opened.results.length, problems: problems.slice(0, 5) });
  await told('go');
  await runSchedule(s, i32, f64, byIndex, j.workers, lag, problems);
  post({ type: 'stopped' });
}

/**
 * Sends this thread's share of the schedule: message g is due at START + g ÷ rate and goes out from
 * publisher g mod publishers, stamped with its due time. Everything due is sent at once (one write
 * per publisher), so a late thread catches up instead of sliding the schedule. Bounded by the
 * message count, a wall-clock deadline, and `maxUnacked`.
 */
async function runSchedule(
  s: RateJob['scenario'],
  i32: Int32Array,
  f64: Float64Array,
  byIndex: (Pub | undefined)[],
  threads: number,
  lag: Histogram,
  problems: string[],
): Promise<void> {
  const start = f64[T.START]!;
  const measureStart = f64[T.MEASURE_START]!;
  const measureEnd = f64[T.MEASURE_END]!;
  const total = Math.floor((s.rate * (s.warmupMs + s.measureMs)) / 1000);
  const intervalNs = 1e9 / s.rate;
  const deadline = start + (s.warmupMs + s.measureMs + 10_000) * 1e6;
  const waiter = new Waiter(intervalNs * threads);
  const n = s.publishers;
  const ownsIndex = (g: number) => byIndex[g % n] !== undefined;
  let g = 0;
  while (g < total && !ownsIndex(g)) g++;
  let lastYield = nowNs();
  const touched: Pub[] = [];
  while (g < total && Atomics.load(i32, C.STOP) === 0) {
    const due = start + g * intervalNs;
    if (nowNs() < due) {
      await waiter.until(due);
      continue;
    }
    const now = nowNs();
    if (now > deadline) {
      problems.push(`the schedule ran past its deadline with ${total - g} messages unsent`);
      break;
    }
    // Everything due by now, at most a few thousand per write round.
    for (let taken = 0; g < total && taken < 4096; g++) {
      const t = start + g * intervalNs;
      if (t > now) break;
      const p = byIndex[g % n];
      if (!p) continue;
      if (p.due.length === 0) touched.push(p);
      p.due.push(t);
      taken++;
    }
    let sent = 0;
    for (const p of touched) {
      const len = p.tpl.bytes.length;
      const buf = Buffer.allocUnsafe(p.due.length * len);
      const wrote = nowNs();
      for (let m = 0; m < p.due.length; m++) {
        const off = m * len;
        const t = p.due[m]!;
        stampMessage(p, buf, off, t, wrote);
        if (t >= measureStart && t < measureEnd) lag.recordValue(micros(wrote - t));
      }
      p.sent += p.due.length;
      sent += p.due.length;
      p.due.length = 0;
      p.c.socket.write(buf);
      if (s.qos > 0 && p.sent - p.acked > s.maxUnacked) {
        problems.push(`publisher ${p.k} had ${p.sent - p.acked} QoS 1 messages unacknowledged: run stopped`);
        Atomics.store(i32, C.STOP, 1);
      }
    }
    touched.length = 0;
    Atomics.add(i32, C.SENT, sent);
    while (g < total && !ownsIndex(g)) g++;
    // Let PUBACKs and socket drains in at least once a millisecond.
    if (nowNs() - lastYield > 1e6) {
      await yieldIo();
      lastYield = nowNs();
    }
  }
}

/**
 * Waits until a due time as precisely as the machine allows without burning a core: a timer for
 * long waits (so I/O runs), a blocking Atomics.wait for the last ~2 ms, woken early by the typical
 * oversleep (learned as it goes), and a short spin for the remainder — the spin only when this
 * thread's messages are at least 150 µs apart, else it would spin all the time.
 */
class Waiter {
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));
  /** Typical oversleep of Atomics.wait on this machine, ns (~100 µs on a loaded 2-core VM). */
  private early = 100_000;
  private readonly spin: boolean;

  constructor(threadIntervalNs: number) {
    this.spin = threadIntervalNs >= 150_000;
  }

  async until(due: number): Promise<void> {
    for (let round = 0; round < 10_000; round++) {
      const gap = due - nowNs();
      if (gap <= 0) return;
      if (gap > 3e6) {
        await new Promise((r) => setTimeout(r, Math.floor((gap - 2e6) / 1e6)));
        continue;
      }
      if (!this.spin || gap > this.early + 20_000) {
        const want = this.spin ? gap - this.early : gap;
        const t = nowNs();
        Atomics.wait(this.cell, 0, 0, want / 1e6);
        const over = nowNs() - t - want;
        this.early = Math.min(500_000, Math.max(20_000, 0.9 * this.early + 0.1 * over));
        if (!this.spin) return;
        continue;
      }
      while (nowNs() < due) {
        // spin: at most `early` ns, and only when the schedule leaves the thread idle most of the time
      }
      return;
    }
  }
}
