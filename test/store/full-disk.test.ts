import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmdirSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, MothershipError } from '../../src/errors.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/index.js';
import { delivery, durable, sessionRecord } from './helpers.js';

// A real full disk: a 512 KiB tmpfs mounted for this file (needs root / CAP_SYS_ADMIN).
const mountPoint = mkdtempSync(join(tmpdir(), 'ms-full-'));
let mounted = false;
let mountError = '';
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint], {
    stdio: 'pipe',
    timeout: 5000,
  });
  mounted = true;
} catch (err) {
  mountError = ((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message)
    .trim()
    .split('\n')[0]!;
  console.warn(`full-disk store test SKIPPED: cannot mount a tmpfs at ${mountPoint}: ${mountError}`);
}

let store: SqliteStore | undefined;

afterAll(() => {
  try {
    store?.close();
  } catch {
    // closing is best effort here; the assertions already ran
  }
  if (mounted) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe', timeout: 5000 });
    } catch {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe', timeout: 5000 });
    }
  }
  rmdirSync(mountPoint);
});

/** Fills the filesystem with one file until ENOSPC; returns its path. Bounded by the fs size. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunks = [64 * 1024, 4096, 512, 1];
  try {
    for (const size of chunks) {
      const buf = Buffer.alloc(size, 0x5a);
      for (let i = 0; i < 10_000; i++) {
        try {
          writeSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

describe.skipIf(!mounted)('full disk (512 KiB tmpfs)', () => {
  it('a commit that hits ENOSPC fails its afterDurable callbacks with STORE_FULL; writes resume once space returns', async () => {
    const dir = join(mountPoint, 'data');
    mkdirSync(dir);
    const errors: MothershipError[] = [];
    store = openSqliteStore({
      dir,
      policy: { mode: 'grouped', maxDelayMs: 2 },
      onError: (e) => errors.push(e),
    });
    store.saveSession(sessionRecord('c'));
    expect(store.enqueue('c', delivery('t/small', 'before'))).toBe(1);
    expect(await durable(store)).toBeUndefined();

    const filler = fill(mountPoint);
    expect(statfsSync(mountPoint).bavail).toBe(0);

    // 100 KiB needs new WAL pages: there is no room for them.
    const big = Buffer.alloc(100 * 1024, 0xab);
    expect(store.enqueue('c', delivery('t/big', big))).toBe(2);
    const results = await Promise.all([durable(store), durable(store), durable(store)]);
    for (const err of results) {
      expect(err).toBeInstanceOf(MothershipError);
      expect((err as MothershipError).code).toBe(ErrorCodes.STORE_FULL);
      expect((err as Error).message).toContain(join(dir, 'mothership.db'));
    }
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]!.code).toBe(ErrorCodes.STORE_FULL);
    expect(errors[0]!.message).toMatch(/SQLITE_FULL|SQLITE_IOERR/);
    console.log(`full disk reported as: ${errors[0]!.message}`);
    expect(store.stats().failedTransactions).toBeGreaterThanOrEqual(1);
    expect(store.stats().pendingOps).toBe(1); // kept, to be retried

    // Still full: still refused.
    expect(store.enqueue('c', delivery('t/small', 'while full'))).toBe(3);
    const stillFull = await durable(store);
    expect((stillFull as MothershipError | undefined)?.code).toBe(ErrorCodes.STORE_FULL);

    // Space returns: the next batch commits, including the writes that failed before.
    unlinkSync(filler);
    expect(store.enqueue('c', delivery('t/small', 'after'))).toBe(4);
    expect(await durable(store)).toBeUndefined();
    expect(store.stats().pendingOps).toBe(0);

    store.close();
    store = openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 2 } });
    const queued = store.load().sessions[0]!.queued;
    expect(queued.map((q) => q.seq)).toEqual([1, 2, 3, 4]);
    expect(queued[1]!.delivery.message.payload.equals(big)).toBe(true);
    expect(queued.map((q) => q.delivery.message.payload.length)).toEqual([6, big.length, 10, 5]);
    store.close();
    store = undefined;
  }, 30_000);
});

if (!mounted) it.skip(`full disk test SKIPPED: cannot mount a 512k tmpfs (${mountError})`, () => {});
