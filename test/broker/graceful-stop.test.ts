// A graceful stop (Broker.close, what SIGTERM does to `mothership up`) loses nothing it acknowledged:
// what was routed to a connected subscriber is delivered before the connection ends, and what a
// persistent session could not take by then is in the store for the restarted broker.
import { connect, type Socket } from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker } from '../../src/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { cleanupTempDirs, tempDir } from '../store/helpers.js';

afterAll(() => cleanupTempDirs());

const N = 300; // 15 times the in-flight window (20): most wait in the session's queue at the stop
const PAD = 'x'.repeat(8 * 1024);

/**
 * A subscriber as a real client behaves: it acknowledges each QoS 1 PUBLISH as it reads it and closes
 * its side when the broker closes its own. It starts paused: the broker's writes pile up unread.
 */
class SlowSubscriber {
  readonly packets: Packet[] = [];
  readonly closed: Promise<void>;
  private readonly parser;

  private constructor(
    readonly socket: Socket,
    private readonly version: 4 | 5,
  ) {
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => {
      this.packets.push(p);
      if (p.cmd === 'publish' && p.qos === 1) this.write({ cmd: 'puback', messageId: p.messageId }, version);
    });
    socket.on('data', (d) => this.parser.parse(d));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  private write(p: Packet | Record<string, unknown>, version: number): void {
    if (!this.socket.destroyed)
      this.socket.write(mqttPacket.generate(p as Packet, { protocolVersion: version }));
  }

  publish(messageId: number, payload: string): void {
    this.write({ cmd: 'publish', topic: 'load', qos: 1, messageId, payload }, this.version);
  }

  /** Connected, subscribed to `topic` at QoS 1, then paused. */
  static async open(
    port: number,
    clientId: string,
    clean: boolean,
    version: 4 | 5 = 4,
  ): Promise<SlowSubscriber> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const sub = new SlowSubscriber(socket, version);
    const connect_: Record<string, unknown> = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: version,
    };
    Object.assign(connect_, { clientId, clean, keepalive: 0 });
    if (version === 5 && !clean) connect_.properties = { sessionExpiryInterval: 3600 };
    sub.write(connect_, version);
    await sub.waitFor((p) => p.cmd === 'connack');
    sub.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'load', qos: 1 }] }, version);
    await sub.waitFor((p) => p.cmd === 'suback');
    socket.pause();
    return sub;
  }

  async waitFor(match: (p: Packet) => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.packets.some(match)) {
      if (Date.now() > deadline) throw new Error(`no such packet within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The numbers of the messages received, in order. */
  numbers(): number[] {
    return this.packets
      .filter((p): p is IPublishPacket => p.cmd === 'publish')
      .map((p) => Number(p.payload.toString().split(':')[0]));
  }
}

/** Publishes 0..N-1 on `load` at QoS 1 and waits until the broker has acknowledged every one. */
async function publishAcknowledged(port: number): Promise<void> {
  const { client } = await RawClient.connected(port, { clientId: 'publisher' });
  for (let i = 0; i < N; i++)
    client.send({ cmd: 'publish', topic: 'load', qos: 1, messageId: i + 1, payload: `${i}:${PAD}` });
  for (let i = 0; i < N; i++) await client.next('puback', 30_000);
}

/** Resolves once a new connection is turned away: the stop has begun. */
async function turnedAway(port: number): Promise<void> {
  const c = await RawClient.open(port).catch(() => undefined); // refused: as good
  if (c) await c.waitClosed(30_000);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('a graceful stop delivers what the broker acknowledged', () => {
  it('a subscriber slow to read still gets every message acknowledged before the stop, then DISCONNECT 0x8B', async () => {
    const broker = new Broker({ sysInterval: 0, shutdownGraceMs: 60_000 }); // a bound, not a wait
    const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
    const sub = await SlowSubscriber.open(port, 'slow', true, 5);
    await publishAcknowledged(port);
    const stopped = broker.close();
    await turnedAway(port);
    // A message sent during the stop is not taken: no PUBACK, so its publisher keeps it for the next broker.
    sub.publish(9999, `${N}:late`);
    sub.socket.resume(); // the subscriber reads at last
    await stopped;
    await sub.closed;
    expect(sub.numbers()).toEqual(range(N));
    expect(sub.packets.filter((p) => p.cmd === 'puback')).toEqual([]);
    // DISCONNECT comes last, once the subscriber has acknowledged everything in flight.
    expect(sub.packets.at(-1)).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8b });
  }, 90_000);

  it('a persistent session that reads nothing before the grace runs out has every message after the restart', async () => {
    const dir = tempDir('ms-graceful-stop-');
    const store = () => openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 2 } });
    const first = new Broker({ sysInterval: 0, persistence: store(), shutdownGraceMs: 200 });
    const l1 = await first.listen({ port: 0, host: '127.0.0.1' });
    const sub = await SlowSubscriber.open(l1.port, 'board', false);
    await publishAcknowledged(l1.port);
    await first.close(); // the subscriber never read: its connection is cut after the grace
    sub.socket.destroy(); // (paused, it would not even notice)
    const second = new Broker({ sysInterval: 0, persistence: store() });
    const l2 = await second.listen({ port: 0, host: '127.0.0.1' });
    const again = await SlowSubscriber.open(l2.port, 'board', false);
    again.socket.resume();
    await again.waitFor(() => again.numbers().length >= N, 30_000);
    // The ones in flight at the stop come first (with DUP), then the queue: each once, in order.
    expect(again.numbers()).toEqual(range(N));
    await second.close();
  }, 90_000);
});
