import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerCore } from '../../src/broker/broker-core.js';
import { SysTopics } from '../../src/broker/sys-topics.js';
import { ErrorCodes } from '../../src/errors.js';
import type { Broker } from '../../src/index.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/index.js';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { withAsyncReads } from './helpers/async-reads.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import { cleanupTempDirs, sessionRecord, tempDir } from './helpers.js';

// Messages queued for offline persistent sessions live in SQLite: only a window per session is in RAM,
// the rest is paged in as the client drains it, in order, exactly once, across restarts.

const N = 100_000;
const brokers: RunningBroker[] = [];
const clients: MqttClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  for (const b of brokers.splice(0)) await b.close();
});
// A real full disk for the failed-batch case (needs root / CAP_SYS_ADMIN; skipped otherwise).
const disk = mountTmpfs('512k', 'queue-paging-full');

afterAll(() => {
  cleanupTempDirs();
  disk.unmount();
});

function core(broker: Broker): BrokerCore {
  return (broker as unknown as { core: BrokerCore }).core;
}

/** A full GC when the flag can be turned on at run time (vitest workers start without --expose-gc). */
let gcWorks = false;
function collect(): void {
  try {
    setFlagsFromString('--expose_gc');
    (runInNewContext('gc') as () => void)();
    gcWorks = true;
  } catch {
    // no gc available: heap figures include garbage, so the bound below is looser
  }
}

async function heapUsed(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    collect();
  }
  // Payload Buffers live outside the JS heap (arrayBuffers): count both.
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function payload(i: number): Buffer {
  return Buffer.from(String(i).padStart(64, '0'));
}

/** How the store answers reads: in the call (SQLite) or later, with a promise (as a networked store). */
let reads: 'synchronous' | 'asynchronous' = 'synchronous';

async function up(dir: string, extra: Parameters<typeof startBroker>[0] = {}): Promise<RunningBroker> {
  const sqlite = openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 2 } });
  const b = await startBroker({
    persistence: reads === 'synchronous' ? sqlite : withAsyncReads(sqlite),
    maxQueuedMessages: 200_000,
    ...extra,
  });
  brokers.push(b);
  return b;
}

