import type Database from 'better-sqlite3';
import type { MessageProperties, QoS } from '../../broker/types.js';
import { decodeJson } from '../../store/index.js';

/** A message as the history's message log kept it. */
export interface LoggedMessage {
  topic: string;
  /** Epoch ms when the broker accepted it. */
  time: number;
  qos: QoS;
  retain: boolean;
  properties: MessageProperties | undefined;
  /** The publishing client; undefined when the host program published it. */
  clientId: string | undefined;
  /** Cut to the topic's byte cap when the message was larger: compare with `size`. */
  payload: Buffer;
  /** The payload's size as published. */
  size: number;
}

interface MessageRow {
  t: number;
  qos: number;
  retain: number;
  client_id: string | null;
  properties: string | null;
  size: number;
  payload: Buffer;
}

/** The latest `limit` logged messages of `topic`, newest first. */
export function loggedMessages(db: Database.Database, topic: string, limit: number): LoggedMessage[] {
  const rows = db
    .prepare<[string, number], MessageRow>(
      `SELECT m.t, m.qos, m.retain, m.client_id, m.properties, m.size, m.payload
       FROM messages m JOIN topics ON topics.id = m.topic_id
       WHERE topics.topic = ? ORDER BY m.id DESC LIMIT ?`,
    )
    .all(topic, Math.max(0, Math.floor(limit)));
  return rows.map((r) => ({
    topic,
    time: r.t,
    qos: r.qos as QoS,
    retain: r.retain === 1,
    properties: r.properties === null ? undefined : decodeJson<MessageProperties>(r.properties),
    clientId: r.client_id ?? undefined,
    payload: r.payload,
    size: r.size,
  }));
}
