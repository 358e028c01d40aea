import mqttPacket, { type Packet } from 'mqtt-packet';
import { Random } from '../../../src/devices/sim/random.js';

/** mulberry32 (the sim's seeded generator), so every fuzz run can be replayed from its seed. */
export class Rng extends Random {
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const TOPICS = ['a', 'a/b', 'a/b/c', 'fuzz/x', 'sensors/t', '$SYS/x', 'ü/∑', 'x'.repeat(300)];
const FILTERS = ['#', 'a/#', 'a/+', '+/b', 'fuzz/#', '$share/g/a/#', '$share/h/#', 'sensors/+', '$SYS/#'];

function userProps(rng: Rng): Record<string, string | string[]> {
  return rng.chance(0.5) ? { k: 'v', multi: ['1', '2'] } : { [rng.pick(['a', 'b', 'c'])]: 'x' };
}

/** A valid CONNECT for this protocol version, with random fields. */
export function connectPacket(rng: Rng, version: 3 | 4 | 5, clientId: string): Packet {
  const p: Record<string, unknown> = {
    cmd: 'connect',
    protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    clean: rng.chance(0.7),
    clientId,
    keepalive: rng.pick([0, 2, 30, 60, 65535]),
  };
  if (rng.chance(0.3)) {
    p.will = {
      topic: rng.pick(TOPICS),
      payload: rng.bytes(rng.int(20)),
      qos: rng.int(3),
      retain: rng.chance(0.3),
      ...(version === 5 && rng.chance(0.5)
        ? { properties: { willDelayInterval: rng.int(3), contentType: 'x', userProperties: userProps(rng) } }
        : {}),
    };
  }
  if (rng.chance(0.2)) p.username = 'user';
  if (p.username && rng.chance(0.5)) p.password = Buffer.from('pw');
  if (version === 5 && rng.chance(0.7)) {
    const props: Record<string, unknown> = {};
    if (rng.chance(0.5)) props.sessionExpiryInterval = rng.pick([0, 1, 5, 0xffffffff]);
    if (rng.chance(0.3)) props.receiveMaximum = rng.pick([1, 2, 100]);
    if (rng.chance(0.3)) props.maximumPacketSize = rng.pick([20, 100, 10_000]);
    if (rng.chance(0.3)) props.topicAliasMaximum = rng.pick([0, 1, 5]);
    if (rng.chance(0.2)) props.requestProblemInformation = rng.chance(0.5);
    if (rng.chance(0.2)) props.requestResponseInformation = rng.chance(0.5);
    if (rng.chance(0.2)) props.userProperties = userProps(rng);
    p.properties = props;
  }
  return p as unknown as Packet;
}

/** A valid packet of a random type (any direction: clients sending server packets is hostile input too). */
export function randomPacket(rng: Rng, version: 4 | 5): Packet {
  const v5 = version === 5;
  const id = 1 + rng.int(65535);
  // Packets that end a session at once (a second CONNECT, server-to-client packets) are kept rare, so
  // that most connections live long enough for their mutated packets to be parsed.
  const kind = rng.chance(0.02) ? 10 + rng.int(4) : rng.int(10);
  switch (kind) {
    case 0:
    case 1:
    case 2: {
      const qos = rng.int(3);
      const p: Record<string, unknown> = {
        cmd: 'publish',
        topic: rng.pick(TOPICS),
        payload: rng.bytes(rng.int(40)),
        qos,
        retain: rng.chance(0.2),
        dup: qos > 0 && rng.chance(0.1),
      };
      if (qos > 0) p.messageId = id;
      if (v5 && rng.chance(0.6)) {
        const props: Record<string, unknown> = {};
        if (rng.chance(0.3)) props.topicAlias = 1 + rng.int(12);
        if (rng.chance(0.3)) props.messageExpiryInterval = rng.int(5);
        if (rng.chance(0.3)) props.contentType = 'text/plain';
        if (rng.chance(0.3)) props.responseTopic = rng.pick(TOPICS);
        if (rng.chance(0.3)) props.correlationData = rng.bytes(4);
        if (rng.chance(0.3)) props.userProperties = userProps(rng);
        if (rng.chance(0.2)) props.payloadFormatIndicator = rng.chance(0.5);
        p.properties = props;
        if (props.topicAlias && rng.chance(0.5)) p.topic = '';
      }
      return p as unknown as Packet;
    }
    case 3:
    case 4: {
      const subs = Array.from({ length: 1 + rng.int(3) }, () => ({
        topic: rng.pick(FILTERS),
        qos: rng.int(3),
        ...(v5 ? { nl: rng.chance(0.2), rap: rng.chance(0.3), rh: rng.int(3) } : {}),
      }));
      const p: Record<string, unknown> = { cmd: 'subscribe', messageId: id, subscriptions: subs };
      if (v5 && rng.chance(0.4))
        p.properties = { subscriptionIdentifier: 1 + rng.int(1000), userProperties: userProps(rng) };
      return p as unknown as Packet;
    }
    case 5:
      return { cmd: 'unsubscribe', messageId: id, unsubscriptions: [rng.pick(FILTERS)] } as Packet;
    case 6:
    case 7: {
      const cmd = rng.pick(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const);
      const p: Record<string, unknown> = { cmd, messageId: id };
      if (v5 && rng.chance(0.4)) {
        p.reasonCode = rng.pick(cmd === 'pubrel' || cmd === 'pubcomp' ? [0, 0x92] : [0, 0x10, 0x80, 0x87]);
        if (rng.chance(0.5)) p.properties = { reasonString: 'r', userProperties: userProps(rng) };
      }
      return p as unknown as Packet;
    }
    case 8:
      return { cmd: 'pingreq' } as Packet;
    case 9: {
      const p: Record<string, unknown> = { cmd: 'disconnect' };
      if (v5) {
        p.reasonCode = rng.pick([0, 4, 0x80, 0x81]);
        if (rng.chance(0.5)) p.properties = { sessionExpiryInterval: rng.int(10), reasonString: 'bye' };
      }
      return p as unknown as Packet;
    }
    case 10:
      return connectPacket(rng, version, `fz${rng.int(40)}`);
    case 11:
      return { cmd: 'connack', sessionPresent: false, returnCode: 0, reasonCode: 0 } as Packet;
    case 12:
      return { cmd: 'suback', messageId: id, granted: [0, 1, 128] } as Packet;
    default:
      return v5
        ? ({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'x' } } as unknown as Packet)
        : ({ cmd: 'pingresp' } as Packet);
  }
}

