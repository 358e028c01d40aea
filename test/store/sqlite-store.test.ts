import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { MessageProperties } from '../../src/broker/types.js';
import { ErrorCodes, MothershipError } from '../../src/errors.js';
import { decodeJson, encodeJson, openSqliteStore, type SqliteStore } from '../../src/store/index.js';
import { ALL_BYTES, cleanupTempDirs, delivery, durable, message, sessionRecord, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const grouped = { mode: 'grouped', maxDelayMs: 2 } as const;

const fullProperties: MessageProperties = {
  payloadFormatIndicator: true,
  messageExpiryInterval: 120,
  contentType: 'application/octet-stream',
  responseTopic: 'reply/to/me',
  correlationData: Buffer.from([0, 255, 1, 254, 0x7b, 0x22]),
  userProperties: { single: 'one', many: ['a', 'b', 'a'], $buf: 'not a buffer', empty: '' },
};

function reopen(store: SqliteStore, dir: string): SqliteStore {
  store.close();
  return openSqliteStore({ dir, policy: grouped });
}

describe('SqliteStore round trips', () => {
  it('creates <dir>/mothership.db in WAL mode, creating missing directories', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = openSqliteStore({ dir, policy: grouped });
    expect(store.file).toBe(join(dir, 'mothership.db'));
    expect(existsSync(store.file)).toBe(true);
    store.close();
    const raw = new Database(join(dir, 'mothership.db'));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('sets synchronous=FULL for every-message and grouped, NORMAL for periodic', () => {
    const sync = (policy: Parameters<typeof openSqliteStore>[0]['policy']) => {
      const store = openSqliteStore({ dir: tempDir(), policy });
      // The setting is per connection, so ask the store's own connection.
      const value = (store as unknown as { db: Database.Database }).db.pragma('synchronous', {
        simple: true,
      });
      store.close();
      return value;
    };
    expect(sync({ mode: 'every-message' })).toBe(2);
    expect(sync(grouped)).toBe(2);
    expect(sync({ mode: 'periodic', intervalSeconds: 5 })).toBe(1);
  });

  it('keeps retained messages with binary payloads and every v5 property, exactly', async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    const binary = message('sensors/raw', ALL_BYTES, { retain: true, qos: 2, properties: fullProperties });
    const empty = message('sensors/empty', Buffer.alloc(0), { retain: true, qos: 0 });
    const plain = message('machine1/status', 'online', { retain: true });
    store.saveRetained(binary);
    store.saveRetained(empty);
    store.saveRetained(plain);
    store.saveRetained(message('gone', 'x', { retain: true }));
    store.deleteRetained('gone');
    expect(await durable(store)).toBeUndefined();
    store = reopen(store, dir);
    const { retained } = store.load();
    expect(retained).toEqual([empty, binary, plain].sort((a, b) => a.topic.localeCompare(b.topic)));
    const back = retained.find((m) => m.topic === 'sensors/raw')!;
    expect(Buffer.isBuffer(back.payload)).toBe(true);
    expect(back.payload.equals(ALL_BYTES)).toBe(true);
    expect(Buffer.isBuffer(back.properties!.correlationData)).toBe(true);
    expect(back.properties!.correlationData!.equals(fullProperties.correlationData!)).toBe(true);
    expect(back.properties!.userProperties).toEqual(fullProperties.userProperties);
    expect(retained.find((m) => m.topic === 'sensors/empty')!.payload.length).toBe(0);
    // Replacing a retained message keeps one row.
    store.saveRetained(message('machine1/status', 'offline', { retain: true }));
    await durable(store);
    store = reopen(store, dir);
    expect(
      store
        .load()
        .retained.filter((m) => m.topic === 'machine1/status')
        .map((m) => m.payload.toString()),
    ).toEqual(['offline']);
    store.close();
  });

  it('keeps sessions with wills (binary payload, properties), deadlines and usernames', async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    const withWill = sessionRecord('machine1', {
      protocolVersion: 5,
      username: 'board',
      expiryInterval: 0xffffffff,
      expiresAt: 1_795_000_123_456,
      will: {
        message: message('machine1/status', Buffer.from([0, 1, 2, 3]), {
          retain: true,
          qos: 1,
          properties: fullProperties,
        }),
        delaySeconds: 30,
      },
      willDueAt: 1_795_000_030_000,
    });
    const v3 = sessionRecord('old-board', { protocolVersion: 3 });
    store.saveSession(withWill);
    store.saveSession(v3);
    store.saveSession({ ...v3, protocolVersion: 4, username: 'renamed' });
    await durable(store);
    store = reopen(store, dir);
    const sessions = store.load().sessions;
    expect(sessions.map((s) => s.record)).toEqual([
      withWill,
      { ...v3, protocolVersion: 4, username: 'renamed' },
    ]);
    const will = sessions[0]!.record.will!;
    expect(will.message.payload.equals(Buffer.from([0, 1, 2, 3]))).toBe(true);
    expect(will.message.properties!.correlationData!.equals(fullProperties.correlationData!)).toBe(true);
    // Fields that are undefined come back as undefined (not null).
    expect(sessions[1]!.record.expiresAt).toBeUndefined();
    expect(sessions[1]!.record.will).toBeUndefined();
    store.close();
  });

  it('keeps subscriptions in first-subscribed order with their options; updates keep the place', async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    store.saveSession(sessionRecord('c'));
    const opts = (qos: 0 | 1 | 2, extra = {}) => ({
      qos,
      noLocal: false,
      retainAsPublished: false,
      retainHandling: 0 as const,
      ...extra,
    });
    store.saveSubscription('c', 'a/#', opts(1));
    store.saveSubscription(
      'c',
      '$share/g/b/+',
      opts(2, { noLocal: true, subscriptionIdentifier: 268435455 }),
    );
    store.saveSubscription('c', 'c', opts(0, { retainAsPublished: true, retainHandling: 2 }));
    store.saveSubscription('c', 'a/#', opts(2, { retainHandling: 1 }));
    store.deleteSubscription('c', 'c');
    store.saveSubscription('nobody', 'x', opts(0)); // no session record: not returned
    await durable(store);
    store = reopen(store, dir);
    const [s] = store.load().sessions;
    expect(s!.subscriptions).toEqual([
      { filter: 'a/#', options: opts(2, { retainHandling: 1 }) },
      { filter: '$share/g/b/+', options: opts(2, { noLocal: true, subscriptionIdentifier: 268435455 }) },
    ]);
    expect(store.load().sessions).toHaveLength(1);
    store.close();
  });

  it('keeps the offline queue in seq order, with increasing seqs that continue after reopening', async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    store.saveSession(sessionRecord('c'));
    store.saveSession(sessionRecord('d'));
    const d1 = delivery('t/1', ALL_BYTES, { qos: 2, retain: true, subscriptionIds: [1, 7] });
    d1.message.properties = fullProperties;
    d1.message.qos = 2;
    const seqs = [
      store.enqueue('c', d1),
      store.enqueue('c', delivery('t/2', 'two')),
      store.enqueue('d', delivery('t/x', 'other client')),
      store.enqueue('c', delivery('t/3', Buffer.alloc(0), { qos: 0 })),
      store.enqueue('c', delivery('t/4', 'four')),
    ];
    expect(seqs).toEqual([1, 2, 1, 3, 4]);
    store.dequeue('c', 2);
    await durable(store);
    store = reopen(store, dir);
    const c = store.load().sessions.find((s) => s.record.clientId === 'c')!;
    expect(c.queued.map((q) => q.seq)).toEqual([1, 3, 4]);
    expect(c.queued[0]!.delivery).toEqual(d1);
    expect(c.queued[0]!.delivery.message.payload.equals(ALL_BYTES)).toBe(true);
    expect(c.queued[1]!.delivery).toEqual(delivery('t/3', Buffer.alloc(0), { qos: 0 }));
    expect(c.queued[2]!.delivery.subscriptionIds).toBeUndefined();
    // The counter is seeded from MAX(seq): new entries sort after the old ones.
    expect(store.enqueue('c', delivery('t/5', 'five'))).toBe(5);
    expect(store.enqueue('d', delivery('t/y', 'y'))).toBe(2);
    expect(store.enqueue('new', delivery('t/z', 'z'))).toBe(1);
    await durable(store);
    store = reopen(store, dir);
    expect(
      store
        .load()
        .sessions.find((s) => s.record.clientId === 'c')!
        .queued.map((q) => q.seq),
    ).toEqual([1, 3, 4, 5]);
    store.close();
  });

  it('keeps in-flight entries in insertion order; a state change keeps the place', async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    store.saveSession(sessionRecord('c'));
    const a = delivery('in/a', 'a', { qos: 2 });
    store.saveInflight('c', { packetId: 500, delivery: a, state: 'awaiting-pubrec' });
    store.saveInflight('c', { packetId: 2, delivery: delivery('in/b', ALL_BYTES), state: 'awaiting-puback' });
    store.saveInflight('c', { packetId: 65535, delivery: delivery('in/c', 'c'), state: 'awaiting-puback' });
    store.saveInflight('c', { packetId: 500, delivery: a, state: 'awaiting-pubcomp' });
    store.deleteInflight('c', 65535);
    store.saveInflight('c', { packetId: 1, delivery: delivery('in/d', 'd'), state: 'awaiting-puback' });
    await durable(store);
    store = reopen(store, dir);
    const [s] = store.load().sessions;
    expect(s!.inflight.map((e) => [e.packetId, e.state])).toEqual([
      [500, 'awaiting-pubcomp'],
      [2, 'awaiting-puback'],
      [1, 'awaiting-puback'],
    ]);
    expect(s!.inflight[0]!.delivery).toEqual(a);
    expect(s!.inflight[1]!.delivery.message.payload.equals(ALL_BYTES)).toBe(true);
    // Order continues after reopening.
    store.saveInflight('c', { packetId: 3, delivery: delivery('in/e', 'e'), state: 'awaiting-puback' });
    await durable(store);
    store = reopen(store, dir);
    expect(store.load().sessions[0]!.inflight.map((e) => e.packetId)).toEqual([500, 2, 1, 3]);
    store.close();
  });

  it('keeps inbound QoS 2 packet ids; deleteSession removes everything of that client only', async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    for (const id of ['keep', 'drop']) {
      store.saveSession(sessionRecord(id));
      store.saveSubscription(id, 'a', {
        qos: 1,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 0,
      });
      store.enqueue(id, delivery('a', id));
      store.saveInflight(id, { packetId: 9, delivery: delivery('a', id), state: 'awaiting-puback' });
      store.saveInboundQos2(id, 10);
      store.saveInboundQos2(id, 11, message('held/one', ALL_BYTES, { qos: 2, retain: true }));
      store.saveInboundQos2(id, 10);
    }
    store.deleteInboundQos2('keep', 10);
    store.deleteSession('drop');
    await durable(store);
    store = reopen(store, dir);
    const { sessions } = store.load();
    expect(sessions.map((s) => s.record.clientId)).toEqual(['keep']);
    // A held QoS 2 message comes back whole, to be routed at PUBREL.
    expect(sessions[0]!.inboundQos2).toEqual([
      { packetId: 11, message: message('held/one', ALL_BYTES, { qos: 2, retain: true }) },
    ]);
    expect(sessions[0]!.subscriptions).toHaveLength(1);
    expect(sessions[0]!.queued).toHaveLength(1);
    expect(sessions[0]!.inflight).toHaveLength(1);
    store.close();
    const raw = new Database(join(dir, 'mothership.db'));
    for (const table of ['sessions', 'subscriptions', 'queue', 'inflight', 'inbound_qos2']) {
      expect(raw.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE client_id = 'drop'`).get()).toEqual({
        n: 0,
      });
    }
    raw.close();
  });

  it('applies writes in call order (a delete after a save wins, a save after a delete wins)', async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    store.saveRetained(message('x', '1', { retain: true }));
    store.deleteRetained('x');
    store.saveRetained(message('y', '1', { retain: true }));
    store.deleteRetained('y');
    store.saveRetained(message('y', '2', { retain: true }));
    store.saveSession(sessionRecord('s'));
    store.enqueue('s', delivery('q', 'old'));
    store.deleteSession('s');
    store.saveSession(sessionRecord('s', { username: 'again' }));
    store.enqueue('s', delivery('q', 'new'));
    await durable(store);
    store = reopen(store, dir);
    const { retained, sessions } = store.load();
    expect(retained.map((m) => [m.topic, m.payload.toString()])).toEqual([['y', '2']]);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.record.username).toBe('again');
    expect(sessions[0]!.queued.map((q) => [q.seq, q.delivery.message.payload.toString()])).toEqual([
      [2, 'new'],
    ]);
    store.close();
  });

  it('load() includes writes not yet committed; close() commits what is pending', () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: { mode: 'periodic', intervalSeconds: 3600 } });
    store.saveRetained(message('a', 'b', { retain: true }));
    expect(store.load().retained).toHaveLength(1);
    store.saveRetained(message('c', 'd', { retain: true }));
    store.close();
    store = openSqliteStore({ dir, policy: grouped });
    expect(store.load().retained.map((m) => m.topic)).toEqual(['a', 'c']);
    store.close();
  });

  it('refuses use after close with STORE_CLOSED', async () => {
    const store = openSqliteStore({ dir: tempDir(), policy: grouped });
    store.close();
    store.close(); // idempotent
    expect(() => store.saveRetained(message('a', 'b'))).toThrow(MothershipError);
    const err = await durable(store);
    expect(err).toBeInstanceOf(MothershipError);
    expect((err as MothershipError).code).toBe(ErrorCodes.STORE_CLOSED);
  });

  it('encodes Buffers in JSON with a marker no MQTT string can contain', () => {
    const value = { a: Buffer.from('hi'), b: [Buffer.alloc(0)], c: { $buf: 'x' }, d: { '\u0000buffe': 'y' } };
    const text = encodeJson(value);
    const back = decodeJson<typeof value>(text);
    expect(back).toEqual(value);
    expect(Buffer.isBuffer(back.a) && Buffer.isBuffer(back.b[0])).toBe(true);
  });
});

describe('SqliteStore durability policies', () => {
  it("'grouped': many afterDurable calls in one tick complete after ONE transaction", async () => {
    const store = openSqliteStore({ dir: tempDir(), policy: grouped });
    store.saveSession(sessionRecord('c'));
    await durable(store);
    const before = store.stats().transactions;
    const seen: { i: number; err: Error | undefined; transactions: number; pending: number }[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      store.enqueue('c', delivery('t', `m${i}`));
      all.push(
        new Promise((resolve) =>
          store.afterDurable((err) => {
            const s = store.stats();
            seen.push({ i, err, transactions: s.transactions, pending: s.pendingOps });
            resolve();
          }),
        ),
      );
    }
    expect(seen).toHaveLength(0); // never called synchronously
    expect(store.stats().transactions).toBe(before);
    await Promise.all(all);
    expect(store.stats().transactions).toBe(before + 1);
    expect(seen.map((s) => s.i)).toEqual(Array.from({ length: 500 }, (_, i) => i)); // in call order
    for (const s of seen) {
      expect(s.err).toBeUndefined();
      expect(s.transactions).toBe(before + 1); // called only once the commit happened
      expect(s.pending).toBe(0);
    }
    store.close();
  });

  it("'grouped': waits up to maxDelayMs for more writes, but commits at once past maxBatchOps", async () => {
    const store = openSqliteStore({
      dir: tempDir(),
      policy: { mode: 'grouped', maxDelayMs: 300 },
      maxBatchOps: 1000,
    });
    store.saveSession(sessionRecord('c'));
    const t0 = performance.now();
    await durable(store);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    const before = store.stats().transactions;
    for (let i = 0; i < 1500; i++) store.enqueue('c', delivery('t', `m${i}`));
    expect(store.stats().transactions).toBe(before); // never committed synchronously
    // "At once" = on the next turn of the event loop, not when the 300 ms timer fires. The store's
    // setImmediate was queued during the loop above, so it runs before this one. (A wall-clock
    // bound here failed under CPU contention: 1500 enqueues plus an fsync took 270 ms.)
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.stats().transactions).toBe(before + 1);
    expect(store.stats().pendingOps).toBe(0);
    expect(await durable(store)).toBeUndefined();
    expect(store.stats().transactions).toBe(before + 1);
    expect(store.load().sessions[0]!.queued).toHaveLength(1500);
    store.close();
  });

  it("'grouped' with maxDelayMs 0: one transaction per turn of the event loop", async () => {
    const store = openSqliteStore({ dir: tempDir(), policy: { mode: 'grouped', maxDelayMs: 0 } });
    store.saveSession(sessionRecord('c'));
    const all: Promise<Error | undefined>[] = [];
    for (let i = 0; i < 200; i++) {
      store.enqueue('c', delivery('t', `m${i}`));
      all.push(durable(store));
    }
    expect((await Promise.all(all)).every((e) => e === undefined)).toBe(true);
    expect(store.stats().transactions).toBe(1);
    store.close();
  });

  it("'grouped': afterDurable with nothing pending still calls back (asynchronously)", async () => {
    const store = openSqliteStore({ dir: tempDir(), policy: grouped });
    let called = false;
    const p = new Promise<Error | undefined>((resolve) =>
      store.afterDurable((err) => {
        called = true;
        resolve(err);
      }),
    );
    expect(called).toBe(false);
    expect(await p).toBeUndefined();
    expect(store.stats().transactions).toBe(0);
    store.close();
  });

  it("'every-message': one transaction (one fsync) per afterDurable", async () => {
    const store = openSqliteStore({ dir: tempDir(), policy: { mode: 'every-message' } });
    store.saveSession(sessionRecord('c'));
    await durable(store);
    const before = store.stats().transactions;
    const all: Promise<Error | undefined>[] = [];
    for (let i = 0; i < 20; i++) {
      store.enqueue('c', delivery('t', `m${i}`));
      all.push(durable(store));
    }
    const errs = await Promise.all(all);
    expect(errs.every((e) => e === undefined)).toBe(true);
    expect(store.stats().transactions).toBe(before + 20);
    // Writes nobody waits for are committed on the next turn anyway.
    store.dequeue('c', 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(store.stats().pendingOps).toBe(0);
    store.close();
  });

  it("'periodic': acknowledges at once and commits every intervalSeconds", async () => {
    const store = openSqliteStore({ dir: tempDir(), policy: { mode: 'periodic', intervalSeconds: 1 } });
    store.saveSession(sessionRecord('c'));
    store.enqueue('c', delivery('t', 'm'));
    expect(await durable(store)).toBeUndefined();
    // "At once": acknowledged before the 1 s commit, so nothing was written yet.
    expect(store.stats().transactions).toBe(0);
    expect(store.stats().pendingOps).toBe(2);
    const deadline = Date.now() + 3000;
    while (store.stats().transactions === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(store.stats().transactions).toBe(1);
    expect(store.stats().pendingOps).toBe(0);
    store.close();
  });
});

describe('rows written and removed within one commit', () => {
  it('an in-flight message acknowledged before its batch commits is never written; an older committed row still goes', async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    store.saveSession(sessionRecord('c'));
    store.saveInflight('c', { packetId: 1, delivery: delivery('t', 'committed'), state: 'awaiting-pubrec' });
    await durable(store);
    const before = store.stats().transactions;
    // Next batch: the committed row changes state and is then done; a new row comes and goes.
    store.saveInflight('c', { packetId: 1, delivery: delivery('t', 'committed'), state: 'awaiting-pubcomp' });
    store.deleteInflight('c', 1);
    store.saveInflight('c', { packetId: 2, delivery: delivery('t', 'brief'), state: 'awaiting-puback' });
    store.deleteInflight('c', 2);
    store.enqueue('c', delivery('q', 'brief'));
    store.dequeue('c', 1);
    const ops = store.stats().opsCommitted;
    await durable(store);
    expect(store.stats().transactions).toBe(before + 1);
    // Only the delete of the row that was on disk is written: the brief rows cost nothing.
    expect(store.stats().opsCommitted - ops).toBe(1);
    store = reopen(store, dir);
    const [s] = store.load().sessions;
    expect(s!.inflight).toEqual([]);
    expect(s!.queued).toEqual([]);
    store.close();
  });

  it("a state change inside one batch keeps the first insert's place in the order", async () => {
    const dir = tempDir();
    let store = openSqliteStore({ dir, policy: grouped });
    store.saveSession(sessionRecord('c'));
    store.saveInflight('c', { packetId: 5, delivery: delivery('t', 'first'), state: 'awaiting-pubrec' });
    store.saveInflight('c', { packetId: 6, delivery: delivery('t', 'second'), state: 'awaiting-puback' });
    store.saveInflight('c', { packetId: 5, delivery: delivery('t', 'first'), state: 'awaiting-pubcomp' });
    await durable(store);
    store = reopen(store, dir);
    const [s] = store.load().sessions;
    expect(s!.inflight.map((i) => [i.packetId, i.state])).toEqual([
      [5, 'awaiting-pubcomp'],
      [6, 'awaiting-puback'],
    ]);
    store.close();
  });
});
