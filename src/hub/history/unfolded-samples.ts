/**
 * Samples and rollups recorded since the last fold. A timed commit writes one journal row (that
 * commit's samples of every series, `raw_journal`) instead of a raw block per series and an upsert
 * per series and tier: those rows sit in as many B-tree leaves as there are series, and rewriting all
 * of them every second was most of what a commit wrote (hub@1k's 80 series: ~145 pages a commit, ~50
 * without). The fold writes what queries read, a raw block per series and the rollups, and deletes the
 * journal in the same transaction: after a crash, the journal's rows are replayed and folded at open.
 */
import type Database from 'better-sqlite3';
import { insertSampleBlocks, ROLLUP_TIERS, type RollupTier, TIER_MS } from './history-db.js';
import {
  decodeSamples,
  encodeSamples,
  readVarintAt,
  type SampleColumns,
  type Samples,
  writeVarint,
} from './sample-block.js';

/**
 * A series' samples since the last fold, in typed arrays: their bytes live outside V8's heap, so the
 * writer thread's scavenges do not copy them over and over until the fold (with JavaScript arrays that
 * was most of each scavenge's work), and they are emptied, not regrown, after each fold.
 */
export class SeriesSamples {
  t = new Float64Array(INITIAL_CAPACITY);
  v = new Float64Array(INITIAL_CAPACITY);
  /** How many there are. */
  n = 0;

  push(t: number, v: number): void {
    if (this.n === this.t.length) this.grow();
    this.t[this.n] = t;
    this.v[this.n] = v;
    this.n++;
  }

  /** All of them, for the raw blocks. */
  columns(): SampleColumns {
    return { t: this.t.subarray(0, this.n), v: this.v.subarray(0, this.n) };
  }

  /** Empties it; a series that once had many gives its room back. */
  clear(): void {
    this.n = 0;
    if (this.t.length > KEPT_CAPACITY) {
      this.t = new Float64Array(INITIAL_CAPACITY);
      this.v = new Float64Array(INITIAL_CAPACITY);
    }
  }

  private grow(): void {
    const t = new Float64Array(2 * this.t.length);
    const v = new Float64Array(2 * this.v.length);
    t.set(this.t);
    v.set(this.v);
    this.t = t;
    this.v = v;
  }
}

/** 16 samples: 128 bytes a column, past V8's 64-byte limit for typed arrays kept on its heap. */
const INITIAL_CAPACITY = 16;
/** What a series keeps across folds at most (a minute of a sample every 20 ms). */
const KEPT_CAPACITY = 4096;

export interface SeriesEntry {
  id: number;
  unit: string | null;
  /** Latest t recorded: samples of one series get distinct, increasing times. */
  lastT: number;
  /** Its samples since the last fold, written as raw blocks by the next one. */
  samples: SeriesSamples;
  /** The commit it last had a sample in, and where that commit's samples start in `samples`. */
  commit: number;
  journalFrom: number;
  /** The rollups its latest sample went into, per tier (valid within one fold's generation). */
  minute: Rollup | undefined;
  hour: Rollup | undefined;
}

interface Rollup {
  generation: number;
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

export type RollupUpserts = Record<
  RollupTier,
  Database.Statement<[number, number, number, number, number, number, number]>
>;

export class UnfoldedSamples {
  /** Series with samples since the last fold, in the order they first had one. */
  private series: SeriesEntry[] = [];
  /** Series with samples in the current commit. */
  private touched: SeriesEntry[] = [];
  private rollups: Record<RollupTier, Map<string, Rollup>> = { minute: new Map(), hour: new Map() };
  private generation = 0;
  private commitNo = 0;
  /** Samples since the last fold, and the most of one series. */
  count = 0;
  largest = 0;

  /** Starts a commit: the samples added from now on go into its journal row. */
  beginCommit(): void {
    this.commitNo++;
    this.touched = [];
  }

