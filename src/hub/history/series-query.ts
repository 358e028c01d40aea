import type Database from 'better-sqlite3';
import { topicMatches } from '../../protocol/topic.js';
import { TIER_MS, type Tier } from './history-db.js';
import type { Retention } from './options.js';
import type { FieldPath } from './payload-fields.js';
import { RawBlocks } from './raw-blocks.js';

/** Names one series: a topic and a field path in its payloads (`[]` for a payload that is one number). */
export interface SeriesKey {
  topic: string;
  path: FieldPath;
}

export interface SeriesInfo extends SeriesKey {
  id: number;
  unit: string | undefined;
}

export interface SeriesQuery {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, inclusive. */
  to: number;
  /** The chart's width in pixels: at most 2 × width points come back. */
  width: number;
  /** Force a tier; by default it is chosen by the range, the width and the series' retention. */
  tier?: Tier;
}

/** One point: a sample (n = 1, min = max = avg) or a bucket of samples. */
export interface SeriesPoint {
  /** The sample's time, or the bucket's start. */
  t: number;
  n: number;
  min: number;
  max: number;
  avg: number;
}

export interface SeriesResult {
  series: SeriesInfo;
  tier: Tier;
  /** 0 when the points are the stored rows themselves; else each point is a bucket this wide. */
  bucketMs: number;
  points: SeriesPoint[];
}

interface SeriesRow {
  id: number;
  topic: string;
  path: string;
  unit: string | null;
}

export function toSeriesInfo(row: SeriesRow): SeriesInfo {
  return {
    id: row.id,
    topic: row.topic,
    path: JSON.parse(row.path) as FieldPath,
    unit: row.unit ?? undefined,
  };
}

/** Every series whose topic matches `filter` (all of them without one), by topic then path. */
export function listSeries(db: Database.Database, filter?: string): SeriesInfo[] {
  const rows = db
    .prepare<[], SeriesRow>('SELECT id, topic, path, unit FROM series ORDER BY topic, path')
    .all();
  return rows.filter((r) => filter === undefined || topicMatches(filter, r.topic)).map(toSeriesInfo);
}

export function findSeries(db: Database.Database, key: SeriesKey): SeriesInfo | undefined {
  const row = db
    .prepare<[string, string], SeriesRow>(
      'SELECT id, topic, path, unit FROM series WHERE topic = ? AND path = ?',
    )
    .get(key.topic, JSON.stringify(key.path));
  return row && toSeriesInfo(row);
}

const TIERS: readonly Tier[] = ['raw', 'minute', 'hour'];
/** A tier serves buckets narrower than this; the hourly tier any. */
const TIER_LIMIT_MS: Record<Tier, number> = {
  raw: TIER_MS.minute,
  minute: TIER_MS.hour,
  hour: Number.POSITIVE_INFINITY,
};

/**
 * Reads one series over [from, to] with at most 2 × width points. The range is cut into at most `width`
 * buckets with min, max and average, grouped from raw samples (decoded from their blocks) while a bucket
 * is under a minute, by SQLite from 1-minute rollups while under an hour, hourly ones beyond, among the tiers whose retention
 * reaches back to `from` (or the one asked for). When a tier that fine or finer holds at most
 * 2 × width rows in the range, those rows come back as stored instead.
 */
export function querySeries(
  db: Database.Database,
  series: SeriesInfo,
  query: SeriesQuery,
  retention: Retention,
  now: number,
): SeriesResult {
  const width = Math.max(1, Math.floor(query.width));
  const from = Math.floor(query.from);
  const to = Math.floor(query.to);
  const args = [series.id, from, to] as const;
  const raw = new RawBlocks(db);
  const covering = query.tier
    ? [query.tier]
    : TIERS.filter((t) => t === 'hour' || from >= now - retention[t]);
  const bucketMs = Math.max(1, Math.ceil((to - from + 1) / width));
  const tier = covering.find((t) => bucketMs < TIER_LIMIT_MS[t]) ?? covering.at(-1)!;
  // Stored rows as they are beat buckets, from a tier no coarser than the one the buckets would use.
  for (const exactTier of covering.slice(0, covering.indexOf(tier) + 1)) {
    const exact =
      exactTier === 'raw'
        ? rawRows(raw, series.id, from, to, 2 * width + 1)
        : rollupRows(db, exactTier, args, 2 * width + 1);
    if (exact.length <= 2 * width) return { series, tier: exactTier, bucketMs: 0, points: exact };
  }
  if (tier === 'raw') {
    return { series, tier, bucketMs, points: rawBuckets(raw, series.id, from, to, bucketMs) };
  }
  const rows = db
    .prepare<unknown[], { b: number; n: number; lo: number; hi: number; sum: number }>(
      `SELECT CAST((t - ?) / ? AS INTEGER) AS b, sum(n) AS n, min(lo) AS lo, max(hi) AS hi, sum(sum) AS sum
       FROM ${tier} WHERE series_id = ? AND t >= ? AND t <= ? GROUP BY b ORDER BY b`,
    )
    .all(from, bucketMs, ...args);
  const points = rows.map((r) => ({
    t: from + r.b * bucketMs,
    n: r.n,
    min: r.lo,
    max: r.hi,
    avg: r.sum / r.n,
  }));
  return { series, tier, bucketMs, points };
}

/** Up to `limit` raw samples in [from, to], oldest first. */
function rawRows(raw: RawBlocks, id: number, from: number, to: number, limit: number): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (const s of raw.samples(id, from, to)) {
    for (let i = 0; i < s.t.length; i++) {
      if (points.length >= limit) return points;
      const v = s.v[i]!;
      points.push({ t: s.t[i]!, n: 1, min: v, max: v, avg: v });
    }
  }
  return points;
}

/** The raw samples in [from, to] grouped into buckets `bucketMs` wide from `from`; empty ones left out. */
function rawBuckets(raw: RawBlocks, id: number, from: number, to: number, bucketMs: number): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  let bucket = -1;
  let n = 0;
  let lo = 0;
  let hi = 0;
  let sum = 0;
  const close = () => {
    if (n > 0) points.push({ t: from + bucket * bucketMs, n, min: lo, max: hi, avg: sum / n });
  };
  for (const s of raw.samples(id, from, to)) {
    for (let i = 0; i < s.t.length; i++) {
      const b = Math.floor((s.t[i]! - from) / bucketMs);
      const v = s.v[i]!;
      if (b !== bucket) {
        close();
        bucket = b;
        n = 0;
        lo = v;
        hi = v;
        sum = 0;
      }
      n++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
    }
  }
  close();
  return points;
}

function rollupRows(
  db: Database.Database,
  tier: Tier,
  args: readonly unknown[],
  limit: number,
): SeriesPoint[] {
  const rows = db
    .prepare<unknown[], { t: number; n: number; lo: number; hi: number; sum: number }>(
      `SELECT t, n, lo, hi, sum FROM ${tier} WHERE series_id = ? AND t >= ? AND t <= ? ORDER BY t LIMIT ?`,
    )
    .all(...args, limit);
  return rows.map((r) => ({ t: r.t, n: r.n, min: r.lo, max: r.hi, avg: r.sum / r.n }));
}
