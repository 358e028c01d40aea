import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ITEMS = 1_000_000; // far more than a child gets through before it is killed

interface Run {
  maxDurable: number;
  durableLines: number;
  finished: boolean;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/** Starts the writer, kills it with SIGKILL `delayMs` after its first durable item. */
function runAndKill(dir: string, mode: string, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'crash-child.ts'), dir, mode, String(ITEMS)],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let killTimer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000); // never hang the suite
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!killTimer && out.includes('durable '))
        killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (killTimer) clearTimeout(killTimer);
      const lines = out.split('\n');
      const durable = lines.filter((l) => l.startsWith('durable ')).map((l) => Number(l.slice(8)));
      if (durable.length === 0) {
        reject(new Error(`child reported nothing durable (signal ${signal}); stderr:\n${err}`));
        return;
      }
      resolve({
        maxDurable: Math.max(...durable),
        durableLines: durable.length,
        finished: lines.includes('all'),
        signal,
        code,
        stderr: err,
      });
    });
  });
}

describe('durability across a real crash (SIGKILL at a random moment)', () => {
  const plan: [string, number][] = [
    ['grouped', 0],
    ['grouped', 1],
    ['grouped', 2],
    ['every-message', 3],
    ['every-message', 4],
  ];
  for (const [mode, i] of plan) {
    it(`${mode} #${i}: every item reported durable is there after the kill, in order, without gaps`, async () => {
      const dir = tempDir('ms-crash-');
      const delayMs = Math.floor(Math.random() * 400);
      const run = await runAndKill(dir, mode, delayMs);
      expect(run.signal, `child exited with code ${run.code}: ${run.stderr}`).toBe('SIGKILL');
      expect(run.finished).toBe(false);
      const store = openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 2 } });
      const { sessions, retained } = store.load();
      store.close();
      const queued = sessions.find((s) => s.record.clientId === 'crash')?.queued ?? [];
      // Commits happen in call order, so what survived is a prefix 0..n-1 of what was written...
      queued.forEach((q, k) => {
        expect(q.seq).toBe(k + 1);
        expect(q.delivery.message.topic).toBe(`item/${k}`);
        expect(q.delivery.message.payload.subarray(0, `item-${k};`.length).toString()).toBe(`item-${k};`);
        expect(q.delivery.message.payload.length).toBe(64 + (k % 200));
      });
      // ...that includes everything the child was told is durable.
      expect(queued.length).toBeGreaterThan(run.maxDurable);
      // The retained topic of the last durable multiple of 10 holds that item or a later one written to
      // the same topic (committed, just not reported before the kill).
      const lastRetainedK = Math.floor(run.maxDurable / 10) * 10;
      const last = retained.find((m) => m.topic === `last/${lastRetainedK % 50}`);
      const kept = Number(/^item-(\d+);/.exec(last?.payload.toString('latin1') ?? '')?.[1]);
      expect(kept).toBeGreaterThanOrEqual(lastRetainedK);
      expect(kept % 50).toBe(lastRetainedK % 50);
      expect(kept).toBeLessThan(queued.length);
      console.log(
        `${mode}: killed ${delayMs} ms after the first durable item; ${run.durableLines} reported durable ` +
          `(max ${run.maxDurable}), ${queued.length} present after reopening`,
      );
    }, 30_000);
  }
  it('negative control: a store that acknowledges before writing (periodic, hourly) loses acknowledged items', async () => {
    const dir = tempDir('ms-crash-');
    const run = await runAndKill(dir, 'periodic', 100 + Math.floor(Math.random() * 200));
    expect(run.signal).toBe('SIGKILL');
    const store = openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 2 } });
    const queued = store.load().sessions.find((s) => s.record.clientId === 'crash')?.queued ?? [];
    store.close();
    // The harness detects the loss: fewer items present than were reported durable.
    expect(queued.length).toBeLessThanOrEqual(run.maxDurable);
  }, 30_000);
});
