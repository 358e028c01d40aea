import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import mqttPacket, {
  type IConnackPacket,
  type IDisconnectPacket,
  type IPublishPacket,
  type Packet,
} from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

// Issue 9, items 1–8: protocol details found from outside, each named with its spec statement.

let b: RunningBroker | undefined;
const raws: RawClient[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.destroy();
  await b?.close();
  b = undefined;
});

async function start(options: Parameters<typeof startBroker>[0] = {}): Promise<RunningBroker> {
  b = await startBroker(options);
  return b;
}

async function client(connect: Parameters<typeof RawClient.connected>[1] = {}) {
  const r = await RawClient.connected(b!.port, connect);
  raws.push(r.client);
  return r;
}

async function opened(version: 3 | 4 | 5): Promise<RawClient> {
  const c = await RawClient.open(b!.port, version);
  raws.push(c);
  return c;
}

function connectBytes(version: 4 | 5, extra: Record<string, unknown>): Buffer {
  return mqttPacket.generate(
    {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: version,
      clean: true,
      clientId: 'x',
      keepalive: 30,
      ...extra,
    } as Packet,
    { protocolVersion: version } as never,
  );
}

describe('1. outbound Topic Alias and Maximum Packet Size', () => {
  it('[MQTT-3.3.2-?] a PUBLISH dropped for the Maximum Packet Size registers no alias: the next one carries its topic', async () => {
    await start();
    const { client: sub } = await client({
      protocolVersion: 5,
      properties: { topicAliasMaximum: 5, maximumPacketSize: 100 },
    });
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'alias/#', qos: 0 }] });
    await sub.next('suback');
    b!.broker.publish({ topic: 'alias/t', payload: Buffer.alloc(500) }); // too big: dropped
    b!.broker.publish({ topic: 'alias/t', payload: 'small' });
    const got = (await sub.next('publish')) as IPublishPacket;
    expect([got.topic, got.payload.toString(), got.properties?.topicAlias]).toEqual(['alias/t', 'small', 1]);
  });

  it('MQTT.js with topic aliases keeps its connection when a message too big for it is dropped', async () => {
    await start();
    const c = mqtt.connect({
      host: '127.0.0.1',
      port: b!.port,
      protocolVersion: 5,
      reconnectPeriod: 0,
      properties: { topicAliasMaximum: 5, maximumPacketSize: 100 },
    });
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.message));
    await new Promise((r) => c.once('connect', r));
    await c.subscribeAsync('alias/#', { qos: 0 });
    const got = new Promise<string>((r) => c.once('message', (_t, p) => r(p.toString())));
    b!.broker.publish({ topic: 'alias/t', payload: Buffer.alloc(500) });
    b!.broker.publish({ topic: 'alias/t', payload: 'small' });
    expect(await got).toBe('small');
    expect(errors).toEqual([]);
    expect(c.connected).toBe(true);
    c.end(true);
  });
});

describe('2. Receive Maximum', () => {
  it('[MQTT-3.3.4-9] CONNACK advertises max_inflight_messages; one more QoS 2 PUBLISH in progress: DISCONNECT 0x93', async () => {
    await start({ maxInflightMessages: 3 });
    const { client: pub, connack } = await client({ protocolVersion: 5 });
    expect(connack.properties?.receiveMaximum).toBe(3);
    for (let id = 1; id <= 3; id++) {
      pub.send({ cmd: 'publish', topic: 'rm', payload: Buffer.from('x'), qos: 2, messageId: id });
      await pub.next('pubrec');
    }
    // A resend of one still in progress is not a new one.
    pub.send({ cmd: 'publish', topic: 'rm', payload: Buffer.from('x'), qos: 2, messageId: 2, dup: true });
    await pub.next('pubrec');
    pub.send({ cmd: 'publish', topic: 'rm', payload: Buffer.from('x'), qos: 2, messageId: 4 });
    const d = (await pub.next('disconnect')) as IDisconnectPacket;
    expect(d.reasonCode).toBe(0x93);
    await pub.waitClosed();
  });

  it('a PUBCOMP sent frees a place: the client may go on for ever at its Receive Maximum', async () => {
    await start({ maxInflightMessages: 2 });
    const { client: pub } = await client({ protocolVersion: 5 });
    for (let id = 1; id <= 10; id++) {
      pub.send({ cmd: 'publish', topic: 'rm', payload: Buffer.from('x'), qos: 2, messageId: id });
      await pub.next('pubrec');
      pub.send({ cmd: 'pubrel', messageId: id });
      await pub.next('pubcomp');
    }
    expect(pub.closed).toBe(false);
  });

  it("[MQTT-4.9.0-2] outbound: no more QoS 1 PUBLISHes in flight than the client's Receive Maximum", async () => {
    await start();
    const { client: sub } = await client({ protocolVersion: 5, properties: { receiveMaximum: 2 } });
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'win', qos: 1 }] });
    await sub.next('suback');
    for (let i = 0; i < 5; i++) b!.broker.publish({ topic: 'win', payload: String(i), qos: 1 });
    const first = [
      (await sub.next('publish')) as IPublishPacket,
      (await sub.next('publish')) as IPublishPacket,
    ];
    expect(await sub.nothing('publish', 300)).toBe(true);
    sub.send({ cmd: 'puback', messageId: first[0]!.messageId, reasonCode: 0 });
    expect(((await sub.next('publish')) as IPublishPacket).payload.toString()).toBe('2');
  });
});

