import type Database from 'better-sqlite3';
import { FlatJsonFields } from './flat-json-fields.js';
import { prepareSampleBlockInsert, type RollupTier } from './history-db.js';
import { BatchReader, type PackedBatch } from './message-batch.js';
import { BlockBuilder, servedFrom } from './message-block.js';
import type { ResolvedHistoryOptions } from './options.js';
import { type FieldPath, textFields } from './payload-fields.js';
import { payloadText } from './payload-text.js';
import { MAX_BLOCK_SAMPLES, type Samples } from './sample-block.js';
import { readJournalRow, type SeriesEntry, SeriesSamples, UnfoldedSamples } from './unfolded-samples.js';

/** Timed commits between folds at most (unfolded-samples.ts), and samples waiting at most. */
const FOLD_COMMITS = 60;
const FOLD_SAMPLES = 200_000;
/** Emptied message log builders kept for the next commit (a few KiB each). */
const MAX_SPARE_BUILDERS = 256;

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

/**
 * A topic's series by field path: a one-key path (`{"t": 24.1}`, `t=24.1C`: nearly all of them) by its
 * key, with no key string built per sample; any other path by its JSON.
 */
interface TopicSeries {
  byKey: Map<string, SeriesEntry>;
  byPath: Map<string, SeriesEntry>;
}

/**
 * Writes the hand-overs of a commit in one transaction: the per-topic message log (one block per topic
 * and commit, trimmed by whole blocks) and the samples' journal row; about once a minute, and whenever
 * a query or a retention sweep is to see everything, it folds instead: raw samples (one block per series,
 * sample-block.ts) and the 1-minute and 1-hour rollups (upserted, so a rollup survives its raw samples'
 * retention), the journal deleted in the same transaction.
 */
