import type Database from 'better-sqlite3';
import type { MessageProperties, QoS } from '../../broker/types.js';
import { decodeJson } from '../../store/index.js';
import { decodeBlock } from './message-block.js';

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

/**
 * The latest logged messages of `topic`, newest first: at most `limit`, and payloads of at most
 * `maxBytes` together (the newest always), as the log's caps say. The log keeps whole blocks, which
 * may hold older messages than that; they are not served.
 */
export function loggedMessages(
  db: Database.Database,
  topic: string,
  limit: number,
  maxBytes: number,
): LoggedMessage[] {
  const out: LoggedMessage[] = [];
  const max = Math.max(0, Math.floor(limit));
  if (max === 0) return out;
  let bytes = 0;
  const blocks = db
    .prepare<[string], { data: Buffer }>(
      `SELECT b.data FROM message_blocks b JOIN topics ON topics.id = b.topic_id
       WHERE topics.topic = ? ORDER BY b.id DESC`,
    )
    .iterate(topic);
  for (const { data } of blocks) {
    const messages = decodeBlock(data);
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i]!;
      if (out.length > 0 && bytes + m.payload.length > maxBytes) return stop(blocks, out);
      bytes += m.payload.length;
      out.push({
        topic,
        time: m.t,
        qos: m.qos,
        retain: m.retain,
        properties: m.properties === undefined ? undefined : decodeJson<MessageProperties>(m.properties),
        clientId: m.clientId,
        payload: m.payload,
        size: m.size,
      });
      if (out.length >= max) return stop(blocks, out);
    }
  }
  return out;
}

/** Ends an iteration early (its statement is released), returning what was read. */
function stop<T>(iterator: IterableIterator<unknown>, out: T): T {
  iterator.return?.();
  return out;
}