describe('3. packet identifier 0', () => {
  for (const version of [4, 5] as const) {
    it(`[MQTT-2.2.1-3] SUBSCRIBE and UNSUBSCRIBE with packet id 0 are malformed (v${version})`, async () => {
      await start();
      for (const bytes of [
        // SUBSCRIBE, id 0, (v5: no properties), 't' QoS 0
        version === 5 ? [0x82, 7, 0, 0, 0, 0, 1, 0x74, 0] : [0x82, 6, 0, 0, 0, 1, 0x74, 0],
        // UNSUBSCRIBE, id 0, 't'
        version === 5 ? [0xa2, 6, 0, 0, 0, 0, 1, 0x74] : [0xa2, 5, 0, 0, 0, 1, 0x74],
      ]) {
        const { client: c } = await client({ protocolVersion: version });
        c.sendBytes(bytes);
        if (version === 5) expect(((await c.next('disconnect')) as IDisconnectPacket).reasonCode).toBe(0x81);
        await c.waitClosed();
        expect(c.packets.filter((p) => p.cmd === 'suback' || p.cmd === 'unsuback')).toEqual([]);
      }
    });
  }
});

describe('4. property values out of range', () => {
  it('[MQTT-2.2.2-?] a Payload Format Indicator of 0xED is a protocol error (0x82) and reaches nobody', async () => {
    await start();
    const { client: sub } = await client({ protocolVersion: 5 });
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'pfi', qos: 0 }] });
    await sub.next('suback');
    const { client: pub } = await client({ protocolVersion: 5 });
    // PUBLISH QoS 0 'pfi', properties: Payload Format Indicator (0x01) = 0xED, payload 'x'.
    pub.sendBytes([0x30, 9, 0, 3, 0x70, 0x66, 0x69, 2, 0x01, 0xed, 0x78]);
    expect(((await pub.next('disconnect')) as IDisconnectPacket).reasonCode).toBe(0x82);
    expect(await sub.nothing('publish', 300)).toBe(true);
  });

  it('Request Problem Information of 2 in CONNECT, and Receive Maximum or Maximum Packet Size of 0: refused', async () => {
    await start();
    // CONNECT v5 with Request Problem Information (0x17) = 2.
    const bad = connectBytes(5, { properties: { requestProblemInformation: true } });
    const at = bad.indexOf(Buffer.from([0x17, 0x01]));
    bad[at + 1] = 2;
    const c = await opened(5);
    c.sendBytes(bad);
    await c.waitClosed();
    expect(c.packets.filter((p) => p.cmd === 'connack' && (p as IConnackPacket).reasonCode === 0)).toEqual(
      [],
    );
    for (const properties of [{ receiveMaximum: 0 }, { maximumPacketSize: 0 }]) {
      const r = await opened(5);
      const one = 'receiveMaximum' in properties ? { receiveMaximum: 1 } : { maximumPacketSize: 1 };
      r.sendBytes(patchZero(connectBytes(5, { properties: one }), properties));
      const connack = (await r.next('connack')) as IConnackPacket;
      expect(connack.reasonCode).toBe(0x82);
      await r.waitClosed();
    }
  });

  it('a Subscription Identifier of 0 is a protocol error', async () => {
    await start();
    const { client: c } = await client({ protocolVersion: 5 });
    // SUBSCRIBE id 1, properties: Subscription Identifier (0x0B) = 0, 't' QoS 0.
    c.sendBytes([0x82, 9, 0, 1, 2, 0x0b, 0, 0, 1, 0x74, 0]);
    expect(((await c.next('disconnect')) as IDisconnectPacket).reasonCode).toBe(0x82);
  });
});

