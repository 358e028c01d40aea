import type { IPublishPacket } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let b: RunningBroker;
afterEach(async () => {
  await b.close();
});

async function persistentSubscriber(clientId: string, filter: string, version: 4 | 5 = 4, expiry = 300) {
  const connect =
    version === 5
      ? { protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: expiry } }
      : { clean: false };
  const { client, connack } = await RawClient.connected(b.port, { clientId, ...connect });
  if (filter) {
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] });
    await client.next('suback');
  }
  return { client, connack, reconnect: () => RawClient.connected(b.port, { clientId, ...connect }) };
}

describe('sessions', () => {
  it('[MQTT-3.1.2-4] a persistent session keeps subscriptions and queues QoS 1 messages while offline', async () => {
    b = await startBroker();
    const s = await persistentSubscriber('board', 'from_mothership');
    s.client.send({ cmd: 'disconnect' });
    await s.client.waitClosed();
    for (let i = 0; i < 3; i++) b.broker.publish({ topic: 'from_mothership', payload: `m${i}`, qos: 1 });
    const again = await s.reconnect();
    expect(again.connack.sessionPresent).toBe(true);
    const got: string[] = [];
    for (let i = 0; i < 3; i++)
      got.push(((await again.client.next('publish')) as IPublishPacket).payload.toString());
    expect(got).toEqual(['m0', 'm1', 'm2']);
  });

  it('[MQTT-3.1.2-6] clean session discards the previous session', async () => {
    b = await startBroker();
    const s = await persistentSubscriber('board', 'x');
    s.client.destroy();
    const { connack, client } = await RawClient.connected(b.port, { clientId: 'board', clean: true });
    expect(connack.sessionPresent).toBe(false);
    b.broker.publish({ topic: 'x', payload: 'p', qos: 1 });
    expect(await client.nothing('publish', 200)).toBe(true);
    expect(b.broker.subscriptions('board')).toEqual([]);
  });

  it('[MQTT-4.4.0-1] unacknowledged QoS 1 messages are resent with DUP on reconnect', async () => {
    b = await startBroker();
    const s = await persistentSubscriber('board', 't');
    b.broker.publish({ topic: 't', payload: 'unacked', qos: 1 });
    const first = (await s.client.next('publish')) as IPublishPacket;
    expect(first.dup).toBe(false);
    s.client.destroy();
    const again = await s.reconnect();
    const resent = (await again.client.next('publish')) as IPublishPacket;
    expect(resent.dup).toBe(true);
    expect(resent.messageId).toBe(first.messageId);
    expect(resent.payload.toString()).toBe('unacked');
  });

  it('a QoS 2 message waiting for PUBCOMP gets its PUBREL resent on reconnect', async () => {
    b = await startBroker();
    const { client } = await RawClient.connected(b.port, { clientId: 'q2', clean: false });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 2 }] });
    await client.next('suback');
    b.broker.publish({ topic: 't', payload: 'x', qos: 2 });
    const p = (await client.next('publish')) as IPublishPacket;
    client.send({ cmd: 'pubrec', messageId: p.messageId });
    await client.next('pubrel');
    client.destroy();
    const again = await RawClient.connected(b.port, { clientId: 'q2', clean: false });
    const rel = await again.client.next('pubrel');
    expect(rel.messageId).toBe(p.messageId);
    expect(await again.client.nothing('publish', 200)).toBe(true);
  });

  it('bounds the offline queue with max_queued_messages and counts what is dropped in $SYS', async () => {
    b = await startBroker({ maxQueuedMessages: 5 });
    const s = await persistentSubscriber('board', 'q');
    s.client.destroy();
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 8; i++) b.broker.publish({ topic: 'q', payload: String(i), qos: 1 });
    expect(b.broker.stats.publishDropped).toBe(3);
    expect(b.broker.sysValues()['$SYS/broker/publish/messages/dropped']).toBe('3');
    const again = await s.reconnect();
    const got: string[] = [];
    for (let i = 0; i < 5; i++)
      got.push(((await again.client.next('publish')) as IPublishPacket).payload.toString());
    expect(got).toEqual(['0', '1', '2', '3', '4']);
  });

  it('QoS 0 messages are not queued for offline clients unless queue_qos0_messages', async () => {
    b = await startBroker();
    const s = await persistentSubscriber('board', 'q0');
    s.client.destroy();
    await new Promise((r) => setTimeout(r, 50));
    b.broker.publish({ topic: 'q0', payload: 'lost', qos: 0 });
    const again = await s.reconnect();
    expect(await again.client.nothing('publish', 200)).toBe(true);
    await b.close();
    b = await startBroker({ queueQos0Messages: true });
    const s2 = await persistentSubscriber('board', 'q0');
    s2.client.destroy();
    await new Promise((r) => setTimeout(r, 50));
    b.broker.publish({ topic: 'q0', payload: 'kept', qos: 0 });
    const again2 = await s2.reconnect();
    expect(((await again2.client.next('publish')) as IPublishPacket).payload.toString()).toBe('kept');
  });

  it('[MQTT-3.1.2-23] v5 Session Expiry Interval: the session ends when it runs out', async () => {
    b = await startBroker();
    const s = await persistentSubscriber('board', 'e', 5, 1);
    s.client.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect(b.broker.subscriptions('board')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1200));
    expect(b.broker.subscriptions('board')).toHaveLength(0);
    const again = await s.reconnect();
    expect(again.connack.sessionPresent).toBe(false);
  });

  it('v5: Session Expiry 0 ends the session with the connection', async () => {
    b = await startBroker();
    const { client } = await RawClient.connected(b.port, { protocolVersion: 5, clientId: 'z', clean: false });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'z', qos: 1 }] });
    await client.next('suback');
    client.destroy();
    await client.waitClosed();
    await new Promise((r) => setTimeout(r, 50));
    expect(b.broker.subscriptions('z')).toEqual([]);
  });

  it('[MQTT-3.14.2-2] v5: DISCONNECT may not turn a session expiry of 0 into a persistent one', async () => {
    b = await startBroker();
    const { client } = await RawClient.connected(b.port, { protocolVersion: 5, clientId: 'z' });
    client.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
    const d = await client.next('disconnect');
    expect((d as { reasonCode?: number }).reasonCode).toBe(0x82);
  });

  it('persistent_client_expiration ends offline 3.1.1 persistent sessions', async () => {
    b = await startBroker({ persistentClientExpiration: 1 });
    const s = await persistentSubscriber('old', 'x');
    s.client.destroy();
    await new Promise((r) => setTimeout(r, 1500));
    expect(b.broker.subscriptions('old')).toEqual([]);
  });
});
