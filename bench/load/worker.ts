/**
 * One load-generator thread. The coordinator gives it a share of a scenario's clients; it connects
 * them, then publishes and receives as told, and reports counts and latencies.
 */
import mqttPacket from 'mqtt-packet';
import { nowNs, PAYLOAD_HEADER, writeStamp } from '../lib/mqtt-wire.js';
import { deliveriesPerPublish } from '../scenarios.js';
import { mapLimit, openClient } from './client.js';
import { openLoop } from './open-loop.js';
import { C, type ConnectionsJob, type RetainedJob, sharedViews, T, type ThroughputJob } from './protocol.js';
import { openPublisher, openSubscriber, stampMessage } from './stamped-clients.js';
import {
  encodeHistogram,
  hooks,
  job,
  lostOf,
  newHistogram,
  post,
  share,
  told,
  yieldIo,
} from './worker-link.js';

// Atomics.waitAsync is in Node 20 (V8) but in TypeScript's lib only from ES2024.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      i: number,
      v: number,
      t: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

const mine = (n: number) => share(n);

async function throughput(j: ThroughputJob): Promise<void> {
  const s = j.scenario;
  const { i32, f64 } = sharedViews(j.shared);
  const fanout = deliveriesPerPublish(s);
  const pairs = s.routing === 'pairs';
  const hist = newHistogram();
  const problems: string[] = [];

  // Pair state (only used for 'pairs'): sent / delivered / acknowledged per pair, and a waker.
  const pairSent = new Float64Array(s.publishers);
  const pairDelivered = new Float64Array(s.publishers);
  const pairAcked = new Float64Array(s.publishers);
  const pairWake: ((() => void) | null)[] = new Array(s.publishers).fill(null);
  const wakePair = (k: number) => {
    const w = pairWake[k];
    pairWake[k] = null;
    w?.();
  };

  const stats = { outOfOrder: 0 };
  const subs = await mapLimit(mine(s.subscribers), 32, (k) =>
    openSubscriber(
      j,
      s,
      k,
      i32,
      stats,
      (buf, p, now) => {
        const ts = buf.readDoubleLE(p);
        if (ts >= f64[T.MEASURE_START]! && ts < f64[T.MEASURE_END]!) {
          hist.recordValue(Math.max(1, Math.round((now - ts) / 1000)));
        }
      },
      (n) => {
        if (!pairs) return;
        pairDelivered[k]! += n;
        wakePair(k);
      },
    ),
  );
  problems.push(...subs.failures);

  const pubs = await mapLimit(mine(s.publishers), 32, (k) =>
    openPublisher(j, s, k, i32, (n) => {
      pairAcked[k]! += n;
      if (pairs) wakePair(k);
    }),
  );
  problems.push(...pubs.failures);

  const allClients = [...subs.results, ...pubs.results.map((p) => p.c)];
  hooks.report = () => {
    const lost = lostOf(allClients);
    return {
      histogram: encodeHistogram(hist),
      outOfOrder: stats.outOfOrder,
      problems: [...problems, ...lost.problems],
      lostConnections: lost.lost,
      connected: allClients.length,
    };
  };
  hooks.close = async () => {
    await Promise.all(allClients.map((c) => c.close()));
  };
  post({ type: 'ready', connected: allClients.length, problems });
  await told('go');

  type Pub = (typeof pubs.results)[number];
  const batchOf = (p: Pub, n: number): Buffer => {
    const len = p.tpl.bytes.length;
    const buf = Buffer.allocUnsafe(n * len);
    const t = nowNs();
    for (let m = 0; m < n; m++) stampMessage(p, buf, m * len, t);
    return buf;
  };
  const stopped = () => Atomics.load(i32, C.STOP) !== 0;
  const waitDrain = (p: Pub) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, 50);
      p.c.socket.once('drain', () => {
        clearTimeout(t);
        r();
      });
    });

  // Shared window: all publishers of all workers together keep at most `window` messages undelivered.
  const pumpShared = async () => {
    const list = pubs.results;
    if (!list.length) return;
    let rr = 0;
    let iter = 0;
    while (!stopped()) {
      const sent = Atomics.load(i32, C.SENT);
      if (sent >= s.maxMessages) break;
      const delivered = Atomics.load(i32, C.DELIVERED);
      const allowed = s.window - Math.ceil((sent * fanout - delivered) / fanout);
      if (allowed <= 0) {
        const w = waitAsync(i32, C.DELIVERED, delivered, 20);
        if (w.async) await w.value;
        continue;
      }
      let p: Pub | undefined;
      for (let tries = 0; tries < list.length && !p; tries++) {
        const c = list[rr++ % list.length]!;
        if (!c.c.socket.writableNeedDrain) p = c;
      }
      if (!p) {
        await waitDrain(list[rr % list.length]!);
        continue;
      }
      const n = Math.min(allowed, s.batch, s.maxMessages - sent);
      Atomics.add(i32, C.SENT, n);
      p.c.socket.write(batchOf(p, n));
      if ((++iter & 31) === 0) await yieldIo();
    }
  };

  // Per-pair window: publisher k keeps at most `window` messages unacknowledged or undelivered.
  const pumpPair = async (p: Pub) => {
    const k = p.k;
    let iter = 0;
    while (!stopped()) {
      const sent = Atomics.load(i32, C.SENT);
      if (sent >= s.maxMessages) break;
      const outstanding = Math.max(pairSent[k]! - pairDelivered[k]!, pairSent[k]! - pairAcked[k]!);
      const allowed = s.window - outstanding;
      if (allowed <= 0 || p.c.socket.writableNeedDrain) {
        await new Promise<void>((r) => {
          pairWake[k] = r;
        });
        continue;
      }
      const n = Math.min(allowed, s.batch, s.maxMessages - sent);
      Atomics.add(i32, C.SENT, n);
      pairSent[k]! += n;
      p.c.socket.write(batchOf(p, n));
      if ((++iter & 15) === 0) await yieldIo();
    }
  };

  hooks.stop.push(() => {
    for (let k = 0; k < s.publishers; k++) wakePair(k);
  });
  if (pairs) await Promise.all(pubs.results.map(pumpPair));
  else await pumpShared();
  if (!stopped()) await told('stop');
  post({ type: 'stopped' });
}

