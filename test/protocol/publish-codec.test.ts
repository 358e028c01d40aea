import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { decodePublish, encodePublish } from '../../src/protocol/publish-codec.js';

// The hand-written PUBLISH codec must produce exactly mqtt-packet's bytes and packets, and leave every
// uncommon form (properties, bad strings, QoS 3, truncated frames) to mqtt-packet.

const VERSIONS = [3, 4, 5] as const;
const TOPICS = ['a', 'blue/btn/0', 'sensors/température/°C', 'x'.repeat(300)];
const PAYLOAD_SIZES = [0, 1, 64, 127, 128, 16_383, 16_384, 2_097_151 - 40, 2_097_152];

function generate(packet: Record<string, unknown>, protocolVersion: number): Buffer {
  return mqttPacket.generate(packet as unknown as Packet, { protocolVersion } as never);
}

function parseWithMqttPacket(frame: Buffer, protocolVersion: number): IPublishPacket {
  const parser = mqttPacket.parser({ protocolVersion });
  let out: Packet | undefined;
  parser.on('packet', (p: Packet) => {
    out = p;
  });
  parser.on('error', (e: Error) => {
    throw e;
  });
  parser.parse(frame);
  return out as IPublishPacket;
}

function headerLength(frame: Buffer): number {
  let n = 1;
  while (frame[n]! & 0x80) n++;
  return n + 1;
}

function cases() {
  const out: {
    version: number;
    topic: string;
    size: number;
    qos: 0 | 1 | 2;
    retain: boolean;
    dup: boolean;
  }[] = [];
  for (const version of VERSIONS)
    for (const topic of TOPICS)
      for (const size of PAYLOAD_SIZES)
        for (const qos of [0, 1, 2] as const)
          out.push({ version, topic, size, qos, retain: size % 2 === 0, dup: qos > 0 && size % 3 === 0 });
  return out;
}

type Case = ReturnType<typeof cases>[number];

/** The case as mqtt-packet's packet object. */
function publishPacket(c: Case, payload: Buffer, packetId: number | undefined): Record<string, unknown> {
  const packet: Record<string, unknown> = {
    cmd: 'publish',
    topic: c.topic,
    payload,
    qos: c.qos,
    retain: c.retain,
    dup: c.dup,
  };
  if (packetId !== undefined) packet.messageId = packetId;
  return packet;
}

describe('encodePublish', () => {
  it("writes exactly mqtt-packet's bytes for every version, QoS, flag, topic and remaining-length size", () => {
    for (const c of cases()) {
      const payload = Buffer.alloc(c.size, c.size % 251);
      const packetId = c.qos > 0 ? 1 + (c.size % 65535) : undefined;
      const ours = encodePublish(c.topic, payload, c.qos, c.retain, c.dup, packetId, c.version);
      expect(
        ours?.equals(generate(publishPacket(c, payload, packetId), c.version)),
        JSON.stringify({ ...c, payload: undefined }),
      ).toBe(true);
    }
  });

  it('declines what MQTT cannot express (a topic over 65,535 bytes), for mqtt-packet to report', () => {
    expect(encodePublish('t'.repeat(65_536), Buffer.alloc(0), 0, false, false, undefined, 4)).toBeUndefined();
  });
});

describe('decodePublish', () => {
  it('reads what mqtt-packet reads: topic, payload, QoS, retain, DUP, packet id, length', () => {
    for (const c of cases()) {
      const payload = Buffer.alloc(c.size, 7);
      const frame = generate(publishPacket(c, payload, c.qos > 0 ? 4242 : undefined), c.version);
      const ours = decodePublish(frame, headerLength(frame), c.version);
      const theirs = parseWithMqttPacket(frame, c.version);
      expect(ours, JSON.stringify({ ...c, payload: undefined })).toBeDefined();
      expect({ ...ours, payload: undefined }).toEqual({
        ...theirs,
        payload: undefined,
        properties: undefined,
      });
      expect((ours!.payload as Buffer).equals(theirs.payload as Buffer)).toBe(true);
    }
  });

  it('leaves v5 properties to mqtt-packet', () => {
    const frame = generate(
      {
        cmd: 'publish',
        topic: 't',
        payload: Buffer.from('x'),
        qos: 0,
        retain: false,
        dup: false,
        properties: { contentType: 'text/plain' },
      },
      5,
    );
    expect(decodePublish(frame, 2, 5)).toBeUndefined();
    expect(parseWithMqttPacket(frame, 5).properties).toEqual({ contentType: 'text/plain' });
  });

  it('leaves ill-formed UTF-8, U+0000, QoS 3 and truncated frames to mqtt-packet', () => {
    const frame = (body: number[], flags = 0) => Buffer.from([0x30 | flags, body.length, ...body]);
    expect(decodePublish(frame([0, 2, 0xc3, 0x28, 0x41]), 2, 4)).toBeUndefined(); // invalid UTF-8 sequence
    expect(decodePublish(frame([0, 3, 0x61, 0x00, 0x62]), 2, 4)).toBeUndefined(); // U+0000
    expect(decodePublish(frame([0, 1, 0x61, 0, 1], 0b0110), 2, 4)).toBeUndefined(); // QoS 3
    expect(decodePublish(frame([0, 9, 0x61]), 2, 4)).toBeUndefined(); // topic longer than the frame
    expect(decodePublish(frame([0, 1, 0x61, 0], 0b0010), 2, 4)).toBeUndefined(); // QoS 1 without a full packet id
    expect(decodePublish(frame([0, 1, 0x61]), 2, 5)).toBeUndefined(); // v5 without the properties length
    // Multi-byte UTF-8 that is well formed is decoded here.
    expect(decodePublish(frame([0, 2, 0xc3, 0xa9]), 2, 4)?.topic).toBe('é');
  });
});
