import mqttPacket, { type IConnackPacket, type IDisconnectPacket, type IPublishPacket } from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { describeErrors, type Trap, trapUncaught } from './fuzz/uncaught.js';

/**
 * Hostile and broken input, byte for byte: each case is sent by a raw client, the broker must end
 * that connection the way the spec says (v5: a DISCONNECT with the right reason code first; 3.1.1:
 * just a closed connection), and afterwards serve other clients as before.
 */

let b: RunningBroker;
const clients: RawClient[] = [];
let trap: Trap;
beforeEach(async () => {
  // A throw inside the (in-process) broker would kill a real broker: every test asserts there was none.
  trap = trapUncaught();
  b = await startBroker({ maxPacketSize: 4096 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await b?.close();
  trap.restore();
});

/** The broker threw nothing while the test ran. */
function expectNoThrow(): void {
  expect(trap.errors, describeErrors(trap.errors)).toEqual([]);
}

let n = 0;
async function connected(version: 4 | 5, extra: Record<string, unknown> = {}): Promise<RawClient> {
  n++;
  const { client, connack } = await RawClient.connected(b.port, {
    protocolVersion: version,
    clientId: `bad-${version}-${n}`,
    ...extra,
  });
  clients.push(client);
  expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(0);
  return client;
}

async function opened(version: 4 | 5): Promise<RawClient> {
  const c = await RawClient.open(b.port, version);
  clients.push(c);
  return c;
}

/** A fresh client can still connect, subscribe and get a QoS 1 message through the broker. */
async function brokerStillServes(): Promise<void> {
  expectNoThrow();
  const sub = await connected(4);
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'still/works', qos: 1 }] });
  await sub.next('suback');
  const pub = await connected(5);
  pub.send({ cmd: 'publish', topic: 'still/works', payload: Buffer.from('yes'), qos: 1, messageId: 7 });
  await pub.next('puback');
  const m = (await sub.next('publish')) as IPublishPacket;
  expect(m.payload.toString()).toBe('yes');
  expect(m.qos).toBe(1);
  expectNoThrow();
}

/** v5: DISCONNECT with `reasonCode`, then the close [MQTT-4.13.1-1]. 3.1.1: closed, nothing sent. */
async function expectEnded(client: RawClient, version: 4 | 5, reasonCode: number | number[]): Promise<void> {
  await client.waitClosed(2500);
  const disconnect = client.packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
  if (version === 5) {
    expect(disconnect, 'a DISCONNECT before the close').toBeDefined();
    expect([reasonCode].flat()).toContain(disconnect!.reasonCode);
  } else {
    expect(disconnect).toBeUndefined();
  }
}

/** PUBLISH QoS 0 with the topic given as raw bytes (for ill-formed UTF-8), v5 with no properties. */
function publishWithTopicBytes(topic: number[], version: 4 | 5): Buffer {
  const body = [0x00, topic.length, ...topic, ...(version === 5 ? [0x00] : []), 0x68, 0x69];
  return Buffer.from([0x30, body.length, ...body]);
}

/** CONNECT with the client id given as raw bytes, clean session, keepalive 60. */
function connectWithClientIdBytes(id: number[], version: 4 | 5): Buffer {
  const body = [
    0x00,
    0x04,
    0x4d,
    0x51,
    0x54,
    0x54,
    version,
    0x02,
    0x00,
    0x3c,
    ...(version === 5 ? [0x00] : []),
    0x00,
    id.length,
    ...id,
  ];
  return Buffer.from([0x10, body.length, ...body]);
}