describe('5. zero-length will topic', () => {
  it('[MQTT-3.1.4-1] 3.1.1: closed without a CONNACK; v5: CONNACK 0x81 (malformed)', async () => {
    await start();
    const v4 = await opened(4);
    v4.sendBytes(
      connectBytes(4, { will: { topic: 'w', payload: Buffer.from('bye'), qos: 0, retain: false } }),
    );
    await v4.next('connack');
    const empty4 = await opened(4);
    empty4.sendBytes(
      emptyWillTopic(
        connectBytes(4, { will: { topic: 'w', payload: Buffer.from('bye'), qos: 0, retain: false } }),
      ),
    );
    await empty4.waitClosed();
    expect(empty4.packets).toEqual([]);
    const empty5 = await opened(5);
    empty5.sendBytes(
      emptyWillTopic(
        connectBytes(5, { will: { topic: 'w', payload: Buffer.from('bye'), qos: 0, retain: false } }),
      ),
    );
    expect(((await empty5.next('connack')) as IConnackPacket).reasonCode).toBe(0x81);
    await empty5.waitClosed();
  });
});

describe('6. MQTT 3.1 CONNACK', () => {
  it('[MQTT 3.1] the byte after the CONNACK flags is reserved: no session-present bit, even for a resumed session', async () => {
    await start();
    const who = {
      protocolVersion: 3 as const,
      protocolId: 'MQIsdp' as const,
      clientId: 'old31',
      clean: false,
    };
    (await client(who)).client.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const c = await opened(3);
    const raw: Buffer[] = [];
    c.socket.on('data', (d) => raw.push(d));
    c.send({ cmd: 'connect', keepalive: 30, ...who } as Packet);
    await c.next('connack');
    expect([...Buffer.concat(raw).subarray(0, 4)]).toEqual([0x20, 2, 0, 0]);
  });
});

describe('8. memory before authentication', () => {
  it('a first byte that is not CONNECT closes at once; a CONNECT over 64 KiB is refused from its header', async () => {
    await start();
    for (const first of [
      Buffer.from([0x30, 0xff, 0xff, 0xff, 0x1f]),
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0x1f]),
    ]) {
      const c = await opened(4);
      c.sendBytes(first); // a PUBLISH / CONNECT announcing ~256 MiB
      await c.waitClosed(2000);
    }
  });

  it('50 connections sending 60 MiB first packets from one address leave the broker process within a few MB', async () => {
    // The broker in its own process (mothership up), so its RSS is its own.
    const { startUp, freePort, killHard, scratch } = await import('../store/helpers/up-process.js');
    const port = await freePort();
    const up = await startUp(port, scratch('ms-preauth-'), ['--no-persistence']);
    try {
      const rss = () => {
        const status = readFileSync(`/proc/${up.child.pid}/status`, 'utf8');
        return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
      };
      const before = rss();
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const sockets: Socket[] = [];
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) =>
            new Promise<void>((resolve) => {
              const s = netConnect(port, '127.0.0.1');
              sockets.push(s);
              s.on('error', () => resolve());
              s.on('close', () => resolve());
              s.on('connect', () => {
                // Half of them a PUBLISH first, half a CONNECT, each announcing 60 MiB, then filling.
                s.write(Buffer.from([i % 2 ? 0x30 : 0x10, 0x80, 0x80, 0x80, 0x1e]));
                let sent = 0;
                const more = () => {
                  while (sent < 60 * 1024 * 1024 && !s.destroyed) {
                    sent += chunk.length;
                    if (!s.write(chunk)) return s.once('drain', more);
                  }
                };
                more();
              });
            }),
        ),
      );
      const after = rss();
      for (const s of sockets) s.destroy();
      console.log(
        `pre-auth: broker RSS ${before.toFixed(1)} MB before, ${after.toFixed(1)} MB after 50 hostile connections`,
      );
      expect(after - before).toBeLessThan(8);
    } finally {
      await killHard(up);
    }
  }, 60_000);
});

/** Sets the two-byte value of Receive Maximum / the four-byte Maximum Packet Size in a CONNECT to 0. */
function patchZero(
  bytes: Buffer,
  properties: { receiveMaximum?: number; maximumPacketSize?: number },
): Buffer {
  const [code, size] = 'receiveMaximum' in properties ? [0x21, 2] : [0x27, 4];
  const at = bytes.indexOf(code, 10);
  for (let k = 1; k <= size; k++) bytes[at + k] = 0;
  return bytes;
}

/** The CONNECT with its one-byte will topic 'w' replaced by an empty one (lengths fixed up). */
function emptyWillTopic(bytes: Buffer): Buffer {
  const at = bytes.indexOf(Buffer.from([0, 1, 0x77]));
  const out = Buffer.concat([bytes.subarray(0, at), Buffer.from([0, 0]), bytes.subarray(at + 3)]);
  out[1] = out[1]! - 1;
  return out;
}
