import type { IPublishPacket, ISubackPacket, IUnsubackPacket } from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Authorizer } from '../../src/index.js';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let b: RunningBroker;
afterEach(async () => {
  await b.close();
});

async function v5(clientId?: string, extra: Record<string, unknown> = {}) {
  const { client } = await RawClient.connected(b.port, {
    protocolVersion: 5,
    ...(clientId ? { clientId } : {}),
    ...extra,
  });
  return client;
}

async function subscribe(
  client: RawClient,
  subscriptions: Record<string, unknown>[],
  properties?: Record<string, unknown>,
) {
  client.send({
    cmd: 'subscribe',
    messageId: 1,
    subscriptions,
    ...(properties ? { properties } : {}),
  } as Record<string, unknown>);
  return (await client.next('suback')) as ISubackPacket;
}

describe('SUBSCRIBE options (v5)', () => {
  beforeEach(async () => {
    b = await startBroker();
  });

  it('[MQTT-3.3.4-3] lists every matching Subscription Identifier on one copy', async () => {
    const c = await v5();
    await subscribe(c, [{ topic: 'a/+', qos: 1 }], { subscriptionIdentifier: 11 });
    await subscribe(c, [{ topic: 'a/#', qos: 0 }], { subscriptionIdentifier: 22 });
    b.broker.publish({ topic: 'a/b', payload: 'x', qos: 1 });
    const got = (await c.next('publish')) as IPublishPacket;
    const ids = got.properties?.subscriptionIdentifier;
    expect((Array.isArray(ids) ? ids : [ids]).sort()).toEqual([11, 22]);
    expect(got.qos).toBe(1);
    expect(await c.nothing('publish', 200)).toBe(true);
  });

  it('[MQTT-3.8.3-3] No Local: a client does not get its own messages', async () => {
    const c = await v5();
    await subscribe(c, [{ topic: 'chat', qos: 0, nl: true }]);
    c.send({ cmd: 'publish', topic: 'chat', payload: 'me', qos: 0 });
    expect(await c.nothing('publish', 300)).toBe(true);
    const other = await v5();
    other.send({ cmd: 'publish', topic: 'chat', payload: 'them', qos: 0 });
    expect(((await c.next('publish')) as IPublishPacket).payload.toString()).toBe('them');
  });

  it('[MQTT-3.3.1-13] Retain As Published keeps the retain flag on forwarded messages', async () => {
    const c = await v5();
    await subscribe(c, [
      { topic: 'rap/1', qos: 0, rap: true },
      { topic: 'rap/0', qos: 0, rap: false },
    ]);
    b.broker.publish({ topic: 'rap/1', payload: 'x', retain: true });
    b.broker.publish({ topic: 'rap/0', payload: 'x', retain: true });
    const first = (await c.next('publish')) as IPublishPacket;
    const second = (await c.next('publish')) as IPublishPacket;
    expect([first.topic, first.retain]).toEqual(['rap/1', true]);
    expect([second.topic, second.retain]).toEqual(['rap/0', false]);
  });

  it('[MQTT-3.3.1-9..11] Retain Handling 0 always, 1 only for a new subscription, 2 never', async () => {
    b.broker.publish({ topic: 'rh', payload: 'kept', retain: true });
    const c = await v5();
    await subscribe(c, [{ topic: 'rh', qos: 0, rh: 2 }]);
    expect(await c.nothing('publish', 200)).toBe(true);
    const c1 = await v5();
    await subscribe(c1, [{ topic: 'rh', qos: 0, rh: 1 }]);
    expect(((await c1.next('publish')) as IPublishPacket).retain).toBe(true);
    await subscribe(c1, [{ topic: 'rh', qos: 0, rh: 1 }]);
    expect(await c1.nothing('publish', 200)).toBe(true);
    const c0 = await v5();
    await subscribe(c0, [{ topic: 'rh', qos: 0, rh: 0 }]);
    await c0.next('publish');
    await subscribe(c0, [{ topic: 'rh', qos: 0, rh: 0 }]);
    expect(((await c0.next('publish')) as IPublishPacket).payload.toString()).toBe('kept');
  });

  it('[MQTT-4.8.2] shared subscriptions: each message to one member, in turn, no retained on subscribe', async () => {
    b.broker.publish({ topic: 'jobs/1', payload: 'retained', retain: true });
    const m1 = await v5('m1');
    const m2 = await v5('m2');
    await subscribe(m1, [{ topic: '$share/workers/jobs/+', qos: 0 }]);
    await subscribe(m2, [{ topic: '$share/workers/jobs/+', qos: 0 }]);
    expect(await m1.nothing('publish', 150)).toBe(true);
    expect(await m2.nothing('publish', 150)).toBe(true);
    for (let i = 0; i < 6; i++) b.broker.publish({ topic: 'jobs/1', payload: String(i) });
    const got1: string[] = [];
    const got2: string[] = [];
    for (let i = 0; i < 3; i++) got1.push(((await m1.next('publish')) as IPublishPacket).payload.toString());
    for (let i = 0; i < 3; i++) got2.push(((await m2.next('publish')) as IPublishPacket).payload.toString());
    expect([...got1, ...got2].sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(await m1.nothing('publish', 150)).toBe(true);
  });

  it('shared subscriptions skip offline members', async () => {
    const m1 = await v5('s1');
    const m2 = await v5('s2', { clean: false, properties: { sessionExpiryInterval: 60 } });
    await subscribe(m1, [{ topic: '$share/g/t', qos: 1 }]);
    await subscribe(m2, [{ topic: '$share/g/t', qos: 1 }]);
    m2.destroy();
    await m2.waitClosed();
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 4; i++) b.broker.publish({ topic: 't', payload: String(i), qos: 1 });
    for (let i = 0; i < 4; i++) {
      const p = (await m1.next('publish')) as IPublishPacket;
      m1.send({ cmd: 'puback', messageId: p.messageId });
    }
  });

  it('[MQTT-3.8.3-4] No Local on a shared subscription is a protocol error', async () => {
    const c = await v5();
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/t', qos: 0, nl: true }] });
    expect(((await c.next('disconnect')) as { reasonCode: number }).reasonCode).toBe(0x82);
  });

  it('SUBACK reason 0x8F for an invalid filter, UNSUBACK 0x11 for no subscription', async () => {
    const c = await v5();
    const suback = await subscribe(c, [
      { topic: 'a/#/b', qos: 0 },
      { topic: 'ok', qos: 2 },
    ]);
    expect(suback.granted).toEqual([0x8f, 2]);
    c.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['ok', 'never'] });
    const unsuback = (await c.next('unsuback')) as IUnsubackPacket;
    expect(unsuback.granted).toEqual([0x00, 0x11]);
  });
});