describe.each([4, 5] as const)('bad input from a protocol version %i client', (version) => {
  const itV5WrongCode = it;
  it('[MQTT-1.5.5-1] a remaining length of five bytes is malformed: 0x81 / closed', async () => {
    const c = await connected(version);
    c.sendBytes([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00]);
    await expectEnded(c, version, 0x81);
    await brokerStillServes();
  });

  it('[MQTT-2.1.3-1] [MQTT-3.8.1-1] SUBSCRIBE with reserved flags 0000 is malformed: 0x81 / closed', async () => {
    const c = await connected(version);
    // 0x80: SUBSCRIBE with flags 0 (must be 0010). Packet id 1, (v5: no properties), 'a' QoS 0.
    const body = [0x00, 0x01, ...(version === 5 ? [0x00] : []), 0x00, 0x01, 0x61, 0x00];
    c.sendBytes([0x80, body.length, ...body]);
    await expectEnded(c, version, 0x81);
    expect(c.packets.find((p) => p.cmd === 'suback')).toBeUndefined();
    await brokerStillServes();
  });

  it('[MQTT-2.1.3-1] [MQTT-3.6.1-1] PUBREL with reserved flags 0000 is malformed: 0x81 / closed', async () => {
    const c = await connected(version);
    c.sendBytes([0x60, 0x02, 0x00, 0x01]);
    await expectEnded(c, version, 0x81);
    await brokerStillServes();
  });

  it('[MQTT-3.3.1-4] PUBLISH with both QoS bits set is malformed: 0x81 / closed', async () => {
    const c = await connected(version);
    const body = [0x00, 0x01, 0x61, 0x00, 0x01, ...(version === 5 ? [0x00] : [])];
    c.sendBytes([0x36, body.length, ...body]);
    await expectEnded(c, version, 0x81);
    await brokerStillServes();
  });

  it('[MQTT-3.1.0-1] a packet before CONNECT closes the connection without an answer', async () => {
    const c = await opened(version);
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] });
    await c.waitClosed(2500);
    expect(c.packets).toEqual([]);
    await brokerStillServes();
  });

  it('[MQTT-3.1.0-1] a PINGREQ before CONNECT closes the connection without a PINGRESP', async () => {
    const c = await opened(version);
    c.sendBytes([0xc0, 0x00]);
    await c.waitClosed(2500);
    expect(c.packets).toEqual([]);
    await brokerStillServes();
  });

  it('[MQTT-3.1.0-2] a second CONNECT is a protocol error: 0x82 / closed', async () => {
    const c = await connected(version);
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clean: true, clientId: 'again' });
    await expectEnded(c, version, 0x82);
    expect(c.packets.filter((p) => p.cmd === 'connack')).toEqual([]);
    await brokerStillServes();
  });

  it('[MQTT-3.1.2-3] CONNECT with the reserved flag bit set closes the connection', async () => {
    const c = await opened(version);
    const bytes = connectWithClientIdBytes([0x61], version);
    bytes[9] = 0x03; // clean session + reserved bit 0
    c.sendBytes(bytes);
    await c.waitClosed(2500);
    const connack = c.packets.find((p) => p.cmd === 'connack') as IConnackPacket | undefined;
    if (connack) expect(version === 5 ? connack.reasonCode : connack.returnCode).not.toBe(0);
    await brokerStillServes();
  });

  it('[MQTT-3.3.2-2] wildcards in a PUBLISH topic: 0x90 / closed, and nobody gets it', async () => {
    const watcher = await connected(4);
    watcher.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] });
    await watcher.next('suback');
    for (const topic of ['a/+/c', 'a/#']) {
      const c = await connected(version);
      c.send({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 0 });
      await expectEnded(c, version, 0x90);
    }
    expect(await watcher.nothing('publish', 200)).toBe(true);
    await brokerStillServes();
  });

  itV5WrongCode(
    '[MQTT-1.5.4-1] ill-formed UTF-8 in a PUBLISH topic is malformed: 0x81 / closed',
    async () => {
      const c = await connected(version);
      c.sendBytes(publishWithTopicBytes([0x61, 0x2f, 0xff, 0xfe], version));
      await expectEnded(c, version, 0x81);
      await brokerStillServes();
    },
  );

  itV5WrongCode(
    '[MQTT-1.5.4-1] a UTF-16 surrogate encoded in a PUBLISH topic is malformed: 0x81 / closed',
    async () => {
      const c = await connected(version);
      c.sendBytes(publishWithTopicBytes([0x61, 0xed, 0xa0, 0x80], version));
      await expectEnded(c, version, 0x81);
      await brokerStillServes();
    },
  );

  itV5WrongCode(
    '[MQTT-1.5.4-2] [MQTT-4.7.3-2] U+0000 in a PUBLISH topic is malformed: 0x81 / closed',
    async () => {
      const c = await connected(version);
      c.sendBytes(publishWithTopicBytes([0x61, 0x00, 0x62], version));
      await expectEnded(c, version, 0x81);
      await brokerStillServes();
    },
  );

  it('[MQTT-1.5.4-1] the valid character U+FFFD in a topic is accepted and routed', async () => {
    const sub = await connected(version);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'odd/\uFFFD', qos: 1 }] });
    const suback = await sub.next('suback');
    expect((suback as { granted: number[] }).granted).toEqual([1]);
    const pub = await connected(version);
    pub.send({ cmd: 'publish', topic: 'odd/\uFFFD', payload: Buffer.from('ok'), qos: 1, messageId: 1 });
    await pub.next('puback');
    const m = (await sub.next('publish')) as IPublishPacket;
    expect(m.topic).toBe('odd/\uFFFD');
  });

  it('[MQTT-3.1.3-5] [MQTT-1.5.4-2] U+0000 in the client id: refused (CONNACK failure or close)', async () => {
    const c = await opened(version);
    c.sendBytes(connectWithClientIdBytes([0x61, 0x00, 0x62], version));
    await c.waitClosed(2500);
    const connack = c.packets.find((p) => p.cmd === 'connack') as IConnackPacket | undefined;
    if (connack) {
      if (version === 5) expect([0x81, 0x85]).toContain(connack.reasonCode);
      else expect(connack.returnCode).toBe(2);
    }
    expect(b.broker.clients().some((x) => x.clientId.startsWith('a'))).toBe(false);
    await brokerStillServes();
  });

  it('[MQTT-1.5.4-1] ill-formed UTF-8 in the client id: refused (CONNACK failure or close)', async () => {
    const c = await opened(version);
    c.sendBytes(connectWithClientIdBytes([0x61, 0xc3, 0x28], version));
    await c.waitClosed(2500);
    const connack = c.packets.find((p) => p.cmd === 'connack') as IConnackPacket | undefined;
    if (connack) {
      if (version === 5) expect([0x81, 0x85]).toContain(connack.reasonCode);
      else expect(connack.returnCode).toBe(2);
    }
    await brokerStillServes();
  });

  it('[MQTT-4.7.3-1] a zero-length topic without a topic alias: 0x82 / closed', async () => {
    const c = await connected(version);
    c.sendBytes(publishWithTopicBytes([], version));
    await expectEnded(c, version, 0x82);
    await brokerStillServes();
  });

  it('[MQTT-3.8.3-3] [MQTT-3.8.3-2] SUBSCRIBE with no topic filter: protocol error, and the broker survives', async () => {
    const c = await connected(version);
    const body = [0x00, 0x01, ...(version === 5 ? [0x00] : [])];
    c.sendBytes([0x82, body.length, ...body]);
    await expectEnded(c, version, 0x82);
    expect(c.packets.find((p) => p.cmd === 'suback')).toBeUndefined();
    await brokerStillServes();
  });

  it('[MQTT-3.10.3-2] UNSUBSCRIBE with no topic filter: protocol error, and the broker survives', async () => {
    const c = await connected(version);
    const body = [0x00, 0x01, ...(version === 5 ? [0x00] : [])];
    c.sendBytes([0xa2, body.length, ...body]);
    await expectEnded(c, version, 0x82);
    expect(c.packets.find((p) => p.cmd === 'unsuback')).toBeUndefined();
    await brokerStillServes();
  });

  it('[MQTT-3.3.1-2] PUBLISH QoS 0 with DUP set closes the connection (v5: 0x81/0x82)', async () => {
    const c = await connected(version);
    const body = [0x00, 0x01, 0x61, ...(version === 5 ? [0x00] : []), 0x78];
    c.sendBytes([0x38, body.length, ...body]);
    await expectEnded(c, version, [0x81, 0x82]);
    await brokerStillServes();
  });

  it('a packet over maxPacketSize (4096): 0x95 / closed before its body is read', async () => {
    const c = await connected(version);
    c.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(5000, 0x61), qos: 0 });
    await expectEnded(c, version, 0x95);
    expect(b.broker.retained()).toEqual([]);
    await brokerStillServes();
  });

  it('a declared length over maxPacketSize is refused from the header alone', async () => {
    const c = await connected(version);
    // PUBLISH declaring 100 MB; only the header is sent.
    c.sendBytes([0x30, 0x80, 0xc2, 0xd7, 0x2f]);
    await expectEnded(c, version, 0x95);
    await brokerStillServes();
  });

  it('an unknown packet type 0 (reserved) closes the connection', async () => {
    const c = await connected(version);
    c.sendBytes([0x00, 0x00]);
    await c.waitClosed(2500);
    await brokerStillServes();
  });
});

