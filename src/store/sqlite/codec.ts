import type { Delivery } from '../../broker/ports/persistence.js';
import type { Message } from '../../broker/types.js';

/**
 * JSON with Buffers. A Buffer anywhere in the value (correlationData, a will's payload) is written as
 * `{"\u0000buffer": "<base64>"}`. MQTT strings cannot contain U+0000 [MQTT-1.5.4-2], so no user
 * property name or other string a client sends can ever collide with the marker.
 */
const BUFFER_MARKER = '\u0000buffer';

export function encodeJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, encoded: unknown) {
    // `encoded` has already been through Buffer#toJSON; the holder still has the Buffer itself.
    const raw = this[key];
    if (Buffer.isBuffer(raw)) return { [BUFFER_MARKER]: raw.toString('base64') };
    return encoded;
  });
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const marked = (value as Record<string, unknown>)[BUFFER_MARKER];
      if (typeof marked === 'string' && Object.keys(value).length === 1) return Buffer.from(marked, 'base64');
    }
    return value;
  }) as T;
}

/** Columns shared by the queue and inflight tables, in this order. */
export const DELIVERY_COLUMNS =
  'topic, payload, msg_qos, msg_retain, qos, retain, properties, subscription_ids, received_at';

export function deliveryArgs(d: Delivery): unknown[] {
  const m = d.message;
  return [
    m.topic,
    toBlob(m.payload),
    m.qos,
    m.retain ? 1 : 0,
    d.qos,
    d.retain ? 1 : 0,
    m.properties === undefined ? null : encodeJson(m.properties),
    d.subscriptionIds === undefined ? null : JSON.stringify(d.subscriptionIds),
    m.receivedAt,
  ];
}

export interface DeliveryRow {
  topic: string;
  payload: Buffer | null;
  msg_qos: number;
  msg_retain: number;
  qos: number;
  retain: number;
  properties: string | null;
  subscription_ids: string | null;
  received_at: number;
}

/** The message columns every table shares (retained rows, queue and in-flight rows). */
export interface MessageColumns {
  topic: string;
  payload: Buffer | null;
  properties: string | null;
  received_at: number;
}

export function rowToMessage(r: MessageColumns, qos: number, retain: number): Message {
  const m: Message = {
    topic: r.topic,
    payload: fromBlob(r.payload),
    qos: qos as Message['qos'],
    retain: retain === 1,
    receivedAt: r.received_at,
  };
  if (r.properties !== null) m.properties = decodeJson(r.properties);
  return m;
}

export function rowToDelivery(r: DeliveryRow): Delivery {
  const message = rowToMessage(r, r.msg_qos, r.msg_retain);
  const d: Delivery = { message, qos: r.qos as Delivery['qos'], retain: r.retain === 1 };
  if (r.subscription_ids !== null) d.subscriptionIds = JSON.parse(r.subscription_ids) as number[];
  return d;
}

export function toBlob(payload: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  return typeof payload === 'string'
    ? Buffer.from(payload)
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

export function fromBlob(blob: Buffer | null): Buffer {
  return blob === null ? Buffer.alloc(0) : blob;
}
