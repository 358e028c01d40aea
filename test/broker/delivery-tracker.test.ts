import type { IPubackPacket, IPublishPacket } from 'mqtt-packet';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/index.js';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { cleanupTempDirs, tempDir } from '../store/helpers.js';

// With persistence on, a publisher's PUBACK waits until its message is safe: either every online
// persistent-session subscriber has acknowledged it (no in-flight row is ever written), or the rows
// are durable. The store's commit is held back (60 s) so that only the first path can answer quickly;
// tests call store.flush() to commit when they mean to.

const brokers: RunningBroker[] = [];
const raws: RawClient[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.destroy();
  for (const b of brokers.splice(0)) await b.close();
});
afterAll(cleanupTempDirs);

function openStore(dir: string): SqliteStore {
  return openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 60_000 } });
}

/** By default rows wait a minute for the PUBACK, so a slow test machine cannot make them written. */
async function start(store: SqliteStore, inflightWriteDelayMs = 60_000): Promise<RunningBroker> {
  const b = await startBroker({ persistence: store, inflightWriteDelayMs });
  brokers.push(b);
  return b;
}

async function client(port: number, connect: Parameters<typeof RawClient.connected>[1]): Promise<RawClient> {
  const { client } = await RawClient.connected(port, connect);
  raws.push(client);
  return client;
}

/** A persistent v5 session subscribed to `filter` at QoS 1 (its SUBACK waits for the commit). */
async function persistentSubscriber(
  port: number,
  store: SqliteStore,
  clientId: string,
  filter: string,
): Promise<RawClient> {
  const sub = await client(port, {
    protocolVersion: 5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
  });
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] });
  // The SUBACK waits for the commit: commit until it comes.
  for (let i = 0; i < 100 && !sub.packets.some((p) => p.cmd === 'suback'); i++) {
    store.flush();
    await new Promise((r) => setTimeout(r, 20));
  }
  await sub.next('suback');
  return sub;
}

function publish(c: RawClient, topic: string, messageId: number): void {
  c.send({ cmd: 'publish', topic, payload: Buffer.from(`m${messageId}`), qos: 1, messageId, retain: false });
}

function inflightRows(store: SqliteStore, clientId: string) {
  return store.load().sessions.find((s) => s.record.clientId === clientId)?.inflight ?? [];
}

describe('publisher acknowledgements with persistence on', () => {
  it('a QoS 1 message every persistent subscriber acknowledged is PUBACKed before the commit, and its in-flight row is never written', async () => {
    const store = openStore(tempDir());
    const { port } = await start(store);
    const sub = await persistentSubscriber(port, store, 'sub-fast', 'sensors/#');
    const pub = await client(port, { clientId: 'pub-fast' });
    const committed = store.stats().opsCommitted;

    publish(pub, 'sensors/t', 7);
    const got = (await sub.next('publish')) as IPublishPacket;
    sub.send({ cmd: 'puback', messageId: got.messageId, reasonCode: 0 });
    // The commit is 60 s away: only the subscriber's PUBACK can release the publisher's.
    expect(((await pub.next('puback')) as IPubackPacket).messageId).toBe(7);

    store.flush();
    expect(store.stats().opsCommitted).toBe(committed);
    expect(inflightRows(store, 'sub-fast')).toEqual([]);
  });

  it("a subscriber that withholds its PUBACK: its row is written after inflightWriteDelayMs, and the publisher's PUBACK waits until it is durable", async () => {
    const dir = tempDir();
    const store = openStore(dir);
    const { port } = await start(store, 50);
    const sub = await persistentSubscriber(port, store, 'sub-slow', 'sensors/#');
    const pub = await client(port, { clientId: 'pub-slow' });

    publish(pub, 'sensors/t', 8);
    await sub.next('publish'); // and never acknowledged
    expect(await pub.nothing('puback', 400)).toBe(true);
    expect(store.stats().pendingOps).toBeGreaterThan(0); // the row, written but not committed

    store.flush();
    expect(((await pub.next('puback')) as IPubackPacket).messageId).toBe(8);
    const rows = inflightRows(store, 'sub-slow');
    expect(rows.map((r) => r.delivery.message.payload.toString())).toEqual(['m8']);
  });

  it('a subscriber that disconnects before acknowledging: the row is written at once and the message is resent with DUP after a restart', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    const b = await start(store);
    const sub = await persistentSubscriber(b.port, store, 'sub-gone', 'sensors/#');
    const pub = await client(b.port, { clientId: 'pub-gone' });

    publish(pub, 'sensors/t', 9);
    await sub.next('publish');
    sub.destroy();
    await sub.waitClosed();
    await new Promise((r) => setTimeout(r, 50)); // the broker sees the socket close
    store.flush();
    expect(((await pub.next('puback')) as IPubackPacket).messageId).toBe(9);

    await b.close();
    brokers.splice(brokers.indexOf(b), 1);
    const again = openStore(dir);
    const b2 = await start(again);
    const back = await client(b2.port, {
      protocolVersion: 5,
      clientId: 'sub-gone',
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    const resent = (await back.next('publish')) as IPublishPacket;
    expect(resent.dup).toBe(true);
    expect(resent.payload.toString()).toBe('m9');
  });

  it('acknowledgements keep the publishing order: a message waiting for the commit holds back a later one already safe', async () => {
    const store = openStore(tempDir());
    const { port } = await start(store);
    // An offline persistent session: a message for it is queued on disk and waits for the commit.
    const offline = await persistentSubscriber(port, store, 'sub-offline', 'queued/#');
    offline.send({ cmd: 'disconnect' });
    await offline.waitClosed();
    const online = await persistentSubscriber(port, store, 'sub-online', 'live/#');
    const pub = await client(port, { clientId: 'pub-order' });

    publish(pub, 'queued/x', 1);
    publish(pub, 'live/x', 2);
    const got = (await online.next('publish')) as IPublishPacket;
    online.send({ cmd: 'puback', messageId: got.messageId, reasonCode: 0 });
    expect(await pub.nothing('puback', 300)).toBe(true);

    store.flush();
    const first = (await pub.next('puback')) as IPubackPacket;
    const second = (await pub.next('puback')) as IPubackPacket;
    expect([first.messageId, second.messageId]).toEqual([1, 2]);
  });
});