describe('v5-only bad input', () => {
  it('[MQTT-3.3.2-7] an unknown topic alias with an empty topic is a protocol error: 0x82', async () => {
    const c = await connected(5);
    c.send({ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, properties: { topicAlias: 3 } });
    await expectEnded(c, 5, 0x82);
    await brokerStillServes();
  });

  it('[MQTT-3.3.2-8] a topic alias above the Topic Alias Maximum: 0x94', async () => {
    const c = await connected(5);
    c.send({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from('x'),
      qos: 0,
      properties: { topicAlias: 999 },
    });
    await expectEnded(c, 5, 0x94);
    await brokerStillServes();
  });

  it('(MQTT 5.0 §3.3.2.3.4) a property allowed once, given twice (two Topic Aliases): 0x82 / closed', async () => {
    const c = await connected(5);
    // PUBLISH 't', properties: Topic Alias 1, Topic Alias 2.
    const body = [0x00, 0x01, 0x74, 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02, 0x78];
    c.sendBytes([0x30, body.length, ...body]);
    await c.waitClosed(2500);
    const d = c.packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
    expect(d?.reasonCode).toBe(0x82);
    await brokerStillServes();
  });

  it('(MQTT 5.0 §2.2.2.2) a PUBLISH property meant for another packet (Session Expiry): 0x81', async () => {
    const c = await connected(5);
    // PUBLISH 't', properties: Session Expiry Interval (0x11) = 1 — not a PUBLISH property.
    const body = [0x00, 0x01, 0x74, 0x05, 0x11, 0x00, 0x00, 0x00, 0x01, 0x78];
    c.sendBytes([0x30, body.length, ...body]);
    await c.waitClosed(2500);
    const d = c.packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
    expect([0x81, 0x82]).toContain(d?.reasonCode);
    await brokerStillServes();
  });
});

