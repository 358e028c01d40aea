import type Database from 'better-sqlite3';
import { ROLLUP_TIERS, type RollupTier, TIER_MS } from './history-db.js';
import type { UnpackedMessage } from './message-batch.js';
import type { ResolvedHistoryOptions } from './options.js';
import type { PayloadField } from './payload-fields.js';

/** A message waiting for the next commit: already parsed, nothing written yet. */
export interface PendingMessage extends UnpackedMessage {
  fields: PayloadField[];
}

/** The options the writer follows. */
export type WriterOptions = Pick<
  ResolvedHistoryOptions,
  'maxSeries' | 'messagesPerTopic' | 'messageBytesPerTopic'
>;

export interface WriteCounts {
  samples: number;
  /** Fields not recorded because `maxSeries` series exist already. */
  droppedSeries: number;
}

interface SeriesEntry {
  id: number;
  unit: string | null;
  /** Latest t written: samples of one series get distinct, increasing times. */
  lastT: number;
}

interface TopicEntry {
  id: number;
  count: number;
  bytes: number;
}

interface Rollup {
  seriesId: number;
  t: number;
  n: number;
  lo: number;
  hi: number;
  sum: number;
  last: number;
}

/** Samples this close behind the series' last one are moved just after it rather than overwriting it. */
const REORDER_WINDOW_MS = 1000;

/**
 * Writes batches of pending messages in one transaction each: raw samples, the 1-minute and 1-hour
 * rollups (upserted per batch, so a rollup survives its raw samples' retention), and the per-topic
 * message log trimmed to its count and byte caps.
 */