export class BatchWriter {
  private readonly series = new Map<string, TopicSeries>();
  private readonly byId = new Map<number, SeriesEntry>();
  private readonly topics = new Map<string, TopicEntry>();
  private readonly unfolded = new UnfoldedSamples();
  private readonly flat = new FlatJsonFields();
  /** The commit's block per topic, and emptied builders kept for the next commits' blocks. */
  private readonly logged = new Map<string, BlockBuilder>();
  private readonly spareBuilders: BlockBuilder[] = [];
  private commitsSinceFold = 0;
  /** What is unfolded in memory was dropped (at open, after a failed commit): the journal has it. */
  private replayJournal = true;
  /** Journal rows the replay could not read (a damaged file), left out; the writer reports them. */
  damagedJournalRows = 0;
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
      seriesById: db.prepare<[number], { topic: string; path: string }>(
        'SELECT topic, path FROM series WHERE id = ?',
      ),
      journal: db.prepare<[], { data: Buffer }>('SELECT data FROM raw_journal ORDER BY id'),
      journalRow: db.prepare<[Buffer]>('INSERT INTO raw_journal (data) VALUES (?)'),
      clearJournal: db.prepare('DELETE FROM raw_journal'),
    };
    this.seriesCount = (db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n;
  }

  /**
   * Parses and writes the packed messages of `batches` in one transaction, folding when `fold` says so
   * or one is due; on failure nothing of them is written and the caches are reset.
   */
  write(batches: readonly PackedBatch[], fold: boolean): WriteCounts {
    return this.transaction(() => {
      const counts = this.writeAll(batches);
      const u = this.unfolded;
      this.commitsSinceFold++;
      if (
        fold ||
        this.commitsSinceFold >= FOLD_COMMITS ||
        u.count >= FOLD_SAMPLES ||
        u.largest >= MAX_BLOCK_SAMPLES
      )
        this.foldAll();
      else {
        const row = u.journalRow();
        if (row) this.s.journalRow.run(row);
      }
      return counts;
    });
  }

  /** Whether every committed sample is where queries and retention read it (nothing in the journal). */
  get folded(): boolean {
    return !this.replayJournal && this.unfolded.count === 0;
  }

  /** Folds what waits (a query, a sweep or close is to see it all), in a transaction of its own. */
  fold(): void {
    if (this.replayJournal || this.unfolded.count > 0) this.transaction(() => this.foldAll());
  }

  /** Drops the cached ids and counters (after a failed commit, or after retention deleted rows). */
  forget(): void {
    this.series.clear();
    this.byId.clear();
    this.topics.clear();
    // The journal on disk holds what was committed unfolded: the next transaction reads it back.
    this.unfolded.clear();
    this.replayJournal = true;
    this.seriesCount = (this.db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n;
  }

  private transaction<T>(work: () => T): T {
    try {
      return this.db.transaction(() => {
        if (this.replayJournal) this.replay();
        this.unfolded.beginCommit();
        return work();
      })();
    } catch (err) {
      // Rows created inside the failed transaction are gone: the cached ids and counters may be wrong.
      this.forget();
      throw err;
    }
  }

  /**
   * Reads the journal's samples back into memory (what a crash or a failed commit left unfolded). A row
   * that cannot be read is left out and counted (`damagedJournalRows`), and goes with the next fold:
   * it must not stop every commit after it.
   */
  private replay(): void {
    this.replayJournal = false;
    for (const { data } of this.s.journal.all()) {
      const rows: [SeriesEntry, Samples][] = [];
      try {
        readJournalRow(data, (id, samples) => {
          const series = this.seriesById(id);
          if (series) rows.push([series, samples]); // else its series is gone
        });
      } catch {
        this.damagedJournalRows++;
        continue;
      }
      for (const [series, samples] of rows)
        for (let i = 0; i < samples.t.length; i++) this.unfolded.add(series, samples.t[i]!, samples.v[i]!);
    }
  }

  private foldAll(): void {
    this.unfolded.fold(this.s.insertRaw, this.s.rollup);
    this.s.clearJournal.run();
    this.commitsSinceFold = 0;
  }

  private seriesById(id: number): SeriesEntry | undefined {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const row = this.s.seriesById.get(id);
    if (!row) return undefined;
    return this.seriesFor(
      this.topicSeries(row.topic),
      row.topic,
      JSON.parse(row.path) as FieldPath,
      undefined,
    );
  }

  private writeAll(batches: readonly PackedBatch[]): WriteCounts {
    try {
      const counts = this.readAll(batches);
      for (const [topic, block] of this.logged) this.logBlock(topic, block);
      return counts;
    } finally {
      // Emptied for the next commit, whether this one is written or fails.
      for (const block of this.logged.values()) {
        block.reset();
        if (block.reusable && this.spareBuilders.length < MAX_SPARE_BUILDERS) this.spareBuilders.push(block);
      }
      this.logged.clear();
    }
  }

  /** Parses the batches' messages into series samples, and each topic's into its block (`logged`). */
  private readAll(batches: readonly PackedBatch[]): WriteCounts {
    const counts: WriteCounts = { samples: 0, droppedSeries: 0 };
    const { messagesPerTopic, messageBytesPerTopic, parse } = this.options;
    // Each topic's messages of this commit, oldest first: one block in its log.
    const logged = this.logged;
    for (const batch of batches) {
      const m = new BatchReader(batch);
      while (m.next()) {
        if (messagesPerTopic > 0) {
          let block = logged.get(m.topic);
          if (!block) {
            block = this.spareBuilders.pop() ?? new BlockBuilder(messageBytesPerTopic);
            logged.set(m.topic, block);
          }
          block.append(m);
        }
        if (m.size > parse.maxBytes) continue;
        // A flat JSON object straight from its bytes; the general path for anything else.
        const flat = this.flat;
        const n = parse.maxDepth > 0 ? flat.read(m.buf, m.payloadStart, m.payloadEnd, parse.maxFields) : -1;
        if (n === 0) continue;
        if (n > 0) {
          const ofTopic = this.topicSeries(m.topic);
          for (let i = 0; i < n; i++)
            this.addSample(ofTopic, m.topic, m.t, flat.paths[i]!, undefined, flat.values[i]!, counts);
          continue;
        }
        const text = payloadText(m.buf, m.payloadStart, m.payloadEnd);
        if (text === undefined) continue;
        const fields = textFields(text, parse);
        if (fields.length === 0) continue;
        const ofTopic = this.topicSeries(m.topic);
        for (const f of fields) this.addSample(ofTopic, m.topic, m.t, f.path, f.unit, f.value, counts);
      }
    }
    return counts;
  }

  /** One field's sample in its series (made on first sight, unless maxSeries are there already). */
  private addSample(
    ofTopic: TopicSeries,
    topic: string,
    time: number,
    path: FieldPath,
    unit: string | undefined,
    value: number,
    counts: WriteCounts,
  ): void {
    const series = this.seriesFor(ofTopic, topic, path, unit);
    if (!series) {
      counts.droppedSeries++;
      return;
    }
    this.unfolded.add(series, time, value);
    counts.samples++;
  }

  private topicSeries(topic: string): TopicSeries {
    let ofTopic = this.series.get(topic);
    if (!ofTopic) {
      ofTopic = { byKey: new Map(), byPath: new Map() };
      this.series.set(topic, ofTopic);
    }
    return ofTopic;
  }

  private seriesFor(
    ofTopic: TopicSeries,
    topic: string,
    path: FieldPath,
    fieldUnit: string | undefined,
  ): SeriesEntry | undefined {
    const oneKey = path.length === 1 && typeof path[0] === 'string';
    const map = oneKey ? ofTopic.byKey : ofTopic.byPath;
    const key = oneKey ? (path[0] as string) : JSON.stringify(path);
    const unit = fieldUnit ?? null;
    let entry = map.get(key);
    if (!entry) {
      const pathJson = JSON.stringify(path);
      const row = this.s.findSeries.get(topic, pathJson);
      if (row) {
        entry = newEntry(row.id, row.unit, this.s.lastT.get(row.id)?.t ?? Number.NEGATIVE_INFINITY);
      } else {
        if (this.seriesCount >= this.options.maxSeries) return undefined;
        const id = Number(this.s.insertSeries.run(topic, pathJson, unit).lastInsertRowid);
        this.seriesCount++;
        entry = newEntry(id, unit, Number.NEGATIVE_INFINITY);
      }
      map.set(key, entry);
      this.byId.set(entry.id, entry);
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
    const from = servedFrom(block.kept, maxCount, maxBytes, block.count);
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

function newEntry(id: number, unit: string | null, lastT: number): SeriesEntry {
  return {
    id,
    unit,
    lastT,
    samples: new SeriesSamples(),
    commit: 0,
    journalFrom: 0,
    minute: undefined,
    hour: undefined,
  };
}
