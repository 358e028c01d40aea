import type Database from 'better-sqlite3';
import { topicMatches } from '../../protocol/topic.js';
import { insertSampleBlocks, prepareSampleBlockInsert, type Tier, usedBytes } from './history-db.js';
import type { ResolvedHistoryOptions, Retention } from './options.js';
import { decodeSamples } from './sample-block.js';

const TIERS: readonly Tier[] = ['raw', 'minute', 'hour'];
/** Work per slice, so a slice never holds the event loop for long: series visited, rows deleted. */
const SERIES_PER_SLICE = 500;
const ROWS_PER_SLICE = 20_000;
const BLOCKS_PER_SLICE = 1_000;
/** A tier whose data spans less than this is not pruned for the size cap; the next coarser one is. */
const MIN_SPAN_MS: Record<Tier, number> = { raw: 2 * 60_000, minute: 2 * 3_600_000, hour: 0 };

export interface RetentionResult {
  /** Rollup rows and raw samples deleted. */
  deletedRows: number;
  deletedMessages: number;
  /** Series whose every sample and rollup was deleted, and topics whose message log was emptied, removed. */
  deletedSeries: number;
  deletedTopics: number;
  /** True when a sweep is still under way (more slices to run). */
  sweeping: boolean;
}

export type SweeperOptions = Pick<
  ResolvedHistoryOptions,
  'retention' | 'defaultRetention' | 'maxBytes' | 'retentionIntervalMs'
>;

/** The retention of each topic: the first rule that matches it, over the defaults (cached). */
export class RetentionRules {
  private readonly byTopic = new Map<string, Retention>();

  constructor(private readonly options: Pick<ResolvedHistoryOptions, 'retention' | 'defaultRetention'>) {}

  of(topic: string): Retention {
    let r = this.byTopic.get(topic);
    if (!r) {
      const rule = this.options.retention.find((x) => topicMatches(x.filter, topic));
      const { filter: _, ...tiers } = rule ?? { filter: '' };
      r = { ...this.options.defaultRetention, ...tiers };
      if (this.byTopic.size >= 100_000) this.byTopic.clear();
      this.byTopic.set(topic, r);
    }
    return r;
  }
}

/**
 * Deletes what each series' retention no longer keeps, and, over the size cap, the oldest data first.
 * Works in slices (one per commit tick) over the series in id order, so a sweep over 100,000 series
 * never blocks the broker; a new sweep starts every `retentionIntervalMs`, or at once while over the cap.
 */
