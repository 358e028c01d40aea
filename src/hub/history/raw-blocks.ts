import type Database from 'better-sqlite3';
import { decodeSamples, type Samples } from './sample-block.js';

/** Blocks read per statement: no statement stays open between pages (an export yields in between). */
const PAGE_BLOCKS = 256;

interface BlockRow {
  t_first: number;
  count: number;
  data: Buffer;
}

/**
 * Reads raw samples from their blocks (sample-block.ts). A series' blocks never overlap in time, so
 * the samples in [from, to] are in the last block starting at or before `from` and the blocks starting
 * after it up to `to`: one index range, no scan from the series' start.
 */
export class RawBlocks {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      start: db.prepare<[number, number], { t: number }>(
        'SELECT t_first AS t FROM raw WHERE series_id = ? AND t_first <= ? ORDER BY t_first DESC LIMIT 1',
      ),
      page: db.prepare<[number, number, number, number], BlockRow>(
        `SELECT t_first, count, data FROM raw WHERE series_id = ? AND t_first > ? AND t_first <= ?
         ORDER BY t_first LIMIT ?`,
      ),
    };
  }

  /** The samples of series `id` in [from, to] (epoch ms, inclusive), oldest first, a block at a time. */
  *samples(id: number, from: number, to: number): Generator<Samples> {
    let after = (this.s.start.get(id, from)?.t ?? from) - 1;
    for (;;) {
      const rows = this.s.page.all(id, after, to, PAGE_BLOCKS);
      for (const row of rows) {
        const s = decodeSamples(row.data, row.t_first, row.count);
        yield s.t[0]! >= from && s.t.at(-1)! <= to ? s : clip(s, from, to);
      }
      if (rows.length < PAGE_BLOCKS) return;
      after = rows.at(-1)!.t_first;
    }
  }
}

/** The samples of `s` in [from, to]: a block at the edge of a range. */
function clip(s: Samples, from: number, to: number): Samples {
  let a = 0;
  while (a < s.t.length && s.t[a]! < from) a++;
  let b = s.t.length;
  while (b > a && s.t[b - 1]! > to) b--;
  return { t: s.t.slice(a, b), v: s.v.slice(a, b) };
}
