import type Database from 'better-sqlite3';
import type { SessionRecord } from '../../broker/ports/persistence.js';
import type { Message } from '../../broker/types.js';
import { DELIVERY_COLUMNS, type DeliveryRow, decodeJson, rowToMessage } from './codec.js';

type StatementName =
  | 'saveRetained'
  | 'deleteRetained'
  | 'saveSession'
  | 'saveSubscription'
  | 'deleteSubscription'
  | 'enqueue'
  | 'dequeue'
  | 'readQueue'
  | 'saveInflight'
  | 'deleteInflight'
  | 'saveInboundQos2'
  | 'saveCounter'
  | 'deleteInboundQos2';

/** A prepared statement (parameters and rows are checked where they are used). */
export type Statement = Database.Statement<unknown[], unknown>;

/** The prepared statements of every write and read, and the rows they return. */
export function prepareStatements(
  db: Database.Database,
): Record<StatementName, Statement> & { deleteSession: Statement[] } {
  return {
    saveRetained: db.prepare(
      'INSERT OR REPLACE INTO retained (topic, payload, qos, retain, properties, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deleteRetained: db.prepare('DELETE FROM retained WHERE topic = ?'),
    saveSession: db.prepare(
      'INSERT OR REPLACE INTO sessions (client_id, protocol_version, username, expiry_interval, expires_at, will, ' +
        'will_due_at, listener) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteSession: ['sessions', 'subscriptions', 'queue', 'inflight', 'inbound_qos2'].map((table) =>
      db.prepare(`DELETE FROM ${table} WHERE client_id = ?`),
    ),
    // Upserts keep the row (and its rowid) so load() returns subscriptions in first-subscribed order.
    saveSubscription: db.prepare(
      'INSERT INTO subscriptions (client_id, filter, options) VALUES (?, ?, ?) ' +
        'ON CONFLICT (client_id, filter) DO UPDATE SET options = excluded.options',
    ),
    deleteSubscription: db.prepare('DELETE FROM subscriptions WHERE client_id = ? AND filter = ?'),
    enqueue: db.prepare(
      `INSERT OR REPLACE INTO queue (client_id, seq, ${DELIVERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    dequeue: db.prepare('DELETE FROM queue WHERE client_id = ? AND seq = ?'),
    readQueue: db.prepare('SELECT * FROM queue WHERE client_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    // A state change (PUBREC received) keeps the entry's place in the order.
    saveInflight: db.prepare(
      `INSERT INTO inflight (client_id, packet_id, ord, state, ${DELIVERY_COLUMNS}) ` +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id, packet_id) DO UPDATE SET ' +
        'state = excluded.state, topic = excluded.topic, payload = excluded.payload, msg_qos = excluded.msg_qos, ' +
        'msg_retain = excluded.msg_retain, qos = excluded.qos, retain = excluded.retain, ' +
        'properties = excluded.properties, subscription_ids = excluded.subscription_ids, ' +
        'received_at = excluded.received_at',
    ),
    deleteInflight: db.prepare('DELETE FROM inflight WHERE client_id = ? AND packet_id = ?'),
    // A held id is written once per PUBLISH; a DUP resend of a held id writes nothing.
    saveInboundQos2: db.prepare(
      'INSERT OR REPLACE INTO inbound_qos2 (client_id, packet_id, topic, payload, retain, properties, received_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    saveCounter: db.prepare('INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)'),
    deleteInboundQos2: db.prepare('DELETE FROM inbound_qos2 WHERE client_id = ? AND packet_id = ?'),
  };
}

export interface RetainedRow {
  topic: string;
  payload: Buffer | null;
  qos: number;
  retain: number;
  properties: string | null;
  received_at: number;
}

export function rowToRetained(r: RetainedRow): Message {
  return rowToMessage(r, r.qos, r.retain);
}

export interface SessionRow {
  client_id: string;
  protocol_version: number;
  username: string | null;
  expiry_interval: number;
  expires_at: number | null;
  will: string | null;
  will_due_at: number | null;
  listener: string | null;
}

export function rowToRecord(r: SessionRow): SessionRecord {
  return {
    clientId: r.client_id,
    protocolVersion: r.protocol_version as SessionRecord['protocolVersion'],
    username: r.username ?? undefined,
    expiryInterval: r.expiry_interval,
    expiresAt: r.expires_at ?? undefined,
    will: r.will === null ? undefined : decodeJson(r.will),
    willDueAt: r.will_due_at ?? undefined,
    ...(r.listener === null ? {} : { listener: r.listener }),
  };
}

export interface SubscriptionRow {
  client_id: string;
  filter: string;
  options: string;
}

export interface InflightRow extends DeliveryRow {
  client_id: string;
  packet_id: number;
  state: string;
}

export interface InboundRow {
  client_id: string;
  packet_id: number;
  topic: string | null;
  payload: Buffer | null;
  retain: number | null;
  properties: string | null;
  received_at: number | null;
}

export interface QueueRow extends DeliveryRow {
  client_id: string;
  seq: number;
}