describe('CONNECT with an unknown protocol', () => {
  it('[MQTT-3.1.2-2] an unknown protocol level (6) gets CONNACK 0x01 (3.1.1 form) and a close', async () => {
    const c = await opened(4);
    const bytes = connectWithClientIdBytes([0x61], 4);
    bytes[8] = 6;
    c.sendBytes(bytes);
    const connack = (await c.next('connack')) as IConnackPacket;
    expect(connack.returnCode).toBe(1);
    await c.waitClosed(2500);
    await brokerStillServes();
  });

  it('[MQTT-3.1.2-1] an unknown protocol name (MQTX) closes the connection without accepting it', async () => {
    const c = await opened(4);
    const bytes = connectWithClientIdBytes([0x61], 4);
    bytes[7] = 0x58; // 'X'
    c.sendBytes(bytes);
    await c.waitClosed(2500);
    const connack = c.packets.find((p) => p.cmd === 'connack') as IConnackPacket | undefined;
    if (connack) expect(connack.returnCode).not.toBe(0);
    expect(b.broker.clients()).toEqual([]);
    await brokerStillServes();
  });

  it('a silent connection that never sends CONNECT is closed after connectTimeout', async () => {
    await b.close();
    b = await startBroker({ connectTimeout: 300 });
    const c = await opened(4);
    await c.waitClosed(5000);
    expect(c.packets).toEqual([]);
    await brokerStillServes();
  });
});

describe('a client that stops reading', () => {
  it('is dropped once maxClientBufferBytes is exceeded; other subscribers keep getting messages', async () => {
    await b.close();
    b = await startBroker({ maxClientBufferBytes: 256 * 1024 });
    const disconnects: string[] = [];
    b.broker.on('client-disconnect', (info, reason) => disconnects.push(`${info.clientId}:${reason}`));
    const slow = await connected(4, { clientId: 'slow-reader' });
    slow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood', qos: 0 }] });
    await slow.next('suback');
    slow.socket.pause(); // stops reading: the kernel buffers fill, then the broker's
    const fast = await connected(4, { clientId: 'fast-reader' });
    fast.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood', qos: 0 }] });
    await fast.next('suback');
    const pub = await connected(4, { clientId: 'flooder' });

    const one = mqttPacket.generate({
      cmd: 'publish',
      topic: 'flood',
      payload: Buffer.alloc(8 * 1024, 0x41),
      qos: 0,
      retain: false,
      dup: false,
    });
    const fifty = Buffer.concat(Array.from({ length: 50 }, () => one));
    let sent = 0;
    const deadline = Date.now() + 30_000;
    // At most 4000 x 8 KB = 32 MB, in writes of 50 messages, until the slow reader is dropped.
    for (let batch = 0; batch < 80 && Date.now() < deadline; batch++) {
      pub.sendBytes(fifty);
      sent += 50;
      // Let the fast reader keep up so that only the slow one falls behind.
      while (fast.packets.filter((p) => p.cmd === 'publish').length < sent && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      if (disconnects.includes('slow-reader:slow-consumer')) break;
    }
    expect(disconnects).toContain('slow-reader:slow-consumer');
    expect(b.broker.clients().map((c) => c.clientId)).not.toContain('slow-reader');
    expect(fast.packets.filter((p) => p.cmd === 'publish').length).toBe(sent);
    expect(fast.closed).toBe(false);
    // And after the drop the others still get messages.
    fast.packets.length = 0;
    pub.send({ cmd: 'publish', topic: 'flood', payload: Buffer.from('after'), qos: 1, messageId: 9 });
    await pub.next('puback');
    const m = (await fast.next('publish')) as IPublishPacket;
    expect(m.payload.toString()).toBe('after');
    await brokerStillServes();
  });
});
