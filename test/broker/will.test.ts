import type { IDisconnectPacket, IPublishPacket } from 'mqtt-packet';
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

async function watcher(filter = 'dev/status') {
  const { client } = await RawClient.connected(b.port, { protocolVersion: 5 });
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] });
  await client.next('suback');
  return client;
}

const will = { topic: 'dev/status', payload: Buffer.from('offline'), qos: 1 as const, retain: true };

describe('wills', () => {
  it('[MQTT-3.1.2-8] is published when the connection drops without DISCONNECT', async () => {
    const w = await watcher();
    const { client } = await RawClient.connected(b.port, { clientId: 'dev', will });
    client.destroy();
    const got = (await w.next('publish')) as IPublishPacket;
    expect(got.payload.toString()).toBe('offline');
    expect(b.broker.retained().map((m) => m.payload.toString())).toEqual(['offline']);
  });

  it('[MQTT-3.1.2-10] is not published after a normal DISCONNECT', async () => {
    const w = await watcher();
    const { client } = await RawClient.connected(b.port, { clientId: 'dev', will });
    client.send({ cmd: 'disconnect' });
    await client.waitClosed();
    expect(await w.nothing('publish', 300)).toBe(true);
  });

  it('v5: is published after DISCONNECT with reason 0x04', async () => {
    const w = await watcher();
    const { client } = await RawClient.connected(b.port, { protocolVersion: 5, clientId: 'dev', will });
    client.send({ cmd: 'disconnect', reasonCode: 0x04 });
    expect(((await w.next('publish')) as IPublishPacket).payload.toString()).toBe('offline');
  });

  it('is published on keepalive timeout', async () => {
    const w = await watcher();
    await RawClient.connected(b.port, { clientId: 'dev', keepalive: 1, will });
    expect(((await w.next('publish', 4000)) as IPublishPacket).payload.toString()).toBe('offline');
  });

  it('[MQTT-3.1.3-9] v5 Will Delay: sent after the delay, not if the client returns first', async () => {
    const w = await watcher();
    const delayed = { ...will, properties: { willDelayInterval: 1 } };
    const c1 = await RawClient.connected(b.port, {
      protocolVersion: 5,
      clientId: 'dev',
      clean: false,
      will: delayed,
      properties: { sessionExpiryInterval: 60 },
    });
    c1.client.destroy();
    await new Promise((r) => setTimeout(r, 300));
    // Back before the delay: no will.
    const c2 = await RawClient.connected(b.port, {
      protocolVersion: 5,
      clientId: 'dev',
      clean: false,
      will: delayed,
      properties: { sessionExpiryInterval: 60 },
    });
    expect(c2.connack.sessionPresent).toBe(true);
    expect(await w.nothing('publish', 1300)).toBe(true);
    c2.client.destroy();
    const started = Date.now();
    expect(((await w.next('publish', 3000)) as IPublishPacket).payload.toString()).toBe('offline');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('v5: a will waiting for its delay is sent when the session expires first', async () => {
    const w = await watcher();
    const { client } = await RawClient.connected(b.port, {
      protocolVersion: 5,
      clientId: 'dev',
      clean: false,
      will: { ...will, properties: { willDelayInterval: 30 } },
      properties: { sessionExpiryInterval: 1 },
    });
    client.destroy();
    expect(((await w.next('publish', 3000)) as IPublishPacket).payload.toString()).toBe('offline');
  });

  it('is published when the session is taken over (the old connection ended abnormally)', async () => {
    const w = await watcher();
    await RawClient.connected(b.port, { clientId: 'dev', will });
    await RawClient.connected(b.port, { clientId: 'dev' });
    expect(((await w.next('publish')) as IPublishPacket).payload.toString()).toBe('offline');
  });

  it('is not published when the broker shuts down gracefully; v5 clients get DISCONNECT 0x8B', async () => {
    const { client } = await RawClient.connected(b.port, { protocolVersion: 5, clientId: 'dev', will });
    const published: string[] = [];
    b.broker.on('publish', (m) => published.push(m.topic));
    await b.broker.close();
    const d = (await client.next('disconnect')) as IDisconnectPacket;
    expect(d.reasonCode).toBe(0x8b);
    expect(published).toEqual([]);
  });
});
