import type { IClientOptions } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Authorizer } from '../../src/index.js';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import {
  brokerUrl,
  type Collecting,
  connectCollecting,
  eventOnce,
  type Transport,
  uniqueId,
} from './helpers/mqttjs.js';

/**
 * MQTT.js, the client most of our users' Node and browser code uses, against the real broker over
 * real TCP and WebSocket connections, with protocol versions 4 (3.1.1) and 5.
 */

/** Denies subscribing to and publishing on anything under `secret/`. */
const denySecret: Authorizer = {
  allows: (_client, action, topic) => !(action !== 'read' && topic.startsWith('secret/')),
};

let b: RunningBroker;
const open: Collecting[] = [];
beforeAll(async () => {
  b = await startBroker({ authorizer: denySecret });
});
afterAll(async () => {
  await b?.close();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end()));
});

let topicCounter = 0;
/** A topic prefix no other test uses, so tests sharing one broker cannot see each other's messages. */
function fresh(name: string): string {
  topicCounter++;
  return `it/${name}/${topicCounter}`;
}

const matrix: [4 | 5, Transport][] = [
  [4, 'tcp'],
  [4, 'ws'],
  [5, 'tcp'],
  [5, 'ws'],
];

describe.each(matrix)('MQTT.js protocolVersion %i over %s', (protocolVersion, transport) => {
  const url = () => brokerUrl(b, transport);
  const client = async (options: IClientOptions = {}): Promise<Collecting> => {
    const c = await connectCollecting(url(), { protocolVersion, ...options });
    open.push(c);
    return c;
  };

  it('[MQTT-3.2.0-1] connects and gets a successful CONNACK without a session present', async () => {
    const c = await client();
    expect(c.client.connected).toBe(true);
    expect(c.connack?.sessionPresent).toBe(false);
    if (protocolVersion === 5) expect(c.connack?.reasonCode).toBe(0);
    else expect(c.connack?.returnCode).toBe(0);
  });

  it('[MQTT-4.7.1-2] [MQTT-4.7.1-3] wildcard subscriptions + and # match only what they should', async () => {
    const base = fresh('wild');
    const sub = await client();
    await sub.client.subscribeAsync([`${base}/+/temp`, `${base}/house/#`], { qos: 0 });
    const pub = await client();
    await pub.client.publishAsync(`${base}/kitchen/temp`, '21');
    await pub.client.publishAsync(`${base}/kitchen/humidity`, 'no');
    await pub.client.publishAsync(`${base}/house/a/b/c`, 'deep');
    await pub.client.publishAsync(`${base}/house`, 'parent');
    await pub.client.publishAsync(`${base}/garden/x/temp`, 'no');
    const got = await sub.waitFor(3);
    expect(got.map((m) => `${m.topic}=${m.payload}`).sort()).toEqual([
      `${base}/house/a/b/c=deep`,
      `${base}/house=parent`,
      `${base}/kitchen/temp=21`,
    ]);
    expect(await sub.quiet()).toBe(true);
  });

  it.each([0, 1, 2] as const)(
    '[MQTT-4.3] QoS %i round trip: published and delivered at that QoS',
    async (qos) => {
      const topic = fresh(`qos${qos}`);
      const sub = await client();
      const granted = await sub.client.subscribeAsync(topic, { qos: 2 });
      expect(granted[0]!.qos).toBe(2);
      const pub = await client();
      await pub.client.publishAsync(topic, `payload at ${qos}`, { qos });
      const [m] = await sub.waitFor(1);
      expect(m!.payload.toString()).toBe(`payload at ${qos}`);
      expect(m!.packet.qos).toBe(qos);
      expect(m!.packet.retain).toBe(false);
    },
  );

  it('[MQTT-3.8.4-8] a QoS 2 message to a QoS 1 subscription is delivered at QoS 1', async () => {
    const topic = fresh('downgrade');
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const pub = await client();
    await pub.client.publishAsync(topic, 'x', { qos: 2 });
    const [m] = await sub.waitFor(1);
    expect(m!.packet.qos).toBe(1);
  });

  it('[MQTT-3.3.1-5] [MQTT-3.3.1-6] retained message delivered on subscribe with the retain flag', async () => {
    const topic = fresh('retained');
    const pub = await client();
    await pub.client.publishAsync(topic, 'kept', { qos: 1, retain: true });
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const [m] = await sub.waitFor(1);
    expect(m!.payload.toString()).toBe('kept');
    expect(m!.packet.retain).toBe(true);
    expect(m!.packet.qos).toBe(1);
  });

  it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] an empty retained message clears the retained message', async () => {
    const topic = fresh('cleared');
    const pub = await client();
    await pub.client.publishAsync(topic, 'kept', { qos: 1, retain: true });
    await pub.client.publishAsync(topic, '', { qos: 1, retain: true });
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    expect(await sub.quiet(400)).toBe(true);
  });

  it('[MQTT-3.3.1-9] a live subscriber gets a retained publish without the retain flag', async () => {
    const topic = fresh('live-retain');
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const pub = await client();
    await pub.client.publishAsync(topic, 'now', { qos: 1, retain: true });
    const [m] = await sub.waitFor(1);
    expect(m!.packet.retain).toBe(false);
  });

  it('[MQTT-3.1.2-8] will published when the socket is destroyed without DISCONNECT', async () => {
    const topic = fresh('will');
    const watcher = await client();
    await watcher.client.subscribeAsync(topic, { qos: 1 });
    const dying = await client({
      will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false },
      keepalive: 60,
    });
    dying.client.stream.destroy();
    const [m] = await watcher.waitFor(1);
    expect(m!.payload.toString()).toBe('gone');
    expect(m!.packet.qos).toBe(1);
  });

  it('[MQTT-3.1.2-10] will not published after a normal DISCONNECT', async () => {
    const topic = fresh('nowill');
    const watcher = await client();
    await watcher.client.subscribeAsync(topic, { qos: 1 });
    const leaving = await client({ will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false } });
    await leaving.client.endAsync();
    expect(await watcher.quiet(500)).toBe(true);
  });

  it('[MQTT-3.1.2-4] [MQTT-4.4.0-1] session resumed with queued QoS 1 messages delivered', async () => {
    const topic = fresh('resume');
    const clientId = uniqueId('resume');
    const persistent: IClientOptions =
      protocolVersion === 5
        ? { clientId, clean: false, properties: { sessionExpiryInterval: 300 } }
        : { clientId, clean: false };
    const first = await client({ clientId, clean: true });
    await first.end();
    const sleeper = await client(persistent);
    expect(sleeper.connack?.sessionPresent).toBe(false);
    await sleeper.client.subscribeAsync(topic, { qos: 1 });
    await sleeper.end();
    const pub = await client();
    for (let i = 0; i < 3; i++) await pub.client.publishAsync(topic, `queued ${i}`, { qos: 1 });
    const back = await client(persistent);
    expect(back.connack?.sessionPresent).toBe(true);
    const got = await back.waitFor(3);
    expect(got.map((m) => m.payload.toString())).toEqual(['queued 0', 'queued 1', 'queued 2']);
    expect(got.every((m) => m.packet.qos === 1)).toBe(true);
    // Clean up the session so it does not linger in the shared broker.
    await back.end();
    const cleaner = await client({ clientId, clean: true });
    await cleaner.end();
  });

  it('[MQTT-4.8.2] shared subscription $share/g/t delivers each message to one member, in turn', async () => {
    const topic = fresh('shared');
    const a = await client();
    const c = await client();
    await a.client.subscribeAsync(`$share/g/${topic}`, { qos: 1 });
    await c.client.subscribeAsync(`$share/g/${topic}`, { qos: 1 });
    const pub = await client();
    for (let i = 0; i < 10; i++) await pub.client.publishAsync(topic, `m${i}`, { qos: 1 });
    const deadline = Date.now() + 5000;
    while (a.messages.length + c.messages.length < 10 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await a.quiet(200)).toBe(true);
    const all = [...a.messages, ...c.messages].map((m) => m.payload.toString()).sort();
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    expect(a.messages.length).toBe(5);
    expect(c.messages.length).toBe(5);
  });

  it('[MQTT-3.9.3] a subscription denied by the authorizer gets failure reason code 0x80/0x87', async () => {
    const c = await client();
    const err = await c.client.subscribeAsync('secret/plans', { qos: 1 }).then(
      () => undefined,
      (e: { message: string; packet?: { granted: number[] } }) => e,
    );
    expect(err?.message).toMatch(/Subscribe error/);
    expect(err?.packet?.granted).toEqual([protocolVersion === 5 ? 0x87 : 0x80]);
    // The connection survives a denied subscription.
    const ok = await c.client.subscribeAsync(fresh('after-denied'), { qos: 1 });
    expect(ok[0]!.qos).toBe(1);
  });

  it('PINGREQ keeps an idle connection alive (keepalive 1 s)', async () => {
    const c = await client({ keepalive: 1 });
    await new Promise((r) => setTimeout(r, 2500));
    expect(c.client.connected).toBe(true);
  });
});

