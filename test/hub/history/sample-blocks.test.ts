import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { exportRows } from '../../../src/hub/history/history-export.js';
import { HistoryRecorder } from '../../../src/hub/history/index.js';
import { cleanup, message, recorder, tempDir } from './helpers.js';
import { oldHistoryDb } from './old-schema.js';

afterEach(cleanup);

const T0 = Date.UTC(2025, 2, 3, 4, 5, 6, 7);

function readDb<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

async function text(gen: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of gen) out += chunk;
  return out;
}

describe('raw samples in blocks', () => {
  it('a commit writes one row per series with its samples; the samples come back exactly, in order', async () => {
    const rec = recorder();
    const values = [21.3, 0.30000000000000004, -1e-9, 123456789.125, 26.5];
    for (const [i, v] of values.entries()) rec.record(message('b/x', `{"t":${v},"h":${i}}`, T0 + i * 1000));
    await rec.flush();
    rec.record(message('b/x', '{"t":7,"h":9}', T0 + 60_000));
    await rec.flush();
    const rows = readDb(rec.file, (db) =>
      db
        .prepare<[], { path: string; t_first: number; span: number; count: number }>(
          `SELECT path, t_first, span, count FROM raw JOIN series ON series.id = series_id
           ORDER BY path, t_first`,
        )
        .all(),
    );
    expect(rows).toEqual([
      { path: '["h"]', t_first: T0, span: 4000, count: 5 },
      { path: '["h"]', t_first: T0 + 60_000, span: 0, count: 1 },
      { path: '["t"]', t_first: T0, span: 4000, count: 5 },
      { path: '["t"]', t_first: T0 + 60_000, span: 0, count: 1 },
    ]);
    const points = (await rec.query(
      { topic: 'b/x', path: ['t'] },
      { from: 0, to: T0 + DAY_MS, width: 100, tier: 'raw' },
    ))!.points;
    expect(points.map((p) => [p.t, p.avg])).toEqual([
      ...values.map((v, i) => [T0 + i * 1000, v]),
      [T0 + 60_000, 7],
    ]);
    // A range inside a block gives only its samples.
    const inner = (await rec.query(
      { topic: 'b/x', path: ['t'] },
      { from: T0 + 1000, to: T0 + 3000, width: 100, tier: 'raw' },
    ))!;
    expect(inner.points.map((p) => p.avg)).toEqual(values.slice(1, 4));
  });

  it('export merges several series across blocks in time order, then series id', async () => {
    const rec = recorder();
    const expected: [number, string, number][] = [];
    for (let commit = 0; commit < 3; commit++) {
      for (let i = 0; i < 4; i++) {
        const t = T0 + commit * 10_000 + i * 1000;
        rec.record(message('m/a', `{"x":${i},"y":${commit}}`, t));
        rec.record(message('m/b', String(10 - i), t + 500));
        expected.push([t, 'm/a', i], [t, 'm/a', commit], [t + 500, 'm/b', 10 - i]);
      }
      await rec.flush();
    }
    const series = await rec.listSeries();
    expect(series.length).toBe(3);
    const rows = (await text(exportRows(rec.file, series, { format: 'ndjson' })))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { epochMs: number; topic: string; value: number });
    expect(rows.map((r) => [r.epochMs, r.topic, r.value])).toEqual(expected);
    // Within a range that cuts blocks: only the samples inside it.
    const cut = (
      await text(exportRows(rec.file, series, { format: 'ndjson', from: T0 + 2500, to: T0 + 10_000 }))
    )
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { epochMs: number }).epochMs);
    expect(cut).toEqual([T0 + 2500, T0 + 3000, T0 + 3000, T0 + 3500, T0 + 10_000, T0 + 10_000]);
  });

  it('a slow board (one sample per commit) stays within 25 bytes a sample on disk', async () => {
    const rec = recorder();
    for (let commit = 0; commit < 40; commit++) {
      for (let board = 0; board < 100; board++)
        rec.record(
          message(
            `slow/board-${board}/temp`,
            `{"temp":${(20 + ((commit * 7 + board) % 90) / 10).toFixed(1)}}`,
            T0 + commit * 5000 + board * 37,
          ),
        );
      await rec.flush();
    }
    await rec.close();
    const bytes = readDb(
      rec.file,
      (db) =>
        db.prepare<[], { b: number }>("SELECT sum(pgsize) AS b FROM dbstat WHERE name = 'raw'").get()!.b,
    );
    const blocks = readDb(
      rec.file,
      (db) => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM raw').get()!.n,
    );
    expect(blocks).toBe(4000);
    expect(bytes / 4000).toBeLessThanOrEqual(25);
  });

  it('a history.db of schema 2 (a row per sample) is converted when opened: the same samples, exactly, in blocks', async () => {
    const dir = tempDir();
    const file = join(dir, 'history.db');
    const old = oldHistoryDb(
      dir,
      `
      CREATE TABLE message_blocks (id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, t_first INTEGER NOT NULL,
        t_last INTEGER NOT NULL, count INTEGER NOT NULL, bytes INTEGER NOT NULL, newest_bytes INTEGER NOT NULL,
        data BLOB NOT NULL);
      CREATE INDEX message_blocks_by_topic ON message_blocks (topic_id, id);
      INSERT INTO series (id, topic, path, unit) VALUES (1, 'old/a', '["t"]', '°C'), (2, 'old/b', '[]', NULL);
      PRAGMA user_version = 2;
    `,
    );
    const insert = old.prepare('INSERT INTO raw (series_id, t, v) VALUES (?, ?, ?)');
    const a: [number, number][] = [];
    old.transaction(() => {
      for (let i = 0; i < 2500; i++) {
        const row: [number, number] = [T0 + i * 5000, i % 3 === 0 ? i / 7 : (i % 250) / 10];
        a.push(row);
        insert.run(1, ...row);
      }
      insert.run(2, T0, -0.5);
    })();
    old.close();

    const rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    try {
      expect(rec.movedAside).toBeUndefined();
      const all = (await rec.query(
        { topic: 'old/a', path: ['t'] },
        { from: 0, to: T0 + DAY_MS, width: 5000, tier: 'raw' },
      ))!;
      expect(all.points.map((p) => [p.t, p.avg])).toEqual(a);
      const csv = await text(rec.export({ topic: 'old/a', path: ['t'] }, { format: 'csv' }));
      expect(csv.trimEnd().split('\r\n').length).toBe(2501);
      expect(
        (await rec.query({ topic: 'old/b', path: [] }, { from: 0, to: T0 + DAY_MS, width: 10, tier: 'raw' }))!
          .points,
      ).toEqual([{ t: T0, n: 1, min: -0.5, max: -0.5, avg: -0.5 }]);
      // New samples go on after the old ones.
      rec.record(message('old/a', '{"t":1}', T0 + 2500 * 5000));
      await rec.flush();
      expect(rec.stats().samples).toBe(1);
    } finally {
      await rec.close();
    }
    readDb(file, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(3);
      expect(
        db.prepare<[], { count: number }>('SELECT count FROM raw WHERE series_id = 1 ORDER BY t_first').all(),
      ).toEqual([{ count: 1024 }, { count: 1024 }, { count: 452 }, { count: 1 }]);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'raw_rows'").all()).toEqual([]);
    });
  });
});

const DAY_MS = 86_400_000;
