import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../../src/hub/history/index.js';
import { cleanup, tempDir } from './helpers.js';

afterEach(cleanup);

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const MESSAGES = 10_000_000; // far more than the child gets through before it is killed

/** Starts the child and SIGKILLs it `delayMs` after its first commit; resolves with what it reported. */
function runAndKill(
  dir: string,
  delayMs: number,
): Promise<{ committed: number; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'crash-child.ts'), dir, String(MESSAGES)],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let killTimer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 40_000); // never hang the suite
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!killTimer && out.includes('committed '))
        killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (killTimer) clearTimeout(killTimer);
      const committed = out
        .split('\n')
        .filter((l) => l.startsWith('committed '))
        .map((l) => Number(l.slice(10)));
      if (committed.length === 0) reject(new Error(`the child committed nothing; stderr:\n${err}`));
      else resolve({ committed: Math.max(...committed), signal, stderr: err });
    });
  });
}

describe('the history database across kill -9', () => {
  for (const i of [0, 1, 2]) {
    it(`#${i}: the file is intact, and every message committed before the kill is there, in order, without gaps`, async () => {
      const dir = tempDir();
      const delayMs = Math.floor(Math.random() * 2500); // lands before, during or after later commits
      const run = await runAndKill(dir, delayMs);
      expect(run.signal, run.stderr).toBe('SIGKILL');
      const raw = new Database(join(dir, 'history.db'));
      try {
        expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        raw.close();
      }
      const rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
      try {
        expect(rec.movedAside).toBeUndefined();
        let present = 0;
        for (let s = 0; s < 4; s++) {
          const ks = (await rec.messages(`crash/${s}`, 1))[0];
          expect(ks).toBeDefined();
          const series = (await rec.query(
            { topic: `crash/${s}`, path: ['k'] },
            { from: 0, to: 4e12, width: 1e7, tier: 'raw' },
          ))!;
          const values = series.points.map((p) => p.avg);
          // A prefix of what was recorded: k = s, s+4, s+8, ... with nothing missing.
          expect(values).toEqual(values.map((_, idx) => s + 4 * idx));
          present += values.length;
        }
        expect(present).toBeGreaterThanOrEqual(run.committed);
        console.log(
          `killed ${delayMs} ms after the first commit: ${run.committed} reported committed, ${present} present`,
        );
      } finally {
        await rec.close();
      }
    }, 60_000);
  }
});
