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
  /** Where the stamp starts: the payload's first byte (binary), or its hex digits (telemetry). */
  payloadOffset: number;
  /** Where the 2-byte packet identifier is (QoS 1), else -1. */
  packetIdOffset: number;
  /** The stamp is written as hex text (telemetry payloads), not as bytes. */
  hexStamp: boolean;
}

/**
 * What a message carries: 'binary', the stamp bytes and zeros; 'telemetry', the JSON a board sends
 * (`{"t":24.1,"h":26.5,...}`, which the hub's history parses into two series) with the stamp as hex text
 * in a field the parser leaves alone (it starts with a letter, so it is no number).
 */
export type PayloadFormat = 'binary' | 'telemetry';

/** Stamp bytes a telemetry payload carries (as 2 hex digits each): the open-loop stamp's 24. */
const TELEMETRY_STAMP_BYTES = 24;
const TELEMETRY_HEAD = '{"t":24.1,"h":26.5,"stamp":"x';
const TELEMETRY_TAIL = '"}';
/** Size of a telemetry payload: a scenario with `payload: 'telemetry'` states it as its payloadBytes. */
export const TELEMETRY_PAYLOAD_BYTES =
  TELEMETRY_HEAD.length + 2 * TELEMETRY_STAMP_BYTES + TELEMETRY_TAIL.length;

export function publishTemplate(
  topic: string,
  qos: 0 | 1,
  payloadBytes: number,
  retain = false,
  format: PayloadFormat = 'binary',
): PublishTemplate {
  if (payloadBytes < PAYLOAD_HEADER) throw new Error(`payload must be at least ${PAYLOAD_HEADER} bytes`);
  const telemetry = format === 'telemetry';
  if (telemetry && payloadBytes !== TELEMETRY_PAYLOAD_BYTES)
    throw new Error(`a telemetry payload is ${TELEMETRY_PAYLOAD_BYTES} bytes, not ${payloadBytes}`);
  const payload = telemetry
    ? Buffer.from(`${TELEMETRY_HEAD}${'0'.repeat(2 * TELEMETRY_STAMP_BYTES)}${TELEMETRY_TAIL}`, 'latin1')
    : Buffer.alloc(payloadBytes);
  const bytes = mqttPacket.generate({
    cmd: 'publish',
    topic,
    qos,
    dup: false,
    retain,
    messageId: qos > 0 ? 1 : undefined,
    payload,
  });
  const payloadStart = bytes.length - payloadBytes;
  return {
    bytes,
    payloadOffset: payloadStart + (telemetry ? TELEMETRY_HEAD.length : 0),
    packetIdOffset: qos > 0 ? payloadStart - 2 : -1,
    hexStamp: telemetry,
  };
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

/** Scratch for a telemetry payload's stamp bytes, written and read (per thread: a module per worker). */
const sentStamp = Buffer.alloc(TELEMETRY_STAMP_BYTES);
const readStamp = Buffer.alloc(TELEMETRY_STAMP_BYTES);

/**
 * Writes a message's stamp at `at` (the template's payloadOffset within the message): the send time,
 * sender and sequence, and from byte 16 `extra` (the open loop's write time) when given.
 */
export function writeStampAs(
  hex: boolean,
  buf: Buffer,
  at: number,
  sendNs: number,
  sender: number,
  seq: number,
  extra?: number,
): void {
  const into = hex ? sentStamp : buf;
  const p = hex ? 0 : at;
  writeStamp(into, p, sendNs, sender, seq);
  if (extra !== undefined) into.writeDoubleLE(extra, p + PAYLOAD_HEADER);
  if (hex) buf.write(sentStamp.toString('hex'), at, 'latin1');
}

/**
 * A received payload's stamp as bytes: `[buf, payloadStart]` as they are for a binary payload; for a
 * telemetry payload its hex decoded into a scratch buffer (valid until the next call), at 0.
 */
export function stampOf(format: PayloadFormat, buf: Buffer, payloadStart: number): [Buffer, number] {
  if (format !== 'telemetry') return [buf, payloadStart];
  const at = payloadStart + TELEMETRY_HEAD.length;
  readStamp.write(buf.toString('latin1', at, at + 2 * TELEMETRY_STAMP_BYTES), 'hex');
  return [readStamp, 0];
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
