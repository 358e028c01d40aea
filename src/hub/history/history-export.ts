import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Tier } from './history-db.js';
import { pathPointer } from './payload-fields.js';
import { RawBlocks } from './raw-blocks.js';
import type { Samples } from './sample-block.js';
import type { SeriesInfo } from './series-query.js';

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportOptions {
  format: ExportFormat;
  /** Epoch ms, inclusive; default the beginning. */
  from?: number;
  /** Epoch ms, inclusive; default the end. */
  to?: number;
  /** `raw` (default) gives one row per sample; `minute`/`hour` one row per rollup with n, min, max, avg, last. */
  tier?: Tier;
  /** Text handed out per chunk, about (default 64 KiB). */
  chunkChars?: number;
}

interface Row {
  series_id: number;
  t: number;
  v?: number;
  n?: number;
  lo?: number;
  hi?: number;
  sum?: number;
  last?: number;
}

/**
 * Streams the rows of `series` over [from, to] as CSV (RFC 4180: CRLF, quotes doubled; ISO-8601 UTC and
 * epoch ms columns) or NDJSON, in time order. Reads through its own read-only connection (a WAL snapshot,
 * so the recorder keeps committing meanwhile) a rollup row, or a page of raw blocks per series, at a time:
 * memory stays flat whatever the range.
 * Breaking out of the loop closes the connection.
 */
export async function* exportRows(
  file: string,
  series: readonly SeriesInfo[],
  options: ExportOptions,
): AsyncGenerator<string> {
  const tier = options.tier ?? 'raw';
  const csv = options.format === 'csv';
  const chunkChars = options.chunkChars ?? 64 * 1024;
  if (csv)
    yield tier === 'raw'
      ? 'time,epoch_ms,topic,field,value,unit\r\n'
      : 'time,epoch_ms,topic,field,n,min,max,avg,last,unit\r\n';
  if (series.length === 0) return;
  const byId = new Map(
    series.map((s) => [s.id, { s, field: pathPointer(s.path), csvPrefix: '', csvUnit: '' }]),
  );
  for (const entry of byId.values()) {
    entry.csvPrefix = `${csvField(entry.s.topic)},${csvField(entry.field)},`;
    entry.csvUnit = csvField(entry.s.unit ?? '');
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const from = options.from ?? Number.MIN_SAFE_INTEGER;
    const to = options.to ?? Number.MAX_SAFE_INTEGER;
    const ids = series.map((s) => s.id);
    // One read transaction: the raw tier is read a page of blocks at a time, all from one snapshot.
    db.exec('BEGIN');
    const rows =
      tier === 'raw'
        ? rawInTimeOrder(new RawBlocks(db), ids, from, to)
        : db
            .prepare<unknown[], Row>(
              `SELECT series_id, t, n, lo, hi, sum, last FROM ${tier}
               WHERE series_id IN (${ids.map(() => '?').join(', ')}) AND t >= ? AND t <= ? ORDER BY t, series_id`,
            )
            .iterate(...ids, from, to);
    let chunk = '';
    for (const row of rows) {
      const entry = byId.get(row.series_id)!;
      const time = isoTime(row.t);
      if (csv) {
        const values =
          tier === 'raw' ? `${row.v}` : `${row.n},${row.lo},${row.hi},${row.sum! / row.n!},${row.last}`;
        chunk += `${time},${row.t},${entry.csvPrefix}${values},${entry.csvUnit}\r\n`;
      } else {
        const values =
          tier === 'raw'
            ? { value: row.v }
            : { n: row.n, min: row.lo, max: row.hi, avg: row.sum! / row.n!, last: row.last };
        const unit = entry.s.unit === undefined ? {} : { unit: entry.s.unit };
        chunk += `${JSON.stringify({ time, epochMs: row.t, topic: entry.s.topic, path: entry.s.path, ...values, ...unit })}\n`;
      }
      if (chunk.length >= chunkChars) {
        yield chunk;
        chunk = '';
        // Let the broker's sockets run between chunks even when the consumer never waits.
        await nextTurn();
      }
    }
    if (chunk) yield chunk;
  } finally {
    db.close();
  }
}

interface Cursor {
  id: number;
  blocks: Generator<Samples>;
  s: Samples;
  i: number;
}

/**
 * The raw samples of series `ids` in [from, to] in time order (then series id): each series' blocks
 * are in time order, so this merges one cursor per series, a block each in memory.
 */
function* rawInTimeOrder(raw: RawBlocks, ids: readonly number[], from: number, to: number): Generator<Row> {
  const cursors: Cursor[] = [];
  const advance = (c: Cursor): boolean => {
    for (let r = c.blocks.next(); !r.done; r = c.blocks.next()) {
      if (r.value.t.length === 0) continue;
      c.s = r.value;
      c.i = 0;
      return true;
    }
    return false;
  };
  for (const id of [...ids].sort((a, b) => a - b)) {
    const c: Cursor = { id, blocks: raw.samples(id, from, to), s: { t: [], v: [] }, i: 0 };
    if (advance(c)) cursors.push(c);
  }
  while (cursors.length > 0) {
    let k = 0;
    for (let j = 1; j < cursors.length; j++)
      if (cursors[j]!.s.t[cursors[j]!.i]! < cursors[k]!.s.t[cursors[k]!.i]!) k = j;
    const c = cursors[k]!;
    // With one series left, its block goes out whole.
    const end = cursors.length === 1 ? c.s.t.length : c.i + 1;
    for (; c.i < end; c.i++) yield { series_id: c.id, t: c.s.t[c.i]!, v: c.s.v[c.i]! };
    if (c.i >= c.s.t.length && !advance(c)) cursors.splice(k, 1);
  }
}

const DAY_MS = 86_400_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let cachedDay = Number.NaN;
let cachedDayText = '';

/**
 * `new Date(ms).toISOString()` for an integer epoch ms, a fifth of an export's time when called per row:
 * the date part is kept per day and the time of day is plain arithmetic.
 */
export function isoTime(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayText = new Date(day * DAY_MS).toISOString().slice(0, -13);
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${cachedDayText}${PAD2[h]}:${PAD2[m]}:${PAD2[s]}.${PAD3[rest - s * 1000]}Z`;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF; quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