export class RetentionSweeper {
  private sweeping = false;
  private cursor = 0;
  private nextSweepAt = Number.NEGATIVE_INFINITY;
  /** Oldest time seen per tier in the running sweep, and in the last complete one. */
  private oldest: Record<Tier, number> = blank();
  private lastOldest: Record<Tier, number> = blank();
  /** Over the size cap: cut-offs tighter than retention, from the oldest data up. */
  private capCutoff: Partial<Record<Tier, number>> = {};
  /** Whether the running sweep removed series or messages: then empty topics are removed at its end. */
  private removedAny = false;
  private readonly rules: RetentionRules;
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly options: SweeperOptions,
  ) {
    this.rules = new RetentionRules(options);
    // The oldest rows of a series, at most `chunk` of them, before the cut-off; how many samples each held.
    // A raw block goes when its newest sample is before the cut-off (a query filters the samples of
    // the one that straddles it); a series' blocks do not overlap, so those are its oldest blocks.
    const chunkDelete = (tier: Tier) => {
      const t = tier === 'raw' ? 't_first' : 't';
      return db.prepare<{ id: number; cutoff: number; chunk: number }, { n: number }>(
        `DELETE FROM ${tier} WHERE series_id = :id AND ${t} < coalesce(min(:cutoff,
           (SELECT ${t} FROM ${tier} WHERE series_id = :id ORDER BY ${t} LIMIT 1 OFFSET :chunk)), :cutoff)
         ${tier === 'raw' ? 'AND t_first + span < :cutoff RETURNING count AS n' : 'RETURNING 1 AS n'}`,
      );
    };
    const oldest = (tier: Tier) =>
      db.prepare<[number], { t: number | null }>(
        `SELECT min(${tier === 'raw' ? 't_first' : 't'}) AS t FROM ${tier} WHERE series_id = ?`,
      );
    this.s = {
      slice: db.prepare<[number, number], { id: number; topic: string }>(
        'SELECT id, topic FROM series WHERE id > ? ORDER BY id LIMIT ?',
      ),
      delete: { raw: chunkDelete('raw'), minute: chunkDelete('minute'), hour: chunkDelete('hour') },
      // The one block of a series that can hold samples on both sides of a cut-off: its latest before it.
      straddling: db.prepare<
        [number, number],
        { t_first: number; span: number; count: number; data: Buffer }
      >(
        'SELECT t_first, span, count, data FROM raw WHERE series_id = ? AND t_first < ? ORDER BY t_first DESC LIMIT 1',
      ),
      deleteBlock: db.prepare<[number, number]>('DELETE FROM raw WHERE series_id = ? AND t_first = ?'),
      insertBlock: prepareSampleBlockInsert(db),
      oldest: { raw: oldest('raw'), minute: oldest('minute'), hour: oldest('hour') },
      // The log is pruned by whole blocks: the oldest time pruning can free is the oldest block's newest.
      oldestMessage: db.prepare<[], { t: number | null }>('SELECT min(t_last) AS t FROM message_blocks'),
      // Blocks whose every message is older than the cut-off (the log keeps whole blocks).
      deleteMessages: db.prepare<[number, number], { count: number }>(
        `DELETE FROM message_blocks WHERE id IN (
           SELECT id FROM message_blocks WHERE t_last < ? ORDER BY id LIMIT ?) RETURNING count`,
      ),
      deleteSeries: db.prepare<[number]>('DELETE FROM series WHERE id = ?'),
      deleteEmptyTopics: db.prepare(
        'DELETE FROM topics WHERE NOT EXISTS (SELECT 1 FROM message_blocks WHERE topic_id = topics.id)',
      ),
      loadState: db.prepare<[], { tier: string; oldest: number | null; cap_cutoff: number | null }>(
        'SELECT tier, oldest, cap_cutoff FROM sweep_state',
      ),
      saveState: db.prepare<[string, number | null, number | null]>(
        'INSERT OR REPLACE INTO sweep_state (tier, oldest, cap_cutoff) VALUES (?, ?, ?)',
      ),
    };
    // Where the size cap's pruning had got to before a restart: it goes on from there at once.
    for (const row of this.s.loadState.all()) {
      if (!TIERS.includes(row.tier as Tier)) continue;
      if (row.oldest !== null) this.lastOldest[row.tier as Tier] = row.oldest;
      if (row.cap_cutoff !== null) this.capCutoff[row.tier as Tier] = row.cap_cutoff;
    }
  }

  /** Whether tick(now) has work to do: a sweep is due or under way. */
  due(now: number): boolean {
    return this.sweeping || now >= this.nextSweepAt;
  }

  /** Runs one slice of work if a sweep is due or under way. */
  tick(now: number): RetentionResult {
    const result: RetentionResult = {
      deletedRows: 0,
      deletedMessages: 0,
      deletedSeries: 0,
      deletedTopics: 0,
      sweeping: false,
    };
    if (!this.due(now)) return result;
    if (!this.sweeping) this.startSweep(now);
    this.db.transaction(() => this.slice(now, result))();
    if (!this.sweeping) this.db.transaction(() => this.finishSweep(now, result))();
    if (result.deletedRows + result.deletedMessages > 0) this.db.pragma('incremental_vacuum(2000)');
    result.sweeping = this.sweeping;
    return result;
  }

  /** A whole sweep now (tests, and close when asked): slices until it is done. */
  sweep(now: number): RetentionResult {
    this.nextSweepAt = Number.NEGATIVE_INFINITY;
    const total: RetentionResult = {
      deletedRows: 0,
      deletedMessages: 0,
      deletedSeries: 0,
      deletedTopics: 0,
      sweeping: false,
    };
    for (let i = 0; i < 1_000_000; i++) {
      const r = this.tick(now);
      total.deletedRows += r.deletedRows;
      total.deletedMessages += r.deletedMessages;
      total.deletedSeries += r.deletedSeries;
      total.deletedTopics += r.deletedTopics;
      if (!r.sweeping) break;
    }
    return total;
  }

  private startSweep(now: number): void {
    this.sweeping = true;
    this.cursor = 0;
    this.oldest = blank();
    this.removedAny = false;
    const cap = this.options.maxBytes;
    const used = cap === 0 ? 0 : usedBytes(this.db);
    if (used <= cap) {
      this.capCutoff = {};
      return;
    }
    // Over the cap: drop the oldest part of the finest tier that still spans something, in proportion
    // to the excess (aiming 10 % under the cap), at least a quarter of its span.
    const fraction = Math.min(1, Math.max(0.25, (used - 0.9 * cap) / used));
    for (const tier of TIERS) {
      const from = Math.min(this.lastOldest[tier], this.capCutoff[tier] ?? Number.POSITIVE_INFINITY);
      if (!Number.isFinite(from) || now - from <= MIN_SPAN_MS[tier]) continue;
      this.capCutoff[tier] = from + (now - from) * fraction;
      return;
    }
  }

  private slice(now: number, result: RetentionResult): void {
    const rows = this.s.slice.all(this.cursor, SERIES_PER_SLICE);
    for (const { id, topic } of rows) {
      const retention = this.rules.of(topic);
      let empty = true;
      for (const tier of TIERS) {
        const cutoff = Math.max(now - retention[tier], this.capCutoff[tier] ?? Number.NEGATIVE_INFINITY);
        if (cutoff > Number.NEGATIVE_INFINITY) {
          const budget = ROWS_PER_SLICE - result.deletedRows;
          if (budget <= 0) return; // resume this series in the next slice
          const deleted = this.s.delete[tier].all({ id, cutoff: Math.floor(cutoff), chunk: budget });
          for (const row of deleted) result.deletedRows += row.n;
          if (deleted.length >= budget) return;
          if (tier === 'raw') result.deletedRows += this.trimStraddling(id, Math.floor(cutoff));
        }
        const t = this.s.oldest[tier].get(id)?.t;
        if (t != null) empty = false;
        if (t != null && t < this.oldest[tier]) this.oldest[tier] = t;
      }
      if (empty) {
        // Nothing of it is left in any tier: it no longer shows in the series list.
        this.s.deleteSeries.run(id);
        result.deletedSeries++;
        this.removedAny = true;
      }
      this.cursor = id;
    }
    if (rows.length < SERIES_PER_SLICE) this.sweeping = false;
  }

  /**
   * Drops the samples before `cutoff` from the series' block that holds samples on both sides of it
   * (written again without them): retention is exact to the sample. Returns the samples dropped.
   */
  private trimStraddling(id: number, cutoff: number): number {
    const row = this.s.straddling.get(id, cutoff);
    if (!row || row.t_first + row.span < cutoff) return 0;
    const s = decodeSamples(row.data, row.t_first, row.count);
    let keep = 0;
    while (s.t[keep]! < cutoff) keep++;
    this.s.deleteBlock.run(id, row.t_first);
    insertSampleBlocks(this.s.insertBlock, id, { t: s.t.slice(keep), v: s.v.slice(keep) });
    return keep;
  }

  /**
   * The end of a sweep: messages older than the raw cap cut-off go with the raw samples (the oldest
   * message counts as raw data), topics left without messages go, and the pruning state is saved.
   */
  private finishSweep(now: number, result: RetentionResult): void {
    const cutoff = this.capCutoff.raw;
    const deleted =
      cutoff === undefined
        ? 0
        : this.s.deleteMessages
            .all(Math.floor(cutoff), BLOCKS_PER_SLICE)
            .reduce((n, block) => n + block.count, 0);
    result.deletedMessages += deleted;
    const t = this.s.oldestMessage.get()?.t;
    if (t != null && t < this.oldest.raw) this.oldest.raw = t;
    if (deleted > 0 || this.removedAny) result.deletedTopics += this.s.deleteEmptyTopics.run().changes;
    this.lastOldest = this.oldest;
    for (const tier of TIERS) {
      const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
      this.s.saveState.run(tier, finite(this.lastOldest[tier]), finite(this.capCutoff[tier]));
    }
    const over = this.options.maxBytes > 0 && usedBytes(this.db) > this.options.maxBytes;
    this.nextSweepAt = over ? now : now + this.options.retentionIntervalMs;
  }
}

function blank(): Record<Tier, number> {
  return { raw: Number.POSITIVE_INFINITY, minute: Number.POSITIVE_INFINITY, hour: Number.POSITIVE_INFINITY };
}
