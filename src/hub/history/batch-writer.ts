import type Database from 'better-sqlite3';
import {
  insertSampleBlocks,
  prepareSampleBlockInsert,
  ROLLUP_TIERS,
  type RollupTier,
  TIER_MS,
} from './history-db.js';
import { BatchReader, type PackedBatch } from './message-batch.js';
import { BlockBuilder, servedFrom } from './message-block.js';
import type { ResolvedHistoryOptions } from './options.js';
import { type PayloadField, textFields } from './payload-fields.js';
import { payloadText } from './payload-text.js';
import type { Samples } from './sample-block.js';

/** The options the writer follows. */
export type WriterOptions = Pick<
  ResolvedHistoryOptions,
  'maxSeries' | 'messagesPerTopic' | 'messageBytesPerTopic' | 'parse'
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
  /** This batch's samples of the series, written as one block at its end. */
  samples: Samples;
  /** The rollups of the batch being written that this series' latest sample went into, per tier. */
  minute: Rollup | undefined;
  hour: Rollup | undefined;
}

interface TopicEntry {
  id: number;
  /** The topic's message log blocks, oldest first. */
  blocks: BlockInfo[];
}

interface BlockInfo {
  id: number;
  count: number;
  bytes: number;
  /** Its newest message's payload bytes: whether that one still fits under the byte cap. */
  newest: number;
}

interface Rollup {
  /** The batch it belongs to: a series' cached rollup from an earlier batch is not reused. */
  batch: number;
  seriesId: number;
  /** The period's start and end (exclusive), epoch ms. */
  t: number;
  end: number;
  n: number;
  lo: number;
  hi: number;
  sum: number;
  last: number;
}

/**
 * Writes batches of pending messages in one transaction each: raw samples (one block per series and
 * batch, sample-block.ts), the 1-minute and 1-hour
 * rollups (upserted per batch, so a rollup survives its raw samples' retention), and the per-topic
 * message log, one block per topic and batch, trimmed by whole blocks.
 */
/**
 * A topic's series by field path: a one-key path (`{"t": 24.1}`, `t=24.1C`: nearly all of them) by its
 * key, with no key string built per sample; any other path by its JSON.
 */
interface TopicSeries {
  byKey: Map<string, SeriesEntry>;
  byPath: Map<string, SeriesEntry>;
}