export class BatchWriter {
  private readonly series = new Map<string, SeriesEntry>();
  private readonly topics = new Map<string, TopicEntry>();
  private seriesCount: number;
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly options: WriterOptions,
  ) {
    const rollupUpsert = (tier: RollupTier) =>
      db.prepare(
        `INSERT INTO ${tier} (series_id, t, n, lo, hi, sum, last) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (series_id, t) DO UPDATE SET n = n + excluded.n, lo = min(lo, excluded.lo),
           hi = max(hi, excluded.hi), sum = sum + excluded.sum, last = excluded.last`,
      );
    this.s = {
      findSeries: db.prepare<[string, string], { id: number; unit: string | null }>(
        'SELECT id, unit FROM series WHERE topic = ? AND path = ?',
      ),
      lastT: db.prepare<[number], { t: number | null }>('SELECT max(t) AS t FROM raw WHERE series_id = ?'),
      insertSeries: db.prepare<[string, string, string | null]>(
        'INSERT INTO series (topic, path, unit) VALUES (?, ?, ?)',
      ),
      setUnit: db.prepare<[string | null, number]>('UPDATE series SET unit = ? WHERE id = ?'),
      insertRaw: db.prepare<[number, number, number]>(
        'INSERT OR REPLACE INTO raw (series_id, t, v) VALUES (?, ?, ?)',
      ),
      rollup: { minute: rollupUpsert('minute'), hour: rollupUpsert('hour') },
      findTopic: db.prepare<[string], { id: number }>('SELECT id FROM topics WHERE topic = ?'),
      insertTopic: db.prepare<[string]>('INSERT INTO topics (topic) VALUES (?)'),
      topicLog: db.prepare<[number], { count: number; bytes: number | null }>(
        'SELECT count(*) AS count, sum(length(payload)) AS bytes FROM messages WHERE topic_id = ?',
      ),
      insertMessage: db.prepare(
        `INSERT INTO messages (topic_id, t, qos, retain, client_id, properties, size, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      oldestMessage: db.prepare<[number], { id: number; bytes: number }>(
        'SELECT id, length(payload) AS bytes FROM messages WHERE topic_id = ? ORDER BY id LIMIT 1',
      ),
      deleteMessage: db.prepare<[number]>('DELETE FROM messages WHERE id = ?'),
      // Everything of a topic older than its newest `keep` messages, in one statement.
      trimMessages: db.prepare<[number, number, number]>(
        `DELETE FROM messages WHERE topic_id = ? AND id < (
           SELECT id FROM messages WHERE topic_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      ),
      logBytes: db.prepare<[number], { bytes: number | null }>(
        'SELECT sum(length(payload)) AS bytes FROM messages WHERE topic_id = ?',
      ),
    };
    this.seriesCount = (db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n;
  }

  /** Writes `batch` in one transaction; on failure nothing of it is written and the caches are reset. */
  write(batch: readonly PendingMessage[]): WriteCounts {
    try {
      return this.db.transaction(() => this.writeAll(batch))();
    } catch (err) {
      // Rows created inside the failed transaction are gone: the cached ids and counters may be wrong.
      this.forget();
      throw err;
    }
  }

  /** Drops the cached ids and counters (after a failed commit, or after retention deleted rows). */
  forget(): void {
    this.series.clear();
    this.topics.clear();
    this.seriesCount = (this.db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n;
  }

  private writeAll(batch: readonly PendingMessage[]): WriteCounts {
    const counts: WriteCounts = { samples: 0, droppedSeries: 0 };
    const logged = new Set<TopicEntry>();
    const rollups: Record<RollupTier, Map<string, Rollup>> = { minute: new Map(), hour: new Map() };
    for (const m of batch) {
      const topic = this.logMessage(m);
      if (topic) logged.add(topic);
      for (const field of m.fields) {
        const series = this.seriesFor(m.topic, field);
        if (!series) {
          counts.droppedSeries++;
          continue;
        }
        let t = m.t;
        if (t <= series.lastT && t > series.lastT - REORDER_WINDOW_MS) t = series.lastT + 1;
        if (t > series.lastT) series.lastT = t;
        this.s.insertRaw.run(series.id, t, field.value);
        counts.samples++;
        for (const tier of ROLLUP_TIERS)
          accumulate(rollups[tier], series.id, t - (t % TIER_MS[tier]), field.value);
      }
    }
    for (const tier of ROLLUP_TIERS) {
      for (const r of rollups[tier].values())
        this.s.rollup[tier].run(r.seriesId, r.t, r.n, r.lo, r.hi, r.sum, r.last);
    }
    for (const topic of logged) this.trimLog(topic);
    return counts;
  }

  private seriesFor(topic: string, field: PayloadField): SeriesEntry | undefined {
    const path = JSON.stringify(field.path);
    const key = `${topic}\u0000${path}`;
    const unit = field.unit ?? null;
    let entry = this.series.get(key);
    if (!entry) {
      const row = this.s.findSeries.get(topic, path);
      if (row) {
        entry = {
          id: row.id,
          unit: row.unit,
          lastT: this.s.lastT.get(row.id)?.t ?? Number.NEGATIVE_INFINITY,
        };
      } else {
        if (this.seriesCount >= this.options.maxSeries) return undefined;
        const id = Number(this.s.insertSeries.run(topic, path, unit).lastInsertRowid);
        this.seriesCount++;
        entry = { id, unit, lastT: Number.NEGATIVE_INFINITY };
      }
      this.series.set(key, entry);
    }
    if (unit !== null && entry.unit !== unit) {
      this.s.setUnit.run(unit, entry.id);
      entry.unit = unit;
    }
    return entry;
  }

  /** Appends to the topic's message log; trimmed once per batch (trimLog). */
  private logMessage(m: PendingMessage): TopicEntry | undefined {
    const cap = this.options.messageBytesPerTopic;
    if (this.options.messagesPerTopic === 0) return undefined;
    const topic = this.topicFor(m.topic);
    const payload = m.payload.length > cap ? m.payload.subarray(0, cap) : m.payload;
    this.s.insertMessage.run(
      topic.id,
      m.t,
      m.qos,
      m.retain ? 1 : 0,
      m.clientId ?? null,
      m.properties ?? null,
      m.size,
      payload,
    );
    topic.count++;
    topic.bytes += payload.length;
    return topic;
  }

  /** Oldest first to the count and byte caps, but the newest message always stays. */
  private trimLog(topic: TopicEntry): void {
    const maxCount = this.options.messagesPerTopic;
    if (topic.count > maxCount) {
      // One statement for the count cap (a batch may hold many messages of a topic).
      this.s.trimMessages.run(topic.id, topic.id, maxCount - 1);
      topic.count = maxCount;
      topic.bytes = this.s.logBytes.get(topic.id)?.bytes ?? 0;
    }
    const cap = this.options.messageBytesPerTopic;
    while (topic.bytes > cap && topic.count > 1) {
      const oldest = this.s.oldestMessage.get(topic.id);
      if (!oldest) break;
      this.s.deleteMessage.run(oldest.id);
      topic.count--;
      topic.bytes -= oldest.bytes;
    }
  }

  private topicFor(topic: string): TopicEntry {
    let entry = this.topics.get(topic);
    if (!entry) {
      const row = this.s.findTopic.get(topic);
      if (row) {
        const log = this.s.topicLog.get(row.id);
        entry = { id: row.id, count: log?.count ?? 0, bytes: log?.bytes ?? 0 };
      } else {
        entry = { id: Number(this.s.insertTopic.run(topic).lastInsertRowid), count: 0, bytes: 0 };
      }
      this.topics.set(topic, entry);
    }
    return entry;
  }
}

function accumulate(into: Map<string, Rollup>, seriesId: number, t: number, v: number): void {
  const key = `${seriesId}:${t}`;
  const r = into.get(key);
  if (!r) {
    into.set(key, { seriesId, t, n: 1, lo: v, hi: v, sum: v, last: v });
    return;
  }
  r.n++;
  if (v < r.lo) r.lo = v;
  if (v > r.hi) r.hi = v;
  r.sum += v;
  r.last = v;
}
