import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketReader, type ReadProblem } from '../../src/protocol/packet-reader.js';

// The reader cuts the byte stream into frames itself: however the stream is split into reads, the
// packets that come out are the same, oversize and malformed frames are refused at their header, and
// packets before a bad frame are still delivered.

function generate(packet: Record<string, unknown>, protocolVersion = 4): Buffer {
  return mqttPacket.generate(packet as unknown as Packet, { protocolVersion } as never);
}

const CONNECT_V4 = generate({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId: 'c',
  keepalive: 0,
});

function read(chunks: Buffer[], maxPacketSize = 0): { packets: Packet[]; problems: ReadProblem[] } {
  const packets: Packet[] = [];
  const problems: ReadProblem[] = [];
  const reader = new PacketReader(
    maxPacketSize,
    (p) => packets.push(p),
    (p) => problems.push(p),
  );
  for (const c of chunks) reader.push(c);
  return { packets, problems };
}

function stream(version: 4 | 5): Buffer {
  const frames = [
    generate(
      {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: version,
        clean: true,
        clientId: 'c1',
        keepalive: 60,
      },
      version,
    ),
    generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 1 }] }, version),
    generate(
      { cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false },
      version,
    ),
    generate(
      {
        cmd: 'publish',
        topic: 'a/ü',
        payload: Buffer.alloc(300, 1),
        qos: 1,
        messageId: 9,
        retain: true,
        dup: false,
      },
      version,
    ),
    generate(
      {
        cmd: 'publish',
        topic: 'a/c',
        payload: Buffer.alloc(0),
        qos: 2,
        messageId: 10,
        retain: false,
        dup: true,
      },
      version,
    ),
    generate({ cmd: 'pingreq' }, version),
    generate({ cmd: 'puback', messageId: 3 }, version),
  ];
  if (version === 5)
    frames.push(
      generate(
        {
          cmd: 'publish',
          topic: 'a/p',
          payload: Buffer.from('x'),
          qos: 0,
          retain: false,
          dup: false,
          properties: { userProperties: { k: 'v' } },
        },
        5,
      ),
    );
  frames.push(generate({ cmd: 'disconnect' }, version));
  return Buffer.concat(frames);
}

/** The packets' meaning, without fields that depend on how the parser holds its bytes. */
function summary(packets: Packet[]) {
  return packets.map((p) => {
    const { payload, ...rest } = p as Packet & { payload?: Buffer };
    return { ...rest, payload: payload == null ? payload : Buffer.from(payload).toString('hex') };
  });
}

describe('PacketReader', () => {
  for (const version of [4, 5] as const) {
    it(`v${version}: every split of the stream into two reads, and one byte per read, gives the same packets`, () => {
      const bytes = stream(version);
      const whole = read([bytes]);
      expect(whole.problems).toEqual([]);
      expect(whole.packets.map((p) => p.cmd)).toEqual(
        version === 5
          ? [
              'connect',
              'subscribe',
              'publish',
              'publish',
              'publish',
              'pingreq',
              'puback',
              'publish',
              'disconnect',
            ]
          : ['connect', 'subscribe', 'publish', 'publish', 'publish', 'pingreq', 'puback', 'disconnect'],
      );
      const expected = summary(whole.packets);
      for (let cut = 1; cut < bytes.length; cut++) {
        const split = read([bytes.subarray(0, cut), bytes.subarray(cut)]);
        expect(summary(split.packets), `cut at ${cut}`).toEqual(expected);
      }
      const bytewise = read([...bytes].map((b) => Buffer.from([b])));
      expect(summary(bytewise.packets)).toEqual(expected);
    });
  }

  it('refuses a frame over the limit from its header alone, before the body arrives', () => {
    const big = generate({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.alloc(5000),
      qos: 0,
      retain: false,
      dup: false,
    });
    const r = read([CONNECT_V4, big.subarray(0, 3)], 1000);
    expect(r.packets.map((p) => p.cmd)).toEqual(['connect']);
    expect(r.problems).toEqual([{ kind: 'too-large', size: big.length, limit: 1000 }]);
  });

  it('a remaining length of five bytes is malformed; the packets before it in the same read still count', () => {
    const ping = generate({ cmd: 'pingreq' });
    const r = read([Buffer.concat([CONNECT_V4, ping, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])])]);
    expect(r.packets.map((p) => p.cmd)).toEqual(['connect', 'pingreq']);
    expect(r.problems).toEqual([{ kind: 'malformed', message: 'remaining length longer than four bytes' }]);
  });

  it('[MQTT-3.1.0-1] a first packet that is not CONNECT is refused at its first byte, before any body', () => {
    const r = read([Buffer.from([0x30]), Buffer.from([0xff, 0xff, 0xff, 0x7f])]);
    expect(r.problems).toEqual([{ kind: 'malformed', message: 'the first packet is not CONNECT' }]);
  });

  it('a CONNECT larger than the pre-login cap is refused from its header', () => {
    const r = read([Buffer.from([0x10, 0x80, 0x80, 0x04])]); // 65536 bytes announced
    expect(r.problems).toEqual([{ kind: 'too-large', size: 65540, limit: 65536 }]);
  });

  it('a PUBLISH topic that is not well-formed UTF-8 is malformed', () => {
    const r = read([CONNECT_V4, Buffer.from([0x30, 5, 0, 2, 0xc3, 0x28, 0x41])]);
    expect(r.packets.map((p) => p.cmd)).toEqual(['connect']);
    expect(r.problems[0]?.kind).toBe('malformed');
  });

  it('connections share one mqtt-packet parser: a bad frame on one leaves the next clean', () => {
    const packets: Packet[] = [];
    const problems: ReadProblem[] = [];
    const a = new PacketReader(
      0,
      (p) => packets.push(p),
      (p) => problems.push(p),
    );
    const b = new PacketReader(
      0,
      (p) => packets.push(p),
      (p) => problems.push(p),
    );
    // A CONNECT with protocol level 6, then a good CONNECT on another connection.
    a.push(
      Buffer.from([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x61]),
    );
    b.push(CONNECT_V4);
    expect(problems.map((p) => p.kind)).toEqual(['unsupported-protocol']);
    expect(packets.map((p) => p.cmd)).toEqual(['connect']);
  });

  it('frames split across reads on several connections at once do not mix', () => {
    const got: string[] = [];
    const readers = ['a', 'b'].map(
      (name) =>
        new PacketReader(
          0,
          (p) => got.push(`${name}:${p.cmd}`),
          () => got.push(`${name}:problem`),
        ),
    );
    const subscribe = generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/#', qos: 0 }] });
    readers[0]!.push(CONNECT_V4);
    readers[1]!.push(CONNECT_V4);
    readers[0]!.push(subscribe.subarray(0, 5));
    readers[1]!.push(subscribe);
    readers[0]!.push(subscribe.subarray(5));
    expect(got).toEqual(['a:connect', 'b:connect', 'b:subscribe', 'a:subscribe']);
  });
});
