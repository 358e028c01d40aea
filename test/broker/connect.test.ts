import type { IConnackPacket, IDisconnectPacket } from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Authenticator } from '../../src/index.js';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let b: RunningBroker;
afterEach(async () => {
  await b?.close();
});

describe('CONNECT and CONNACK', () => {
  beforeEach(async () => {
    b = await startBroker();
  });

  it('accepts MQTT 3.1 (MQIsdp), 3.1.1 and 5.0', async () => {
    for (const v of [3, 4, 5] as const) {
      const { client, connack } = await RawClient.connected(b.port, {
        protocolVersion: v,
        clientId: `c${v}`,
      });
      expect(v === 5 ? connack.reasonCode : connack.returnCode).toBe(0);
      expect(b.broker.clients().map((c) => c.protocolVersion)).toContain(v);
      client.destroy();
    }
  });

  it('[MQTT-3.1.3-6] assigns an id to a 3.1.1 clean-session client with an empty id', async () => {
    const { connack } = await RawClient.connected(b.port, { clientId: '', clean: true });
    expect(connack.returnCode).toBe(0);
    expect(b.broker.clients()[0]!.clientId).toMatch(/^auto-/);
  });

  it('[MQTT-3.1.3-8] refuses an empty id without clean session (3.1.1) with return code 2', async () => {
    const client = await RawClient.open(b.port);
    // CONNECT 3.1.1, flags 0 (no clean session), keepalive 60, empty client id
    client.sendBytes([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x3c, 0x00, 0x00]);
    const connack = (await client.next('connack')) as IConnackPacket;
    expect(connack.returnCode).toBe(2);
    await client.waitClosed();
  });

  it('[MQTT-3.2.2-16] v5: assigns an id and returns it in Assigned Client Identifier', async () => {
    const client = await RawClient.open(b.port, 5);
    // CONNECT 5.0, no clean start, keepalive 60, no properties, empty client id
    client.sendBytes([
      0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00,
    ]);
    const connack = (await client.next('connack')) as IConnackPacket;
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.assignedClientIdentifier).toMatch(/^auto-/);
  });

  it('v5 CONNACK advertises what the broker supports', async () => {
    const { connack } = await RawClient.connected(b.port, { protocolVersion: 5 });
    expect(connack.properties).toMatchObject({
      sharedSubscriptionAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      retainAvailable: true,
    });
    expect(connack.properties?.topicAliasMaximum).toBeGreaterThan(0);
  });

  it('[MQTT-3.1.2-2] answers an unknown protocol level with return code 1 and closes', async () => {
    const client = await RawClient.open(b.port);
    // CONNECT, protocol name MQTT, level 6
    client.sendBytes([
      0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x61,
    ]);
    const connack = (await client.next('connack')) as IConnackPacket;
    expect(connack.returnCode).toBe(1);
    await client.waitClosed();
  });

  it('[MQTT-3.1.0-1] closes a connection whose first packet is not CONNECT', async () => {
    const client = await RawClient.open(b.port);
    client.send({ cmd: 'pingreq' });
    await client.waitClosed();
    expect(client.packets).toEqual([]);
  });

  it('[MQTT-3.1.0-2] a second CONNECT is a protocol violation (v5: DISCONNECT 0x82)', async () => {
    const { client } = await RawClient.connected(b.port, { protocolVersion: 5, clientId: 'twice' });
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clientId: 'twice',
      clean: true,
      keepalive: 60,
    });
    const d = (await client.next('disconnect')) as IDisconnectPacket;
    expect(d.reasonCode).toBe(0x82);
    await client.waitClosed();
  });

  it('[MQTT-3.1.4-3] a second connection with the same id takes over; v5 gets DISCONNECT 0x8E', async () => {
    const first = await RawClient.connected(b.port, { protocolVersion: 5, clientId: 'same' });
    const second = await RawClient.connected(b.port, { protocolVersion: 4, clientId: 'same' });
    expect(second.connack.returnCode).toBe(0);
    const d = (await first.client.next('disconnect')) as IDisconnectPacket;
    expect(d.reasonCode).toBe(0x8e);
    await first.client.waitClosed();
    expect(b.broker.clients().map((c) => c.clientId)).toEqual(['same']);
  });

  it('[MQTT-3.1.2-24] closes a client silent for 1.5x its keepalive; v5 gets DISCONNECT 0x8D', async () => {
    const { client } = await RawClient.connected(b.port, { protocolVersion: 5, keepalive: 1 });
    const started = Date.now();
    const d = (await client.next('disconnect', 4000)) as IDisconnectPacket;
    expect(d.reasonCode).toBe(0x8d);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await client.waitClosed();
  });

  it('keeps a client that sends PINGREQ within its keepalive', async () => {
    const { client } = await RawClient.connected(b.port, { keepalive: 1 });
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 700));
      client.send({ cmd: 'pingreq' });
      await client.next('pingresp');
    }
    expect(client.closed).toBe(false);
    client.destroy();
  });
});

