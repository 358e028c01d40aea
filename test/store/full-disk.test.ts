import { mkdirSync, statfsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, MothershipError } from '../../src/errors.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/index.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import { delivery, durable, sessionRecord } from './helpers.js';

// A real full disk: a 512 KiB tmpfs mounted for this file (needs root / CAP_SYS_ADMIN).
const disk = mountTmpfs('512k', 'store-full-disk');
const { mountPoint } = disk;
const mounted = disk.problem === undefined;
const mountError = disk.problem ?? '';

let store: SqliteStore | undefined;

afterAll(() => {
  try {
    store?.close();
  } catch {
    // closing is best effort here; the assertions already ran
  }
  disk.unmount();
});

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

    const filler = disk.fill();
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
    expect(store.failing).toBe(true);

    // Still full: still refused.
    expect(store.enqueue('c', delivery('t/small', 'while full'))).toBe(3);
    const stillFull = await durable(store);
    expect((stillFull as MothershipError | undefined)?.code).toBe(ErrorCodes.STORE_FULL);

    // Space returns: the retry (every second) commits the writes that failed before, in order.
    unlinkSync(filler);
    await new Promise<void>((resolve) => store!.whenCommitted(resolve));
    expect(store.failing).toBe(false);
    expect(store.enqueue('c', delivery('t/small', 'after'))).toBe(4);
    expect(await durable(store)).toBeUndefined();
    expect(store.stats().pendingOps).toBe(0);
    // One report per episode, however many retries failed.
    expect(errors).toHaveLength(1);
    expect(store.stats().failureEpisodes).toBe(1);

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
