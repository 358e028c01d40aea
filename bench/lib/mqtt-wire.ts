/**
 * The load generator's side of the wire: setup packets are encoded with mqtt-packet; the hot path
 * (PUBLISH out, PUBLISH/PUBACK in) uses pre-encoded templates and a minimal frame splitter so the
 * generator spends as little CPU per message as possible.
 */
import mqttPacket from 'mqtt-packet';

export const PROTOCOL_VERSION = 4; // MQTT 3.1.1

export function encodeConnect(clientId: string, keepalive: number, clean = true): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: PROTOCOL_VERSION,
    clean,
    clientId,
    keepalive,
  });
}

export function encodeSubscribe(messageId: number, filter: string, qos: 0 | 1): Buffer {
  return mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic: filter, qos }] });
}

export function encodeDisconnect(): Buffer {
  return mqttPacket.generate({ cmd: 'disconnect' });
}

export interface PublishTemplate {
  bytes: Buffer;
  /** Where the payload starts (the send timestamp goes in its first 8 bytes). */
  payloadOffset: number;
  /** Where the 2-byte packet identifier is (QoS 1), else -1. */
  packetIdOffset: number;
}

export function publishTemplate(
  topic: string,
  qos: 0 | 1,
  payloadBytes: number,
  retain = false,
): PublishTemplate {
  if (payloadBytes < PAYLOAD_HEADER) throw new Error(`payload must be at least ${PAYLOAD_HEADER} bytes`);
  const bytes = mqttPacket.generate({
    cmd: 'publish',
    topic,
    qos,
    dup: false,
    retain,
    messageId: qos > 0 ? 1 : undefined,
    payload: Buffer.alloc(payloadBytes),
  });
  const payloadOffset = bytes.length - payloadBytes;
  return { bytes, payloadOffset, packetIdOffset: qos > 0 ? payloadOffset - 2 : -1 };
}

/**
 * Payload layout: [0..8) send time as a float64 of process.hrtime nanoseconds (CLOCK_MONOTONIC,
 * the same clock in every thread and process of the machine), [8..12) sender index, [12..16) sequence.
 */
export const PAYLOAD_HEADER = 16;

export function writeStamp(
  buf: Buffer,
  payloadOffset: number,
  nowNs: number,
  sender: number,
  seq: number,
): void {
  buf.writeDoubleLE(nowNs, payloadOffset);
  buf.writeUInt32LE(sender >>> 0, payloadOffset + 8);
  buf.writeUInt32LE(seq >>> 0, payloadOffset + 12);
}

export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export const PacketType = {
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  SUBACK: 9,
  PINGRESP: 13,
} as const;

/** Receives one frame: its type, flags, the whole buffer it lives in, and where its body starts/ends. */
export type FrameHandler = (type: number, flags: number, buf: Buffer, start: number, end: number) => void;

/**
 * Splits a TCP byte stream into MQTT frames without allocating per frame (except when a frame
 * straddles two chunks).
 */
export class FrameSplitter {
  private rest: Buffer | null = null;

  constructor(private readonly onFrame: FrameHandler) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      if (len - pos < 2) break;
      const b0 = buf[pos]!;
      let remaining = 0;
      let mul = 1;
      let i = pos + 1;
      let complete = false;
      for (let n = 0; n < 4 && i < len; n++) {
        const b = buf[i++]!;
        remaining += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (i - pos >= 5) throw new Error('malformed remaining length');
        break;
      }
      const end = i + remaining;
      if (end > len) break;
      this.onFrame(b0 >> 4, b0 & 0x0f, buf, i, end);
      pos = end;
    }
    if (pos < len) this.rest = buf.subarray(pos);
  }
}

/** A PUBACK for each packet identifier, in one buffer. */
export function encodePubacks(ids: number[]): Buffer {
  const out = Buffer.allocUnsafe(ids.length * 4);
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    out[k * 4] = 0x40;
    out[k * 4 + 1] = 2;
    out[k * 4 + 2] = id >> 8;
    out[k * 4 + 3] = id & 0xff;
  }
  return out;
}