describe('limits and refusals', () => {
  it('v5: a keepalive above max_keepalive is lowered with Server Keep Alive', async () => {
    b = await startBroker({ maxKeepalive: 30 });
    const { connack } = await RawClient.connected(b.port, { protocolVersion: 5, keepalive: 120 });
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.serverKeepAlive).toBe(30);
  });

  it('3.1.1: a keepalive above max_keepalive is refused (as mosquitto does)', async () => {
    b = await startBroker({ maxKeepalive: 30 });
    const { connack } = await RawClient.connected(b.port, { keepalive: 120 });
    expect(connack.returnCode).toBe(2);
  });

  it('closes a connection that never sends CONNECT', async () => {
    b = await startBroker({ connectTimeout: 300 });
    const client = await RawClient.open(b.port);
    await client.waitClosed(3000);
  });

  it('refuses bad credentials with 4 (3.1.1) / 0x86 (v5) and not-authorized with 5 / 0x87', async () => {
    const authenticator: Authenticator = {
      authenticate: (a) =>
        a.username === 'good' && a.password?.toString() === 'pw'
          ? { ok: true }
          : a.username === undefined
            ? { ok: false, reason: 'not-authorized' }
            : { ok: false, reason: 'bad-credentials' },
    };
    b = await startBroker({ authenticator });
    const bad4 = await RawClient.connected(b.port, { username: 'good', password: Buffer.from('nope') });
    expect(bad4.connack.returnCode).toBe(4);
    const bad5 = await RawClient.connected(b.port, {
      protocolVersion: 5,
      username: 'x',
      password: Buffer.from('y'),
    });
    expect(bad5.connack.reasonCode).toBe(0x86);
    const anon4 = await RawClient.connected(b.port, {});
    expect(anon4.connack.returnCode).toBe(5);
    const anon5 = await RawClient.connected(b.port, { protocolVersion: 5 });
    expect(anon5.connack.reasonCode).toBe(0x87);
    const ok = await RawClient.connected(b.port, { username: 'good', password: Buffer.from('pw') });
    expect(ok.connack.returnCode).toBe(0);
    await bad4.client.waitClosed();
  });
});

describe('reason strings', () => {
  it('v5: a packet over max_packet_size gets DISCONNECT 0x95 with a reason string saying why', async () => {
    b = await startBroker({ maxPacketSize: 100 });
    const { client } = await RawClient.connected(b.port, { protocolVersion: 5 });
    client.send({ cmd: 'publish', topic: 't', payload: Buffer.alloc(200), qos: 0 });
    const d = (await client.next('disconnect')) as IDisconnectPacket;
    expect(d.reasonCode).toBe(0x95);
    expect(d.properties?.reasonString).toMatch(/over the maximum of 100/);
    await client.waitClosed();
  });

  it('v5: Request Problem Information 0 suppresses reason strings', async () => {
    b = await startBroker({ maxPacketSize: 100 });
    const { client } = await RawClient.connected(b.port, {
      protocolVersion: 5,
      properties: { requestProblemInformation: false },
    });
    client.send({ cmd: 'publish', topic: 't', payload: Buffer.alloc(200), qos: 0 });
    const d = (await client.next('disconnect')) as IDisconnectPacket;
    expect(d.reasonCode).toBe(0x95);
    expect(d.properties?.reasonString).toBeUndefined();
  });
});