export function encode(packet: Packet, version: number): Buffer | undefined {
  try {
    const b = mqttPacket.generate(packet, { protocolVersion: version } as never);
    return b.length > 0 ? b : undefined;
  } catch {
    return undefined;
  }
}

/** Re-encodes a remaining length (for keeping a mutated body's frame consistent). */
function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function headerSize(b: Buffer): number {
  let i = 1;
  while (i < b.length && i < 5 && b[i]! & 0x80) i++;
  return i + 1;
}

export const MUTATIONS = [
  'bit-flips',
  'byte-set',
  'body-flip-reframed',
  'truncate',
  'truncate-reframed',
  'extend',
  'length-corrupt',
  'length-five-bytes',
  'type-flags',
  'random-bytes',
  'splice',
  'property-garbage',
  'body-minimal',
  'body-minimal',
] as const;

/** One mutation of a valid packet (the result may or may not still be a valid frame). */
export function mutate(rng: Rng, valid: Buffer, other: Buffer): { bytes: Buffer; how: string } {
  const how = rng.pick(MUTATIONS);
  const b = Buffer.from(valid);
  switch (how) {
    case 'bit-flips': {
      for (let i = 1 + rng.int(4); i > 0; i--) {
        const at = rng.int(b.length);
        b[at] = b[at]! ^ (1 << rng.int(8));
      }
      return { bytes: b, how };
    }
    case 'byte-set': {
      b[rng.int(b.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80, rng.int(256)]);
      return { bytes: b, how };
    }
    case 'body-flip-reframed': {
      // Keep the frame valid so the decoder and the broker's checks see a well-framed but wrong body.
      const h = headerSize(b);
      if (b.length <= h) return { bytes: b, how };
      const at = h + rng.int(b.length - h);
      b[at] = rng.chance(0.5) ? b[at]! ^ (1 << rng.int(8)) : rng.int(256);
      return { bytes: b, how };
    }
    case 'body-minimal': {
      // Only the first 0-3 body bytes, reframed: packets with fields or payload missing entirely.
      const h = headerSize(b);
      const body = b.subarray(h, h + rng.int(4));
      return { bytes: Buffer.from([b[0]!, ...remainingLength(body.length), ...body]), how };
    }
    case 'truncate':
      return { bytes: b.subarray(0, rng.int(b.length)), how };
    case 'truncate-reframed': {
      const h = headerSize(b);
      const body = b.subarray(h, h + rng.int(Math.max(1, b.length - h)));
      return { bytes: Buffer.from([b[0]!, ...remainingLength(body.length), ...body]), how };
    }
    case 'extend': {
      const h = headerSize(b);
      const body = Buffer.concat([b.subarray(h), rng.bytes(1 + rng.int(16))]);
      return { bytes: Buffer.from([b[0]!, ...remainingLength(body.length), ...body]), how };
    }
    case 'length-corrupt': {
      const h = headerSize(b);
      const declared = rng.pick([0, 1, 2, 3, rng.int(300), rng.int(70_000), 268_435_455]);
      return {
        bytes: Buffer.concat([Buffer.from([b[0]!, ...remainingLength(declared)]), b.subarray(h)]),
        how,
      };
    }
    case 'length-five-bytes':
      return {
        bytes: Buffer.concat([Buffer.from([b[0]!, 0xff, 0xff, 0xff, 0xff, 0x7f]), b.subarray(2)]),
        how,
      };
    case 'type-flags': {
      b[0] = rng.chance(0.5) ? (b[0]! & 0xf0) | rng.int(16) : (rng.int(16) << 4) | (b[0]! & 0x0f);
      return { bytes: b, how };
    }
    case 'random-bytes':
      return { bytes: rng.bytes(1 + rng.int(64)), how };
    case 'splice': {
      const cut = rng.int(b.length);
      return { bytes: Buffer.concat([b.subarray(0, cut), other.subarray(rng.int(other.length))]), how };
    }
    default: {
      // property-garbage: random bytes inserted after the fixed header and a few body bytes, reframed.
      const h = headerSize(b);
      const at = h + rng.int(Math.max(1, b.length - h));
      const body = Buffer.concat([b.subarray(h, at), rng.bytes(1 + rng.int(12)), b.subarray(at)]);
      return { bytes: Buffer.from([b[0]!, ...remainingLength(body.length), ...body]), how };
    }
  }
}