describe('v5 message properties', () => {
  beforeEach(async () => {
    b = await startBroker();
  });

  it('forwards Content Type, Response Topic, Correlation Data, User Properties and Payload Format', async () => {
    const sub = await v5();
    await subscribe(sub, [{ topic: 'req', qos: 1 }]);
    const pub = await v5();
    const properties = {
      payloadFormatIndicator: true,
      contentType: 'application/json',
      responseTopic: 'resp/1',
      correlationData: Buffer.from('abc'),
      userProperties: { board: 'blue', pin: '2' },
    };
    pub.send({ cmd: 'publish', topic: 'req', payload: '{"on":true}', qos: 1, messageId: 1, properties });
    const got = (await sub.next('publish')) as IPublishPacket;
    expect(got.properties).toMatchObject({
      payloadFormatIndicator: true,
      contentType: 'application/json',
      responseTopic: 'resp/1',
      userProperties: { board: 'blue', pin: '2' },
    });
    expect(Buffer.from(got.properties!.correlationData!).toString()).toBe('abc');
  });

  it('[MQTT-3.3.2-5] an expired queued message is not delivered; a live one carries the remaining lifetime', async () => {
    const sub = await v5('exp', { clean: false, properties: { sessionExpiryInterval: 60 } });
    await subscribe(sub, [{ topic: 'e', qos: 1 }]);
    sub.destroy();
    await sub.waitClosed();
    await new Promise((r) => setTimeout(r, 50));
    b.broker.publish({ topic: 'e', payload: 'short', qos: 1, properties: { messageExpiryInterval: 1 } });
    b.broker.publish({ topic: 'e', payload: 'long', qos: 1, properties: { messageExpiryInterval: 100 } });
    await new Promise((r) => setTimeout(r, 1200));
    const again = await v5('exp', { clean: false, properties: { sessionExpiryInterval: 60 } });
    const got = (await again.next('publish')) as IPublishPacket;
    expect(got.payload.toString()).toBe('long');
    expect(got.properties?.messageExpiryInterval).toBeLessThanOrEqual(99);
    expect(await again.nothing('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.2-12] accepts inbound Topic Aliases', async () => {
    const sub = await v5();
    await subscribe(sub, [{ topic: 'long/topic/name', qos: 0 }]);
    const pub = await v5();
    pub.send({
      cmd: 'publish',
      topic: 'long/topic/name',
      payload: '1',
      qos: 0,
      properties: { topicAlias: 1 },
    });
    pub.send({ cmd: 'publish', topic: '', payload: '2', qos: 0, properties: { topicAlias: 1 } });
    expect(((await sub.next('publish')) as IPublishPacket).payload.toString()).toBe('1');
    const second = (await sub.next('publish')) as IPublishPacket;
    expect([second.topic, second.payload.toString()]).toEqual(['long/topic/name', '2']);
  });

  it('uses outbound Topic Aliases when the client allows them', async () => {
    const sub = await v5(undefined, { properties: { topicAliasMaximum: 5 } });
    await subscribe(sub, [{ topic: 'x/#', qos: 0 }]);
    b.broker.publish({ topic: 'x/y', payload: '1' });
    b.broker.publish({ topic: 'x/y', payload: '2' });
    const first = (await sub.next('publish')) as IPublishPacket;
    const second = (await sub.next('publish')) as IPublishPacket;
    expect(first.topic).toBe('x/y');
    expect(first.properties?.topicAlias).toBe(1);
    expect(second.topic).toBe('');
    expect(second.properties?.topicAlias).toBe(1);
  });

  it("[MQTT-3.1.2-25] does not send a message larger than the client's Maximum Packet Size", async () => {
    const sub = await v5(undefined, { properties: { maximumPacketSize: 64 } });
    await subscribe(sub, [{ topic: 'big', qos: 1 }]);
    b.broker.publish({ topic: 'big', payload: Buffer.alloc(200), qos: 1 });
    b.broker.publish({ topic: 'big', payload: 'small', qos: 1 });
    const got = (await sub.next('publish')) as IPublishPacket;
    expect(got.payload.toString()).toBe('small');
  });

  it('[MQTT-3.3.2-4] refuses a payload that is not UTF-8 when Payload Format Indicator says it is (0x99)', async () => {
    const pub = await v5();
    pub.send({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from([0xff, 0xfe]),
      qos: 1,
      messageId: 4,
      properties: { payloadFormatIndicator: true },
    });
    expect(((await pub.next('puback')) as { reasonCode: number }).reasonCode).toBe(0x99);
  });
});

describe('authorization reason codes', () => {
  const authorizer: Authorizer = { allows: (_c, _action, topic) => !topic.startsWith('secret') };
  beforeEach(async () => {
    b = await startBroker({ authorizer });
  });

  it('a denied SUBSCRIBE gets 0x87 (v5) and 0x80 (3.1.1)', async () => {
    const c5 = await v5();
    expect((await subscribe(c5, [{ topic: 'secret/x', qos: 0 }])).granted).toEqual([0x87]);
    const { client: c4 } = await RawClient.connected(b.port);
    expect((await subscribe(c4, [{ topic: 'secret/x', qos: 0 }])).granted).toEqual([0x80]);
  });

  it('a denied PUBLISH is answered 0x87 (v5), acknowledged silently (3.1.1), and never delivered', async () => {
    const watcher = await v5();
    await subscribe(watcher, [{ topic: '#', qos: 1 }]);
    const c5 = await v5();
    c5.send({ cmd: 'publish', topic: 'secret/a', payload: 'x', qos: 1, messageId: 1 });
    expect(((await c5.next('puback')) as { reasonCode: number }).reasonCode).toBe(0x87);
    const { client: c4 } = await RawClient.connected(b.port);
    c4.send({ cmd: 'publish', topic: 'secret/b', payload: 'x', qos: 1, messageId: 1 });
    const ack = (await c4.next('puback')) as { reasonCode?: number };
    expect(ack.reasonCode ?? 0).toBe(0);
    expect(await watcher.nothing('publish', 300)).toBe(true);
  });
});