async function connections(j: ConnectionsJob): Promise<void> {
  const s = j.scenario;
  const hist = newHistogram();
  const idx = mine(s.connections);
  post({ type: 'started' });
  await told('go');
  const made = await mapLimit(idx, Math.max(1, Math.ceil(s.concurrency / j.workers)), async (k) => {
    const t0 = nowNs();
    const c = await openClient({
      host: j.host,
      port: j.port,
      clientId: `${j.clientPrefix}-i${k}`,
      keepalive: s.keepalive,
      localAddress: s.sourceAddresses.length ? s.sourceAddresses[k % s.sourceAddresses.length] : undefined,
    });
    hist.recordValue(Math.max(1, Math.round((nowNs() - t0) / 1000)));
    return c;
  });
  const failures = made.failures;
  hooks.report = () => {
    const lost = lostOf(made.results);
    return {
      histogram: encodeHistogram(hist),
      outOfOrder: 0,
      problems: [...failures.slice(0, 5), ...lost.problems],
      lostConnections: lost.lost + failures.length,
      connected: made.results.length - lost.lost,
    };
  };
  hooks.close = async () => {
    // Reset rather than DISCONNECT: 10,000 polite closes leave 10,000 sockets in TIME_WAIT for a
    // minute, on a machine that other runs (and other people's tests) share. Nothing is measured now.
    for (let i = 0; i < made.results.length; i += 500) {
      for (const c of made.results.slice(i, i + 500)) c.reset();
      await yieldIo();
    }
  };
  post({ type: 'ready', connected: made.results.length, problems: failures.slice(0, 5) });
}

async function retained(j: RetainedJob): Promise<void> {
  const s = j.scenario;
  const hist = newHistogram();
  const problems: string[] = [];
  // 1. Store the retained messages: QoS 1 so that every one is known to be stored, 100 in flight.
  const pub = await openClient({
    host: j.host,
    port: j.port,
    clientId: `${j.clientPrefix}-rpub`,
    keepalive: 60,
  });
  let acked = 0;
  let wake: (() => void) | null = null;
  pub.onPuback = () => {
    acked++;
  };
  pub.afterChunk = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const payload = Buffer.alloc(s.payloadBytes);
  let sent = 0;
  const deadline = Date.now() + 60_000;
  while (sent < s.retained && Date.now() < deadline) {
    if (sent - acked >= 100) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
      continue;
    }
    writeStamp(payload, 0, nowNs(), 0, sent);
    pub.socket.write(
      mqttPacket.generate({
        cmd: 'publish',
        topic: `bench/retained/${sent}`,
        qos: 1,
        dup: false,
        retain: true,
        messageId: (sent % 65535) + 1,
        payload,
      }),
    );
    sent++;
  }
  while (acked < sent && Date.now() < deadline) {
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, 100);
    });
  }
  await pub.close();
  if (acked < s.retained) problems.push(`only ${acked} of ${s.retained} retained messages acknowledged`);
  post({ type: 'stored', stored: acked });
  await told('go');

  // 2. Rounds: a new subscriber to `filter` each time; time until all retained messages arrived.
  const rounds: { received: number; notRetained: number; ms: number }[] = [];
  for (let r = 0; r < s.rounds; r++) {
    const sub = await openClient({
      host: j.host,
      port: j.port,
      clientId: `${j.clientPrefix}-rsub${r}`,
      keepalive: 60,
    });
    let received = 0;
    let notRetained = 0;
    let last = 0;
    let done: (() => void) | null = null;
    const t0 = nowNs();
    sub.onPublish = (_buf, p, end, flags) => {
      if (end - p < PAYLOAD_HEADER) return;
      received++;
      if ((flags & 1) === 0) notRetained++;
      hist.recordValue(Math.max(1, Math.round((sub.now - t0) / 1000)));
      last = sub.now;
    };
    sub.afterChunk = () => {
      if (received >= s.retained) done?.();
    };
    const finished = new Promise<void>((res) => {
      done = res;
      setTimeout(res, s.roundTimeoutMs);
    });
    await sub.subscribe(s.filter, s.subscribeQos);
    await finished;
    rounds.push({ received, notRetained, ms: ((last || nowNs()) - t0) / 1e6 });
    if (sub.lostReason) problems.push(`${sub.id}: ${sub.lostReason}`);
    await sub.close();
  }
  hooks.report = () => ({
    histogram: encodeHistogram(hist),
    outOfOrder: 0,
    problems,
    lostConnections: 0,
    rounds,
    stored: acked,
  });
  post({ type: 'done' });
}

const run =
  job.kind === 'throughput'
    ? throughput(job)
    : job.kind === 'connections'
      ? connections(job)
      : job.kind === 'rate'
        ? openLoop(job)
        : retained(job);
run.catch((e: Error) => post({ type: 'error', message: e?.stack ?? String(e) }));
