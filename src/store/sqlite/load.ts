import type Database from 'better-sqlite3';
import type { InflightState, StoredQueued, StoredSession } from '../../broker/ports/persistence.js';
import type { Message } from '../../broker/types.js';
import { decodeJson, rowToDelivery, rowToMessage } from './codec.js';
import {
  type InboundRow,
  type InflightRow,
  type RetainedRow,
  rowToRecord,
  rowToRetained,
  type SessionRow,
  type SubscriptionRow,
} from './statements.js';

export interface LoadedState {
  retained: Message[];
  sessions: StoredSession[];
  counters: Record<string, number>;
}

/**
 * Everything the broker keeps, read back at start: retained messages, sessions with their
 * subscriptions, in-flight and held QoS 2 state, the head of each queue (`queueLimit` rows; the rest
 * stay on disk), and the counters.
 */
export function loadState(
  db: Database.Database,
  readQueue: (clientId: string, limit: number) => StoredQueued[],
  queueLimit: number | undefined,
): LoadedState {
  const retained = (db.prepare('SELECT * FROM retained ORDER BY topic').all() as RetainedRow[]).map(
    rowToRetained,
  );
  const sessions = new Map<string, StoredSession>();
  for (const r of db.prepare('SELECT * FROM sessions ORDER BY client_id').all() as SessionRow[]) {
    sessions.set(r.client_id, {
      record: rowToRecord(r),
      subscriptions: [],
      inflight: [],
      inboundQos2: [],
      queued: [],
      queuedCount: 0,
    });
  }
  const subs = db
    .prepare('SELECT client_id, filter, options FROM subscriptions ORDER BY rowid')
    .all() as SubscriptionRow[];
  for (const r of subs) {
    sessions.get(r.client_id)?.subscriptions.push({ filter: r.filter, options: decodeJson(r.options) });
  }
  const inflight = db.prepare('SELECT * FROM inflight ORDER BY client_id, ord').all() as InflightRow[];
  for (const r of inflight) {
    sessions.get(r.client_id)?.inflight.push({
      packetId: r.packet_id,
      state: r.state as InflightState,
      delivery: rowToDelivery(r),
    });
  }
  const inbound = db.prepare('SELECT * FROM inbound_qos2 ORDER BY rowid').all() as InboundRow[];
  for (const r of inbound) {
    const message =
      r.topic === null
        ? undefined
        : rowToMessage({ ...r, topic: r.topic, received_at: r.received_at ?? 0 }, 2, r.retain ?? 0);
    let session = sessions.get(r.client_id);
    if (!session) {
      // Held by a session that ended with its connection (no record of its own): the broker routes
      // these at start, since their client can never release them.
      session = {
        record: {
          clientId: r.client_id,
          protocolVersion: 4,
          username: undefined,
          expiryInterval: 0,
          expiresAt: undefined,
          will: undefined,
          willDueAt: undefined,
        },
        subscriptions: [],
        inflight: [],
        inboundQos2: [],
        queued: [],
        queuedCount: 0,
      };
      sessions.set(r.client_id, session);
    }
    session.inboundQos2.push({ packetId: r.packet_id, message });
  }
  const counts = db.prepare('SELECT client_id, COUNT(*) AS n FROM queue GROUP BY client_id').all() as {
    client_id: string;
    n: number;
  }[];
  for (const r of counts) {
    const s = sessions.get(r.client_id);
    if (!s) continue;
    s.queuedCount = r.n;
    s.queued = readQueue(r.client_id, queueLimit ?? r.n);
  }
  const counters: Record<string, number> = {};
  for (const r of db.prepare('SELECT name, value FROM counters').all() as {
    name: string;
    value: number;
  }[])
    counters[r.name] = r.value;
  return { retained, sessions: [...sessions.values()], counters };
}