describe.each(['tcp', 'ws'] as const)('MQTT.js protocolVersion 5 properties over %s', (transport) => {
  const url = () => brokerUrl(b, transport);
  const client = async (options: IClientOptions = {}): Promise<Collecting> => {
    const c = await connectCollecting(url(), { protocolVersion: 5, ...options });
    open.push(c);
    return c;
  };

  it('[MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-20] application properties round trip', async () => {
    const topic = fresh('props');
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const pub = await client();
    await pub.client.publishAsync(topic, '{"t":24.1}', {
      qos: 1,
      properties: {
        userProperties: { unit: 'C', sensor: ['dht22', 'backup'] },
        contentType: 'application/json',
        responseTopic: `${topic}/reply`,
        correlationData: Buffer.from([1, 2, 3, 0xff]),
        payloadFormatIndicator: true,
        messageExpiryInterval: 3600,
      },
    });
    const [m] = await sub.waitFor(1);
    const p = m!.packet.properties!;
    expect(p.userProperties).toEqual({ unit: 'C', sensor: ['dht22', 'backup'] });
    expect(p.contentType).toBe('application/json');
    expect(p.responseTopic).toBe(`${topic}/reply`);
    expect(Buffer.from(p.correlationData!)).toEqual(Buffer.from([1, 2, 3, 0xff]));
    expect(p.payloadFormatIndicator).toBe(true);
    // [MQTT-3.3.2-6]: the remaining lifetime is forwarded, never more than what was set.
    expect(p.messageExpiryInterval).toBeGreaterThan(3590);
    expect(p.messageExpiryInterval).toBeLessThanOrEqual(3600);
  });

  it('[MQTT-3.3.4-3] [MQTT-3.8.2.1.2] subscription identifiers come back with matching messages', async () => {
    const base = fresh('subid');
    const sub = await client();
    await sub.client.subscribeAsync(`${base}/+`, { qos: 1, properties: { subscriptionIdentifier: 7 } });
    await sub.client.subscribeAsync(`${base}/#`, { qos: 1, properties: { subscriptionIdentifier: 42 } });
    const pub = await client();
    await pub.client.publishAsync(`${base}/a`, 'both', { qos: 1 });
    await pub.client.publishAsync(`${base}/a/b`, 'hash only', { qos: 1 });
    const [both, hashOnly] = await sub.waitFor(2);
    const ids = both!.packet.properties?.subscriptionIdentifier;
    expect([ids].flat().sort((x, y) => Number(x) - Number(y))).toEqual([7, 42]);
    expect(hashOnly!.packet.properties?.subscriptionIdentifier).toBe(42);
  });

  it('[MQTT-3.3.2-12] topic alias from the client: a later PUBLISH with an empty topic uses the alias', async () => {
    const topic = fresh('alias');
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const pub = await client();
    expect(pub.connack?.properties?.topicAliasMaximum).toBeGreaterThan(0);
    await pub.client.publishAsync(topic, 'first', { qos: 1, properties: { topicAlias: 1 } });
    await pub.client.publishAsync('', 'second', { qos: 1, properties: { topicAlias: 1 } });
    const got = await sub.waitFor(2);
    expect(got.map((m) => `${m.topic}=${m.payload}`)).toEqual([`${topic}=first`, `${topic}=second`]);
  });

  it('topic alias from the client: MQTT.js autoUseTopicAlias works', async () => {
    const topic = fresh('autoalias');
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 0 });
    const pub = await client({ autoUseTopicAlias: true, autoAssignTopicAlias: true });
    for (let i = 0; i < 3; i++) await pub.client.publishAsync(topic, `n${i}`, { qos: 1 });
    const got = await sub.waitFor(3);
    expect(got.map((m) => `${m.topic}=${m.payload}`)).toEqual([0, 1, 2].map((i) => `${topic}=n${i}`));
  });

  it('[MQTT-3.8.3-3] No Local: a client does not get its own publications', async () => {
    const topic = fresh('nolocal');
    const self = await client();
    await self.client.subscribeAsync(topic, { qos: 1, nl: true });
    const other = await client();
    await other.client.subscribeAsync(topic, { qos: 1 });
    await self.client.publishAsync(topic, 'mine', { qos: 1 });
    await other.waitFor(1);
    expect(await self.quiet(300)).toBe(true);
    const third = await client();
    await third.client.publishAsync(topic, 'theirs', { qos: 1 });
    const [m] = await self.waitFor(1);
    expect(m!.payload.toString()).toBe('theirs');
  });

  it('[MQTT-3.3.1-12] [MQTT-3.3.1-13] Retain As Published keeps the retain flag on live delivery', async () => {
    const topic = fresh('rap');
    const rap = await client();
    await rap.client.subscribeAsync(topic, { qos: 1, rap: true });
    const plain = await client();
    await plain.client.subscribeAsync(topic, { qos: 1, rap: false });
    const pub = await client();
    await pub.client.publishAsync(topic, 'r', { qos: 1, retain: true });
    const [withRap] = await rap.waitFor(1);
    const [withoutRap] = await plain.waitFor(1);
    expect(withRap!.packet.retain).toBe(true);
    expect(withoutRap!.packet.retain).toBe(false);
  });

  it('[MQTT-3.3.1-9] [MQTT-3.3.1-11] Retain Handling 2 sends no retained messages on subscribe', async () => {
    const topic = fresh('rh2');
    const pub = await client();
    await pub.client.publishAsync(topic, 'old', { qos: 1, retain: true });
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 1, rh: 2 });
    expect(await sub.quiet(400)).toBe(true);
    await pub.client.publishAsync(topic, 'new', { qos: 1 });
    const [m] = await sub.waitFor(1);
    expect(m!.payload.toString()).toBe('new');
  });

  it('[MQTT-3.3.1-10] Retain Handling 1 sends retained messages only for a new subscription', async () => {
    const topic = fresh('rh1');
    const pub = await client();
    await pub.client.publishAsync(topic, 'old', { qos: 1, retain: true });
    const sub = await client();
    await sub.client.subscribeAsync(topic, { qos: 1, rh: 1 });
    await sub.waitFor(1);
    await sub.client.subscribeAsync(topic, { qos: 1, rh: 1 });
    expect(await sub.quiet(400)).toBe(true);
  });

  it('[MQTT-3.1.2-23] session expiry interval: queued QoS 1 messages survive a reconnect', async () => {
    const topic = fresh('expiry');
    const clientId = uniqueId('v5session');
    const sleeper = await client({ clientId, clean: true, properties: { sessionExpiryInterval: 60 } });
    await sleeper.client.subscribeAsync(topic, { qos: 1 });
    sleeper.client.stream.destroy();
    await eventOnce(sleeper.client, 'close').catch(() => {});
    const pub = await client();
    await pub.client.publishAsync(topic, 'while away', { qos: 1 });
    const back = await client({ clientId, clean: false, properties: { sessionExpiryInterval: 0 } });
    expect(back.connack?.sessionPresent).toBe(true);
    const [m] = await back.waitFor(1);
    expect(m!.payload.toString()).toBe('while away');
  });

  it('[MQTT-3.1.2-23] session expiry interval 0: nothing is kept after the connection closes', async () => {
    const topic = fresh('noexpiry');
    const clientId = uniqueId('v5gone');
    const gone = await client({ clientId, clean: false, properties: { sessionExpiryInterval: 0 } });
    await gone.client.subscribeAsync(topic, { qos: 1 });
    await gone.end();
    const back = await client({ clientId, clean: false, properties: { sessionExpiryInterval: 0 } });
    expect(back.connack?.sessionPresent).toBe(false);
  });

  it('[MQTT-3.2.2-17] [MQTT-3.2.2-19] CONNACK properties: topic alias maximum, shared subs, sub ids', async () => {
    const c = await client();
    expect(c.connack?.properties).toMatchObject({
      sharedSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      wildcardSubscriptionAvailable: true,
    });
  });

  it('[MQTT-3.9.3-1] SUBACK carries one reason code per filter, in order: granted and not authorized', async () => {
    const c = await client();
    const err = await c.client
      .subscribeAsync({ [fresh('ok')]: { qos: 2 }, 'secret/x': { qos: 0 }, [fresh('ok1')]: { qos: 1 } })
      .then(
        () => undefined,
        (e: { packet?: { granted: number[] } }) => e,
      );
    expect(err?.packet?.granted).toEqual([2, 0x87, 1]);
  });

  it('[MQTT-3.3.4-8] a publish refused by the authorizer gets PUBACK 0x87 (v5)', async () => {
    const c = await client();
    const err = await c.client.publishAsync('secret/plans', 'x', { qos: 1 }).then(
      () => undefined,
      (e: { code?: number }) => e,
    );
    expect(err?.code).toBe(0x87);
  });
});