function subscriber(b: RunningBroker, clientId: string, extra: IClientOptions = {}): MqttClient {
  const c = mqtt.connect(b.url, {
    clientId,
    clean: false,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...extra,
  });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

async function waitFor(cond: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Subscribes with a persistent session, then goes offline. */
async function subscribeThenLeave(
  b: RunningBroker,
  clientId: string,
  filter: string,
  extra: IClientOptions = {},
): Promise<void> {
  const c = subscriber(b, clientId, extra);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  await c.subscribeAsync(filter, { qos: 1 });
  await c.endAsync();
  await waitFor(() => core(b.broker).connections.size === 0, 'the subscriber to be offline', 5000);
}

/** Reconnects and collects message indices until `count` arrived (acked by MQTT.js as they come). */
async function drain(
  b: RunningBroker,
  clientId: string,
  count: number,
  ms: number,
  extra: IClientOptions = {},
): Promise<number[]> {
  const got: number[] = [];
  const c = subscriber(b, clientId, extra);
  c.on('message', (_topic, p) => got.push(Number(p.toString())));
  await waitFor(() => got.length >= count, `${count} messages (got ${got.length})`, ms);
  // Nothing more: exactly once.
  await new Promise((r) => setTimeout(r, 300));
  return got;
}

describe('offline queues are paged from SQLite', () => {
  it('100,000 queued QoS 1 messages do not grow the heap by 100,000 messages, and all arrive in order', async () => {
    const b = await up(tempDir('ms-paging-'));
    await subscribeThenLeave(b, 'pager', 'fleet/#');
    const session = core(b.broker).sessions.get('pager')!;
    const before = await heapUsed();
    let maxInMemory = 0;
    const started = Date.now();
    for (let i = 0; i < N; i++) {
      b.broker.publish({ topic: 'fleet/data', payload: payload(i), qos: 1 });
      if (i % 1000 === 999) {
        maxInMemory = Math.max(maxInMemory, session.queue.length);
        await new Promise((r) => setImmediate(r)); // let the store commit, as network input would
      }
      if (Date.now() - started > 90_000) throw new Error(`publishing too slow: ${i} in 90 s`);
    }
    maxInMemory = Math.max(maxInMemory, session.queue.length);
    const after = await heapUsed();
    const growthMB = (after - before) / 2 ** 20;
    console.log(
      `queue-paging: heap growth for ${N} queued messages: ${growthMB.toFixed(1)} MB, ` +
        `max in memory ${maxInMemory}, gc ${gcWorks ? 'run' : 'unavailable'}`,
    );
    // All 100,000 in memory grew it by about 37 MB (heap 31 MB + payloads) before paging; now < 1 MB.
    expect(growthMB).toBeLessThan(gcWorks ? 10 : 30);
    expect(maxInMemory).toBeLessThanOrEqual(256);
    expect(session.queuedCount).toBe(N);

    const got = await drain(b, 'pager', N, 150_000);
    expect(got.length).toBe(N);
    let inOrder = true;
    for (let i = 0; i < N; i++) if (got[i] !== i) inOrder = false;
    expect(inOrder).toBe(true);
    expect(session.queuedCount).toBe(0);
  }, 300_000);
});

function store(b: RunningBroker): Pick<SqliteStore, 'readQueue' | 'afterDurable'> {
  return core(b.broker).options.persistence as SqliteStore;
}

function durable(b: RunningBroker): Promise<void> {
  return new Promise((resolve, reject) => store(b).afterDurable((err) => (err ? reject(err) : resolve())));
}

function publishRange(
  b: RunningBroker,
  topic: string,
  from: number,
  to: number,
  expirySeconds?: number,
): void {
  for (let i = from; i < to; i++) {
    b.broker.publish({
      topic,
      payload: payload(i),
      qos: 1,
      ...(expirySeconds === undefined ? {} : { properties: { messageExpiryInterval: expirySeconds } }),
    });
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

// The same behaviour whether the store answers reads at once or later (a networked store).
describe.each(['synchronous', 'asynchronous'] as const)('paged offline queues, %s reads', (how) => {
  beforeEach(() => {
    reads = how;
  });
  afterEach(() => {
    reads = 'synchronous';
  });

  it('keep the rows beyond the window across a restart and deliver them in order', async () => {
    const dir = tempDir('ms-paging-restart-');
    const first = await up(dir);
    await subscribeThenLeave(first, 'keeper', 'r/#');
    publishRange(first, 'r/x', 0, 1000);
    const s1 = core(first.broker).sessions.get('keeper')!;
    expect([s1.queue.length, s1.queuedOnDisk]).toEqual([256, 744]);
    await durable(first);
    await first.close();
    brokers.splice(brokers.indexOf(first), 1);

    const second = await up(dir);
    const s2 = core(second.broker).sessions.get('keeper')!;
    // Only the head was read at start; the rest waits on disk.
    expect([s2.queue.length, s2.queuedOnDisk]).toEqual([256, 744]);
    publishRange(second, 'r/x', 1000, 1010);
    expect(s2.queuedCount).toBe(1010);
    const got = await drain(second, 'keeper', 1010, 20_000);
    expect(got).toEqual(range(0, 1010));
    expect(s2.queuedCount).toBe(0);
    // load and every page-in went through the store's reads (as promises, in the asynchronous run)
    const persistence = core(second.broker).options.persistence as { reads?: number };
    if (how === 'asynchronous') expect(persistence.reads).toBeGreaterThanOrEqual(4);
    await durable(second);
    expect(await store(second).readQueue('keeper', 0, 10)).toEqual([]);
  }, 30_000);

  it('drops messages that expired while on disk when they are paged in, and counts them', async () => {
    const b = await up(tempDir('ms-paging-expiry-'), { queueWindow: 4 });
    await subscribeThenLeave(b, 'late', 'e/#');
    publishRange(b, 'e/x', 0, 5);
    publishRange(b, 'e/x', 5, 10, 1); // beyond the window of 4: on disk only
    publishRange(b, 'e/x', 10, 12);
    const session = core(b.broker).sessions.get('late')!;
    expect([session.queue.length, session.queuedOnDisk]).toEqual([4, 8]);
    await new Promise((r) => setTimeout(r, 1100));
    const expiredBefore = b.broker.stats.publishExpired;
    const got = await drain(b, 'late', 7, 10_000);
    expect(got).toEqual([0, 1, 2, 3, 4, 10, 11]);
    expect(b.broker.stats.publishExpired - expiredBefore).toBe(5);
    expect(session.queuedCount).toBe(0);
    await durable(b);
    expect(await store(b).readQueue('late', 0, 10)).toEqual([]); // the expired rows left the disk too
  }, 20_000);

  it('bounds memory + disk by max_queued_messages, counts the drops, and reports both in $SYS', async () => {
    const b = await up(tempDir('ms-paging-max-'), { maxQueuedMessages: 10, queueWindow: 4 } as never);
    await subscribeThenLeave(b, 'full', 'm/#');
    const droppedBefore = b.broker.stats.publishDropped;
    publishRange(b, 'm/x', 0, 15);
    const session = core(b.broker).sessions.get('full')!;
    expect([session.queue.length, session.queuedOnDisk]).toEqual([4, 6]);
    expect(b.broker.stats.publishDropped - droppedBefore).toBe(5);
    expect(new SysTopics(core(b.broker)).values()['$SYS/broker/store/messages/count']).toBe('10');
    const got = await drain(b, 'full', 10, 10_000);
    expect(got).toEqual(range(0, 10));
  }, 20_000);

  it('moves the whole queue into memory when the session stops being persistent (v5 expiry 0)', async () => {
    const b = await up(tempDir('ms-paging-unjournal-'), { queueWindow: 4 });
    await subscribeThenLeave(b, 'v5', 'u/#', {
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 3600 },
    });
    publishRange(b, 'u/x', 0, 20);
    const session = core(b.broker).sessions.get('v5')!;
    expect([session.queue.length, session.queuedOnDisk]).toEqual([4, 16]);
    const got = await drain(b, 'v5', 20, 10_000, {
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 0 },
    });
    expect(got).toEqual(range(0, 20));
    expect(session.journal).toBeUndefined();
  }, 20_000);

  it('readQueue sees committed rows and rows of the uncommitted batch, in order; load(limit) reads the head of a queue', () => {
    const dir = tempDir('ms-paging-store-');
    const st = openSqliteStore({ dir, policy: { mode: 'periodic', intervalSeconds: 3600 } });
    try {
      const d = (i: number) => ({
        message: { topic: 'p/x', payload: payload(i), qos: 1 as const, retain: false, receivedAt: 1 },
        qos: 1 as const,
        retain: false,
      });
      for (let i = 1; i <= 5; i++) expect(st.enqueue('c', d(i))).toBe(i);
      expect(st.flush()).toBeUndefined();
      for (let i = 6; i <= 8; i++) st.enqueue('c', d(i)); // pending
      st.dequeue('c', 7); // written and deleted within one batch: never reaches the disk
      const seqs = (after: number, limit: number) => st.readQueue('c', after, limit).map((q) => q.seq);
      expect(seqs(0, 100)).toEqual([1, 2, 3, 4, 5, 6, 8]);
      expect(seqs(3, 3)).toEqual([4, 5, 6]);
      expect(seqs(5, 10)).toEqual([6, 8]);
      expect(st.readQueue('c', 4, 1)[0]!.delivery.message.payload.equals(payload(5))).toBe(true);
      st.dequeue('c', 6); // a paged-in pending row dequeued: its insert is skipped
      st.dequeue('c', 1); // a committed row: its delete is written
      expect(seqs(0, 100)).toEqual([2, 3, 4, 5, 8]);
      expect(st.flush()).toBeUndefined();
      expect(seqs(0, 100)).toEqual([2, 3, 4, 5, 8]);
      st.saveSession(sessionRecord('c'));
      const [c] = st.load(2).sessions;
      expect(c!.queued.map((q) => q.seq)).toEqual([2, 3]);
      expect(c!.queuedCount).toBe(5);
      expect(st.load().sessions[0]!.queued.map((q) => q.seq)).toEqual([2, 3, 4, 5, 8]);
    } finally {
      st.close();
    }
  });
});

describe.skipIf(disk.problem !== undefined)('paged queue on a full disk', () => {
  it('readQueue sees rows of a batch that failed and waits for a retry; a paged-in row dequeued then stays deleted', () => {
    const dir = join(disk.mountPoint, 'data');
    mkdirSync(dir);
    const st = openSqliteStore({ dir, policy: { mode: 'periodic', intervalSeconds: 3600 } });
    try {
      const d = (i: number, size = 64) => ({
        message: {
          topic: 'f/x',
          payload: Buffer.alloc(size, i),
          qos: 1 as const,
          retain: false,
          receivedAt: 1,
        },
        qos: 1 as const,
        retain: false,
      });
      st.saveSession(sessionRecord('c'));
      st.enqueue('c', d(1));
      expect(st.flush()).toBeUndefined();
      const filler = disk.fill();
      st.enqueue('c', d(2, 100 * 1024)); // needs new pages: there is no room
      st.enqueue('c', d(3));
      st.enqueue('c', d(4));
      expect(st.flush()?.code).toBe(ErrorCodes.STORE_FULL);
      const seqs = (after: number) => st.readQueue('c', after, 100).map((q) => q.seq);
      expect(seqs(0)).toEqual([1, 2, 3, 4]);
      expect(st.readQueue('c', 1, 1)[0]!.delivery.message.payload.length).toBe(100 * 1024);
      st.dequeue('c', 2); // paged in and sent while its insert waits for the retry
      expect(seqs(0)).toEqual([1, 3, 4]);
      unlinkSync(filler);
      expect(st.flush()).toBeUndefined();
      expect(seqs(0)).toEqual([1, 3, 4]);
      expect(st.load().sessions[0]!.queued.map((q) => q.seq)).toEqual([1, 3, 4]);
    } finally {
      st.close();
    }
  });
});