  /** One sample of `series` at `time` (moved just after the series' last one if not after it). */
  add(series: SeriesEntry, time: number, v: number): void {
    const t = time > series.lastT ? time : series.lastT + 1;
    series.lastT = t;
    const s = series.samples;
    if (s.n === 0) this.series.push(series);
    if (series.commit !== this.commitNo) {
      series.commit = this.commitNo;
      series.journalFrom = s.n;
      this.touched.push(series);
    }
    s.push(t, v);
    this.count++;
    if (s.n > this.largest) this.largest = s.n;
    // Mostly the series' previous sample's rollups: no period start to work out (a float modulo)
    // and no key to build and look up.
    let minute = series.minute;
    if (minute === undefined || minute.generation !== this.generation || t < minute.t || t >= minute.end)
      minute = series.minute = this.rollupFor('minute', series.id, t);
    add(minute, v);
    let hour = series.hour;
    if (hour === undefined || hour.generation !== this.generation || t < hour.t || t >= hour.end)
      hour = series.hour = this.rollupFor('hour', series.id, t);
    add(hour, v);
  }

  /**
   * The current commit's samples as a journal row: per series its id and sample count (varints), its
   * first time (float64), then the samples as a raw block encodes them (length varint + bytes).
   * Undefined when the commit had none.
   */
  journalRow(): Buffer | undefined {
    if (this.touched.length === 0) return undefined;
    const parts: Buffer[] = [];
    for (const series of this.touched) {
      const s = series.samples;
      const from = series.journalFrom;
      const data = encodeSamples(s, from, s.n);
      const head = Buffer.allocUnsafe(30);
      let p = writeVarint(head, 0, series.id);
      p = writeVarint(head, p, s.n - from);
      p = head.writeDoubleLE(s.t[from]!, p);
      p = writeVarint(head, p, data.length);
      parts.push(head.subarray(0, p), data);
    }
    return Buffer.concat(parts);
  }

  /** Writes every series' samples as raw blocks and the rollups, then starts afresh. */
  fold(insertRaw: Parameters<typeof insertSampleBlocks>[0], upserts: RollupUpserts): void {
    for (const series of this.series) insertSampleBlocks(insertRaw, series.id, series.samples.columns());
    for (const tier of ROLLUP_TIERS) {
      for (const r of this.rollups[tier].values())
        upserts[tier].run(r.seriesId, r.t, r.n, r.lo, r.hi, r.sum, r.last);
    }
    this.clear();
  }

  /** Drops what is unfolded (after a failed commit the journal on disk still holds what was committed). */
  clear(): void {
    for (const series of this.series) series.samples.clear();
    this.series = [];
    this.touched = [];
    this.rollups = { minute: new Map(), hour: new Map() };
    this.generation++;
    this.count = 0;
    this.largest = 0;
  }

  private rollupFor(tier: RollupTier, seriesId: number, t: number): Rollup {
    const periodMs = TIER_MS[tier];
    const start = t - (t % periodMs);
    const key = `${seriesId}:${start}`;
    const into = this.rollups[tier];
    let r = into.get(key);
    if (!r) {
      r = {
        generation: this.generation,
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
}

/** Calls `each` with every series' samples in a journal row, in the order they were written. */
export function readJournalRow(data: Buffer, each: (seriesId: number, samples: Samples) => void): void {
  const at = { p: 0 };
  while (at.p < data.length) {
    const id = readVarintAt(data, at);
    const count = readVarintAt(data, at);
    const tFirst = data.readDoubleLE(at.p);
    at.p += 8;
    const length = readVarintAt(data, at);
    each(id, decodeSamples(data.subarray(at.p, at.p + length), tFirst, count));
    at.p += length;
  }
}

function add(r: Rollup, v: number): void {
  r.n++;
  if (v < r.lo) r.lo = v;
  if (v > r.hi) r.hi = v;
  r.sum += v;
  r.last = v;
}
