import type { IPubackPacket, IPublishPacket, ISubackPacket } from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let b: RunningBroker;
beforeEach(async () => {
  b = await startBroker();
});
afterEach(async () => {
  await b.close();
});

async function subscriber(filter: string, qos: 0 | 1 | 2, connect: Record<string, unknown> = {}) {
  const { client } = await RawClient.connected(b.port, connect);
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] });
  const suback = (await client.next('suback')) as ISubackPacket;
  return { client, suback };
}

describe('PUBLISH at QoS 0, 1 and 2', () => {
  it('one QoS 0 message reaches 3.1, 3.1.1 and v5 subscribers, with and without Retain As Published, each in its own encoding', async () => {
    const subs = [
      await subscriber('mix/#', 0, { protocolVersion: 3, protocolId: 'MQIsdp' }),
      await subscriber('mix/#', 0, { protocolVersion: 4 }),
      await subscriber('mix/#', 0, { protocolVersion: 5 }),
    ];
    const { client: rap } = await RawClient.connected(b.port, { protocolVersion: 5 });
    rap.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'mix/#', qos: 0, rap: true }] });
    await rap.next('suback');
    const { client: pub } = await RawClient.connected(b.port);
    for (const [i, retain] of [false, true, false].entries())
      pub.send({ cmd: 'publish', topic: `mix/${i}`, payload: `m${i}`, qos: 0, retain });
    for (const [i, retain] of [false, true, false].entries()) {
      for (const { client } of subs) {
        const got = (await client.next('publish')) as IPublishPacket;
        expect([got.topic, got.payload.toString(), got.retain]).toEqual([`mix/${i}`, `m${i}`, false]);
      }
      const got = (await rap.next('publish')) as IPublishPacket;
      expect([got.topic, got.payload.toString(), got.retain]).toEqual([`mix/${i}`, `m${i}`, retain]);
    }
  });

  it('[MQTT-3.3.4-1] QoS 1: PUBACK to the publisher, PUBLISH with a packet id to the subscriber', async () => {
    const { client: sub } = await subscriber('output', 1);
    const { client: pub } = await RawClient.connected(b.port);
    pub.send({ cmd: 'publish', topic: 'output', payload: 'on', qos: 1, messageId: 7 });
    const ack = (await pub.next('puback')) as IPubackPacket;
    expect(ack.messageId).toBe(7);
    const got = (await sub.next('publish')) as IPublishPacket;
    expect(got.payload.toString()).toBe('on');
    expect(got.qos).toBe(1);
    expect(got.messageId).toBeGreaterThan(0);
    sub.send({ cmd: 'puback', messageId: got.messageId });
  });

  it('[MQTT-4.3.3] QoS 2: PUBREC, PUBREL, PUBCOMP both ways, delivered exactly once', async () => {
    const { client: sub } = await subscriber('t/2', 2);
    const { client: pub } = await RawClient.connected(b.port);
    pub.send({ cmd: 'publish', topic: 't/2', payload: 'x', qos: 2, messageId: 3 });
    await pub.next('pubrec');
    // A resent PUBLISH before PUBREL must not be routed again [MQTT-4.3.3-9].
    pub.send({ cmd: 'publish', topic: 't/2', payload: 'x', qos: 2, messageId: 3, dup: true });
    await pub.next('pubrec');
    pub.send({ cmd: 'pubrel', messageId: 3 });
    await pub.next('pubcomp');
    const got = (await sub.next('publish')) as IPublishPacket;
    expect(got.qos).toBe(2);
    sub.send({ cmd: 'pubrec', messageId: got.messageId });
    const rel = await sub.next('pubrel');
    expect(rel.messageId).toBe(got.messageId);
    sub.send({ cmd: 'pubcomp', messageId: got.messageId });
    expect(await sub.nothing('publish', 300)).toBe(true);
  });

  it('[MQTT-3.8.4-8] delivers at the lower of the published and the granted QoS', async () => {
    const { client: sub } = await subscriber('down', 0);
    const { client: pub } = await RawClient.connected(b.port);
    pub.send({ cmd: 'publish', topic: 'down', payload: 'x', qos: 2, messageId: 1 });
    await pub.next('pubrec');
    pub.send({ cmd: 'pubrel', messageId: 1 });
    const got = (await sub.next('publish')) as IPublishPacket;
    expect(got.qos).toBe(0);
    expect(got.messageId).toBeUndefined();
  });

  it('[MQTT-4.3.3] a QoS 2 message is held until PUBREL and routed then, once (method A, as mosquitto)', async () => {
    const { client: sub } = await subscriber('held', 2);
    const { client: pub } = await RawClient.connected(b.port);
    pub.send({ cmd: 'publish', topic: 'held', payload: 'x', qos: 2, messageId: 5 });
    expect((await pub.next('pubrec')).messageId).toBe(5);
    expect(await sub.nothing('publish', 300)).toBe(true);
    // A DUP resend before PUBREL is answered again and still not routed [MQTT-4.3.3-9].
    pub.send({ cmd: 'publish', topic: 'held', payload: 'x', qos: 2, messageId: 5, dup: true });
    expect((await pub.next('pubrec')).messageId).toBe(5);
    pub.send({ cmd: 'pubrel', messageId: 5 });
    expect((await pub.next('pubcomp')).messageId).toBe(5);
    const got = (await sub.next('publish')) as IPublishPacket;
    expect(got.payload.toString()).toBe('x');
    expect(await sub.nothing('publish', 300)).toBe(true);
  });

  it('[MQTT-3.3.5-1] overlapping subscriptions: one copy at the highest QoS', async () => {
    const { client } = await RawClient.connected(b.port);
    client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: 'a/+', qos: 0 },
        { topic: 'a/#', qos: 1 },
        { topic: 'a/b', qos: 0 },
      ],
    });
    expect(((await client.next('suback')) as ISubackPacket).granted).toEqual([0, 1, 0]);
    const { client: pub } = await RawClient.connected(b.port);
    pub.send({ cmd: 'publish', topic: 'a/b', payload: 'once', qos: 1, messageId: 1 });
    const got = (await client.next('publish')) as IPublishPacket;
    expect(got.qos).toBe(1);
    expect(await client.nothing('publish', 300)).toBe(true);
  });

  it('limits QoS 1 messages in flight to max_inflight_messages and sends the rest after PUBACKs', async () => {
    await b.close();
    b = await startBroker({ maxInflightMessages: 2 });
    const { client: sub } = await subscriber('w', 1);
    for (let i = 0; i < 5; i++) b.broker.publish({ topic: 'w', payload: String(i), qos: 1 });
    const first = [
      (await sub.next('publish')) as IPublishPacket,
      (await sub.next('publish')) as IPublishPacket,
    ];
    expect(await sub.nothing('publish', 300)).toBe(true);
    const seen = first.map((p) => p.payload.toString());
    for (let i = 0; i < 3; i++) {
      const p = first.shift()!;
      sub.send({ cmd: 'puback', messageId: p.messageId });
      first.push((await sub.next('publish')) as IPublishPacket);
      seen.push(first[first.length - 1]!.payload.toString());
    }
    expect(seen).toEqual(['0', '1', '2', '3', '4']);
  });

  it('[MQTT-4.6.0-2] keeps the order of messages on one topic', async () => {
    const { client: sub } = await subscriber('order', 1);
    const { client: pub } = await RawClient.connected(b.port);
    for (let i = 1; i <= 50; i++)
      pub.send({ cmd: 'publish', topic: 'order', payload: String(i), qos: 1, messageId: i });
    const got: string[] = [];
    for (let i = 0; i < 50; i++) {
      const p = (await sub.next('publish')) as IPublishPacket;
      got.push(p.payload.toString());
      sub.send({ cmd: 'puback', messageId: p.messageId });
    }
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
  });
});

