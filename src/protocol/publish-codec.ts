import { isUtf8 } from 'node:buffer';
import type { IPublishPacket, QoS } from 'mqtt-packet';

/**
 * PUBLISH, the one packet on the hot path, decoded and encoded without mqtt-packet in its common
 * form: no v5 properties, a well-formed topic. Everything else (properties, a QoS of 3, a string that
 * is not UTF-8, a frame too short) is left to mqtt-packet, so its checks and error messages still
 * apply. Measured in bench/README.md ("PUBLISH without mqtt-packet"): mqtt-packet's parser, its
 * BufferList and its debug calls were about a fifth of the broker's busy time under fan-in.
 */

/** Largest remaining length MQTT can express (four variable-length bytes). */
const MAX_REMAINING_LENGTH = 268_435_455;

/**
 * Decodes a complete PUBLISH frame (`headerLength` bytes of fixed header, then the body). Returns
 * undefined when the frame is not in the common form; the caller then hands it to mqtt-packet.
 */
export function decodePublish(
  frame: Buffer,
  headerLength: number,
  protocolVersion: number,
): IPublishPacket | undefined {
  const flags = frame[0]! & 0x0f;
  const qos = ((flags >> 1) & 3) as QoS | 3;
  if (qos === 3) return undefined;
  const end = frame.length;
  let p = headerLength;
  if (p + 2 > end) return undefined;
  const topicLength = (frame[p]! << 8) | frame[p + 1]!;
  p += 2;
  const topicEnd = p + topicLength;
  if (topicEnd > end || !wellFormedString(frame, p, topicEnd)) return undefined;
  const topic = frame.toString('utf8', p, topicEnd);
  p = topicEnd;
  let messageId: number | undefined;
  if (qos > 0) {
    if (p + 2 > end) return undefined;
    messageId = (frame[p]! << 8) | frame[p + 1]!;
    p += 2;
  }
  if (protocolVersion === 5) {
    // A properties length of 0 is one zero byte; anything else is parsed by mqtt-packet.
    if (p >= end || frame[p] !== 0) return undefined;
    p += 1;
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    retain: (flags & 1) === 1,
    qos,
    dup: (flags & 8) === 8,
    length: end - headerLength,
    topic,
    payload: frame.subarray(p),
  };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}

/** [MQTT-1.5.4-1]/[MQTT-1.5.4-2]: well-formed UTF-8 without U+0000; ASCII is checked inline. */
function wellFormedString(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === 0) return false;
    if (b >= 0x80) {
      const rest = buf.subarray(i, end);
      return isUtf8(rest) && !rest.includes(0);
    }
  }
  return true;
}

/**
 * Encodes a PUBLISH without properties (for v5: an empty property list). Undefined when the packet
 * would exceed MQTT's size limit, for the caller to hand to mqtt-packet and get its error.
 */
export function encodePublish(
  topic: string,
  payload: Buffer,
  qos: number,
  retain: boolean,
  dup: boolean,
  packetId: number | undefined,
  protocolVersion: number,
): Buffer | undefined {
  const topicLength = Buffer.byteLength(topic);
  if (topicLength > 0xffff) return undefined;
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) + payload.length;
  if (remaining > MAX_REMAINING_LENGTH) return undefined;
  const lengthBytes = remaining < 0x80 ? 1 : remaining < 0x4000 ? 2 : remaining < 0x200000 ? 3 : 4;
  const buf = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  buf[0] = 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
  let p = 1;
  let r = remaining;
  do {
    const digit = r % 0x80;
    r = Math.floor(r / 0x80);
    buf[p++] = r > 0 ? digit | 0x80 : digit;
  } while (r > 0);
  buf[p++] = topicLength >> 8;
  buf[p++] = topicLength & 0xff;
  p += buf.write(topic, p, 'utf8');
  if (qos > 0) {
    buf[p++] = packetId! >> 8;
    buf[p++] = packetId! & 0xff;
  }
  if (protocolVersion === 5) buf[p++] = 0;
  payload.copy(buf, p);
  return buf;
}
