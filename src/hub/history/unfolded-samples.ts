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
import { decodeSamples, encodeSamples, readVarintAt, type Samples, writeVarint } from './sample-block.js';

export interface SeriesEntry {
  id: number;
  unit: string | null;
  /** Latest t recorded: samples of one series get distinct, increasing times. */
  lastT: number;
  /** Its samples since the last fold, written as raw blocks by the next one. */
  samples: Samples;
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
    if (s.t.length === 0) this.series.push(series);
    if (series.commit !== this.commitNo) {
      series.commit = this.commitNo;
      series.journalFrom = s.t.length;
      this.touched.push(series);
    }
    s.t.push(t);
    s.v.push(v);
    this.count++;
    if (s.t.length > this.largest) this.largest = s.t.length;
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
      const data = encodeSamples(s, from, s.t.length);
      const head = Buffer.allocUnsafe(30);
      let p = writeVarint(head, 0, series.id);
      p = writeVarint(head, p, s.t.length - from);
      p = head.writeDoubleLE(s.t[from]!, p);
      p = writeVarint(head, p, data.length);
      parts.push(head.subarray(0, p), data);
    }
    return Buffer.concat(parts);
  }

  /** Writes every series' samples as raw blocks and the rollups, then starts afresh. */
  fold(insertRaw: Parameters<typeof insertSampleBlocks>[0], upserts: RollupUpserts): void {
    for (const series of this.series) insertSampleBlocks(insertRaw, series.id, series.samples);
    for (const tier of ROLLUP_TIERS) {
      for (const r of this.rollups[tier].values())
        upserts[tier].run(r.seriesId, r.t, r.n, r.lo, r.hi, r.sum, r.last);
    }
    this.clear();
  }

  /** Drops what is unfolded (after a failed commit the journal on disk still holds what was committed). */
  clear(): void {
    for (const series of this.series) series.samples = { t: [], v: [] };
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