describe('retained messages', () => {
  it('[MQTT-3.3.1-6] a retained message is delivered to a new subscriber with retain set', async () => {
    const { client: pub } = await RawClient.connected(b.port);
    pub.send({ cmd: 'publish', topic: 'green/btn/0', payload: '1', qos: 1, retain: true, messageId: 1 });
    await pub.next('puback');
    const { client: sub } = await subscriber('green/+/0', 1);
    const got = (await sub.next('publish')) as IPublishPacket;
    expect(got.retain).toBe(true);
    expect(got.payload.toString()).toBe('1');
  });

  it('[MQTT-3.3.1-5] a new retained message replaces the old one', async () => {
    b.broker.publish({ topic: 'r', payload: 'old', retain: true });
    b.broker.publish({ topic: 'r', payload: 'new', retain: true });
    const { client: sub } = await subscriber('r', 0);
    expect(((await sub.next('publish')) as IPublishPacket).payload.toString()).toBe('new');
    expect(await sub.nothing('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.1-10] an empty retained payload clears the topic', async () => {
    b.broker.publish({ topic: 'r', payload: 'x', retain: true });
    b.broker.publish({ topic: 'r', payload: '', retain: true });
    expect(b.broker.retained()).toEqual([]);
    const { client: sub } = await subscriber('r', 0);
    expect(await sub.nothing('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.1-12] retain is cleared when forwarding to existing subscribers (3.1.1)', async () => {
    const { client: sub } = await subscriber('r2', 0);
    b.broker.publish({ topic: 'r2', payload: 'x', retain: true });
    expect(((await sub.next('publish')) as IPublishPacket).retain).toBe(false);
  });

  it('[MQTT-4.7.2-1] # does not receive retained $SYS messages', async () => {
    b.broker.publish({ topic: '$SYS/x', payload: 'sys', retain: true });
    b.broker.publish({ topic: 'plain', payload: 'p', retain: true });
    const { client: sub } = await subscriber('#', 0);
    const got = (await sub.next('publish')) as IPublishPacket;
    expect(got.topic).toBe('plain');
    expect(await sub.nothing('publish', 200)).toBe(true);
  });

  it('retained messages sent on subscribe are not cut by max_queued_messages', async () => {
    await b.close();
    b = await startBroker({ maxQueuedMessages: 5, maxInflightMessages: 2 });
    for (let i = 0; i < 20; i++)
      b.broker.publish({ topic: `kept/${i}`, payload: String(i), qos: 1, retain: true });
    const { client: sub } = await subscriber('kept/#', 1);
    const got = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const p = (await sub.next('publish')) as IPublishPacket;
      got.add(p.topic);
      sub.send({ cmd: 'puback', messageId: p.messageId });
    }
    expect(got.size).toBe(20);
    expect(b.broker.stats.publishDropped).toBe(0);
  });
});

describe('QoS 2 release', () => {
  it('a PUBREL for an id already released (repeated after a reconnect) gets PUBCOMP success, as in mosquitto', async () => {
    const { client } = await RawClient.connected(b.port, { protocolVersion: 5 });
    client.send({ cmd: 'pubrel', messageId: 42 });
    const comp = (await client.next('pubcomp')) as { reasonCode?: number; messageId: number };
    expect(comp.messageId).toBe(42);
    expect(comp.reasonCode ?? 0).toBe(0);
  });
});