export class BatchWriter {
  private readonly series = new Map<string, TopicSeries>();
  private readonly topics = new Map<string, TopicEntry>();
  private batches = 0;
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
      lastT: db.prepare<[number], { t: number }>(
        'SELECT t_first + span AS t FROM raw WHERE series_id = ? ORDER BY t_first DESC LIMIT 1',
      ),
      insertSeries: db.prepare<[string, string, string | null]>(
        'INSERT INTO series (topic, path, unit) VALUES (?, ?, ?)',
      ),
      setUnit: db.prepare<[string | null, number]>('UPDATE series SET unit = ? WHERE id = ?'),
      insertRaw: prepareSampleBlockInsert(db),
      rollup: { minute: rollupUpsert('minute'), hour: rollupUpsert('hour') },
      findTopic: db.prepare<[string], { id: number }>('SELECT id FROM topics WHERE topic = ?'),
      insertTopic: db.prepare<[string]>('INSERT INTO topics (topic) VALUES (?)'),
      blocks: db.prepare<[number], BlockInfo>(
        'SELECT id, count, bytes, newest_bytes AS newest FROM message_blocks WHERE topic_id = ? ORDER BY id',
      ),
      insertBlock: db.prepare<[number, number, number, number, number, number, Buffer]>(
        `INSERT INTO message_blocks (topic_id, t_first, t_last, count, bytes, newest_bytes, data)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteBlocks: db.prepare<[number, number]>('DELETE FROM message_blocks WHERE topic_id = ? AND id <= ?'),
    };
    this.seriesCount = (db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n;
  }

  /**
   * Parses and writes the packed messages of `batches` in one transaction; on failure nothing of them is
   * written and the caches are reset.
   */
  write(batches: readonly PackedBatch[]): WriteCounts {
    try {
      return this.db.transaction(() => this.writeAll(batches))();
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

  private writeAll(batches: readonly PackedBatch[]): WriteCounts {
    const counts: WriteCounts = { samples: 0, droppedSeries: 0 };
    const { messagesPerTopic, messageBytesPerTopic, parse } = this.options;
    // Each topic's messages of this commit, oldest first: one block in its log.
    const logged = new Map<string, BlockBuilder>();
    const rollups: Record<RollupTier, Map<string, Rollup>> = { minute: new Map(), hour: new Map() };
    const batchNo = ++this.batches;
    // The series with samples in this batch, in the order they first had one.
    const sampled: SeriesEntry[] = [];
    for (const batch of batches) {
      const m = new BatchReader(batch);
      while (m.next()) {
        if (messagesPerTopic > 0) {
          let block = logged.get(m.topic);
          if (!block) {
            block = new BlockBuilder(messageBytesPerTopic);
            logged.set(m.topic, block);
          }
          block.append(m, m.buf, m.payloadStart, m.payloadEnd);
        }
        if (m.size > parse.maxBytes) continue;
        const text = payloadText(m.buf, m.payloadStart, m.payloadEnd);
        if (text === undefined) continue;
        const fields = textFields(text, parse);
        if (fields.length > 0) this.addSamples(m.topic, m.t, fields, batchNo, rollups, sampled, counts);
      }
    }
    for (const series of sampled) {
      insertSampleBlocks(this.s.insertRaw, series.id, series.samples);
      series.samples = { t: [], v: [] };
    }
    for (const tier of ROLLUP_TIERS) {
      for (const r of rollups[tier].values())
        this.s.rollup[tier].run(r.seriesId, r.t, r.n, r.lo, r.hi, r.sum, r.last);
    }
    for (const [topic, block] of logged) this.logBlock(topic, block);
    return counts;
  }

  /** One message's fields: a sample of each one's series, and into its rollups. */
  private addSamples(
    topic: string,
    time: number,
    fields: readonly PayloadField[],
    batchNo: number,
    rollups: Record<RollupTier, Map<string, Rollup>>,
    sampled: SeriesEntry[],
    counts: WriteCounts,
  ): void {
    let ofTopic = this.series.get(topic);
    if (!ofTopic) {
      ofTopic = { byKey: new Map(), byPath: new Map() };
      this.series.set(topic, ofTopic);
    }
    for (const field of fields) {
      const series = this.seriesFor(ofTopic, topic, field);
      if (!series) {
        counts.droppedSeries++;
        continue;
      }
      // A series' times strictly increase (its blocks never overlap): a sample at or behind the last
      // one (the same millisecond, or the clock stepped back) goes just after it.
      const t = time > series.lastT ? time : series.lastT + 1;
      series.lastT = t;
      if (series.samples.t.length === 0) sampled.push(series);
      series.samples.t.push(t);
      series.samples.v.push(field.value);
      counts.samples++;
      // Mostly the series' previous sample's rollups: no period start to work out (a float modulo)
      // and no key to build and look up.
      const v = field.value;
      let minute = series.minute;
      if (minute === undefined || minute.batch !== batchNo || t < minute.t || t >= minute.end)
        minute = series.minute = rollupFor(rollups.minute, batchNo, series.id, t, TIER_MS.minute);
      add(minute, v);
      let hour = series.hour;
      if (hour === undefined || hour.batch !== batchNo || t < hour.t || t >= hour.end)
        hour = series.hour = rollupFor(rollups.hour, batchNo, series.id, t, TIER_MS.hour);
      add(hour, v);
    }
  }

  private seriesFor(ofTopic: TopicSeries, topic: string, field: PayloadField): SeriesEntry | undefined {
    const { path } = field;
    const oneKey = path.length === 1 && typeof path[0] === 'string';
    const map = oneKey ? ofTopic.byKey : ofTopic.byPath;
    const key = oneKey ? (path[0] as string) : JSON.stringify(path);
    const unit = field.unit ?? null;
    let entry = map.get(key);
    if (!entry) {
      const pathJson = JSON.stringify(path);
      const row = this.s.findSeries.get(topic, pathJson);
      if (row) {
        entry = {
          id: row.id,
          unit: row.unit,
          lastT: this.s.lastT.get(row.id)?.t ?? Number.NEGATIVE_INFINITY,
          samples: { t: [], v: [] },
          minute: undefined,
          hour: undefined,
        };
      } else {
        if (this.seriesCount >= this.options.maxSeries) return undefined;
        const id = Number(this.s.insertSeries.run(topic, pathJson, unit).lastInsertRowid);
        this.seriesCount++;
        entry = {
          id,
          unit,
          lastT: Number.NEGATIVE_INFINITY,
          samples: { t: [], v: [] },
          minute: undefined,
          hour: undefined,
        };
      }
      map.set(key, entry);
    }
    if (unit !== null && entry.unit !== unit) {
      this.s.setUnit.run(unit, entry.id);
      entry.unit = unit;
    }
    return entry;
  }

  /**
   * Appends one block of a topic's messages to its log (only the newest ones the log serves), then
   * deletes the blocks older than what the newer ones serve: the log keeps whole blocks, and the reader
   * (message-log.ts) serves exactly the last `messagesPerTopic` messages within `messageBytesPerTopic`.
   */
  private logBlock(name: string, block: BlockBuilder): void {
    const { messagesPerTopic: maxCount, messageBytesPerTopic: maxBytes } = this.options;
    const from = servedFrom(block.kept, maxCount, maxBytes);
    let bytes = 0;
    for (let i = from; i < block.count; i++) bytes += block.kept[i]!;
    const last = block.count - 1;
    const topic = this.topicFor(name);
    const newest = block.kept[last]!;
    const row = [topic.id, block.times[from]!, block.times[last]!, last + 1 - from, bytes, newest] as const;
    const id = Number(this.s.insertBlock.run(...row, block.block(from)).lastInsertRowid);
    topic.blocks.push({ id, count: last + 1 - from, bytes, newest });
    // The reader stops at the first message past a cap: a block whose newest message is past one, and
    // every older block, is never served.
    let count = 0;
    let newer = 0;
    for (let i = topic.blocks.length - 1; i >= 0; i--) {
      if (count >= maxCount || newer + topic.blocks[i]!.newest > maxBytes) {
        this.s.deleteBlocks.run(topic.id, topic.blocks[i]!.id);
        topic.blocks.splice(0, i + 1);
        return;
      }
      count += topic.blocks[i]!.count;
      newer += topic.blocks[i]!.bytes;
    }
  }

  private topicFor(topic: string): TopicEntry {
    let entry = this.topics.get(topic);
    if (!entry) {
      const row = this.s.findTopic.get(topic);
      if (row) {
        entry = { id: row.id, blocks: this.s.blocks.all(row.id) };
      } else {
        entry = { id: Number(this.s.insertTopic.run(topic).lastInsertRowid), blocks: [] };
      }
      this.topics.set(topic, entry);
    }
    return entry;
  }
}

/** The batch's rollup of a series for the period `t` falls in, made empty if it has none yet. */
function rollupFor(
  into: Map<string, Rollup>,
  batch: number,
  seriesId: number,
  t: number,
  periodMs: number,
): Rollup {
  const start = t - (t % periodMs);
  const key = `${seriesId}:${start}`;
  let r = into.get(key);
  if (!r) {
    r = {
      batch,
      seriesId,
      t: start,
      end: start + periodMs,
      n: 0,
      lo: Infinity,
      hi: -Infinity,
      sum: 0,
      last: 0,
    };
    into.set(key, r);
  }
  return r;
}

function add(r: Rollup, v: number): void {
  r.n++;
  if (v < r.lo) r.lo = v;
  if (v > r.hi) r.hi = v;
  r.sum += v;
  r.last = v;
}
