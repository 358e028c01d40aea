import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../../src/hub/history/index.js';
import { cleanup, message, tempDir, until } from './helpers.js';

afterEach(cleanup);

const here = dirname(fileURLToPath(import.meta.url));

function journalRows(dir: string): number {
  const db = new Database(join(dir, 'history.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM raw_journal').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Runs the child until it reports `commits` commits, then SIGKILLs it; resolves with what it reported committed. */
function runUntilCommits(dir: string, commits: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'journal-crash-child.ts'), dir], {
      cwd: join(here, '..', '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000); // never hang the suite
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.split('\n').filter((l) => l.startsWith('committed ')).length >= commits) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      const committed = out
        .split('\n')
        .filter((l) => l.startsWith('committed '))
        .map((l) => Number(l.slice(10)));
      if (signal !== 'SIGKILL' || committed.length === 0)
        reject(new Error(`the child ended by ${signal} after ${committed.length} commits; stderr:\n${err}`));
      else resolve(Math.max(...committed));
    });
  });
}

describe('samples committed between folds', () => {
  it('are seen by the next query: it folds the journal first', async () => {
    const dir = tempDir();
    const rec = new HistoryRecorder({ dir, commitIntervalMs: 50 });
    try {
      const t0 = Date.now();
      const record = (from: number, to: number) => {
        for (let k = from; k < to; k++) rec.record(message('q/0', `{"k":${k}}`, t0 + k));
      };
      record(0, 10);
      // Committed by the timer: the first tick folds (a retention sweep is due at start), later ones journal.
      await until(() => rec.stats().pending === 0 && rec.stats().commits >= 1, 'a timed commit');
      record(10, 20);
      await until(() => rec.stats().pending === 0 && journalRows(dir) > 0, 'a journal row');
      const series = await rec.query(
        { topic: 'q/0', path: ['k'] },
        { from: 0, to: 4e12, width: 1e7, tier: 'raw' },
      );
      expect(series?.points.map((p) => p.avg)).toEqual(Array.from({ length: 20 }, (_, k) => k));
      expect(journalRows(dir)).toBe(0);
    } finally {
      await rec.close();
    }
  }, 60_000);

  it('wait in the journal, and a kill -9 loses none of them: they are folded when the history opens again', async () => {
    const dir = tempDir();
    const committed = await runUntilCommits(dir, 8);
    const raw = new Database(join(dir, 'history.db'), { readonly: true });
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      raw.close();
    }
    // The kill came between folds: what the last commits recorded is only in the journal.
    expect(journalRows(dir)).toBeGreaterThan(0);
    const rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    try {
      let present = 0;
      const perSeries: number[] = [];
      for (const s of [0, 1]) {
        const series = await rec.query(
          { topic: `j/${s}`, path: ['k'] },
          { from: 0, to: 4e12, width: 1e7, tier: 'raw' },
        );
        const values = series?.points.map((p) => p.avg) ?? [];
        // A prefix of what was recorded, k = s, s+2, s+4, ...: nothing missing, nothing twice.
        expect(values).toEqual(values.map((_, i) => s + 2 * i));
        present += values.length;
        perSeries.push(values.length);
      }
      expect(present).toBeGreaterThanOrEqual(committed);
      // Folded at open: the rollups count every raw sample once (none lost, none twice).
      const minute = await rec.query(
        { topic: 'j/0', path: ['k'] },
        { from: 0, to: 4e12, width: 1e7, tier: 'minute' },
      );
      expect(minute?.points.reduce((n, p) => n + p.n, 0)).toBe(perSeries[0]);
    } finally {
      await rec.close();
    }
    expect(journalRows(dir)).toBe(0);
  }, 90_000);

  it('a damaged journal row is left out and said, and the history goes on recording', async () => {
    const dir = tempDir();
    let rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    rec.record(message('d/0', '{"k":1}', Date.now()));
    await rec.close();
    const db = new Database(join(dir, 'history.db'));
    // A number whose last byte never comes: what a damaged disk could leave.
    db.prepare('INSERT INTO raw_journal (data) VALUES (?)').run(Buffer.from([0x81]));
    db.close();
    const errors: string[] = [];
    rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9, onError: (e) => errors.push(e.message) });
    try {
      rec.record(message('d/0', '{"k":2}', Date.now() + 1000));
      const series = await rec.query(
        { topic: 'd/0', path: ['k'] },
        { from: 0, to: 4e12, width: 1e7, tier: 'raw' },
      );
      expect(series?.points.map((p) => p.avg)).toEqual([1, 2]);
      expect(errors).toEqual([expect.stringMatching(/1 damaged row\(s\) of the history's sample journal/)]);
      expect(journalRows(dir)).toBe(0);
    } finally {
      await rec.close();
    }
  }, 60_000);
});
