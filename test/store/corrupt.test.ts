import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, MothershipError } from '../../src/errors.js';
import { openSqliteStore } from '../../src/store/index.js';
import { cleanupTempDirs, durable, message, sessionRecord, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const grouped = { mode: 'grouped', maxDelayMs: 2 } as const;

function openError(options: Parameters<typeof openSqliteStore>[0]): MothershipError {
  try {
    openSqliteStore(options).close();
  } catch (err) {
    expect(err).toBeInstanceOf(MothershipError);
    return err as MothershipError;
  }
  throw new Error('expected openSqliteStore to throw');
}

const GARBAGE = Buffer.concat([
  Buffer.from('this is not a database, it is a shopping list\n'),
  Buffer.alloc(8192, 0xa5),
]);

describe('damaged or unreadable database at open', () => {
  it('garbage in mothership.db: STORE_CORRUPT naming the file and how to recover; file left alone', () => {
    const dir = tempDir();
    const file = join(dir, 'mothership.db');
    writeFileSync(file, GARBAGE);
    writeFileSync(`${file}-wal`, 'junk wal');
    writeFileSync(`${file}-shm`, 'junk shm');
    const err = openError({ dir, policy: grouped });
    expect(err.code).toBe(ErrorCodes.STORE_CORRUPT);
    expect(err.message).toContain(file);
    expect(err.message).toContain(
      `The database ${file} is damaged (not an SQLite database: bad file header)`,
    );
    expect(err.message).toContain("Open it with onCorrupt: 'move-aside' to move it aside");
    expect(err.message).toMatch(/\[MS_STORE_CORRUPT\]$/);
    expect(readFileSync(file).equals(GARBAGE)).toBe(true);
    // SQLite deletes -wal/-shm when a read-write connection closes; they must survive a refused open.
    expect(readFileSync(`${file}-wal`, 'utf8')).toBe('junk wal');
    expect(readFileSync(`${file}-shm`, 'utf8')).toBe('junk shm');
    expect(readdirSync(dir).sort()).toEqual(['mothership.db', 'mothership.db-shm', 'mothership.db-wal']);
  });

  it("onCorrupt: 'move-aside' renames the file with its -wal/-shm and opens a fresh database", async () => {
    const dir = tempDir();
    const file = join(dir, 'mothership.db');
    writeFileSync(file, GARBAGE);
    writeFileSync(`${file}-wal`, 'junk wal');
    writeFileSync(`${file}-shm`, 'junk shm');
    const store = openSqliteStore({ dir, policy: grouped, onCorrupt: 'move-aside' });
    expect(store.movedAside).toMatch(/mothership\.db\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    const moved = store.movedAside!;
    expect(readFileSync(moved).equals(GARBAGE)).toBe(true);
    expect(readFileSync(`${moved}-wal`, 'utf8')).toBe('junk wal');
    expect(readFileSync(`${moved}-shm`, 'utf8')).toBe('junk shm');
    // The fresh database works.
    store.saveRetained(message('a/b', 'c', { retain: true }));
    expect(await durable(store)).toBeUndefined();
    expect(store.load().retained).toHaveLength(1);
    store.close();
    const names = readdirSync(dir).sort();
    expect(names.filter((n) => n.includes('.corrupt-'))).toHaveLength(3);
    expect(names).toContain('mothership.db');
  });

  it('corrupt pages inside a real database are found by the integrity check', async () => {
    const dir = tempDir();
    const file = join(dir, 'mothership.db');
    const store = openSqliteStore({ dir, policy: grouped });
    store.saveSession(sessionRecord('c'));
    for (let i = 0; i < 400; i++)
      store.saveRetained(message(`sensor/${i}`, Buffer.alloc(300, i), { retain: true }));
    expect(await durable(store)).toBeUndefined();
    store.close();
    // Scribble over the middle of the file, where the retained table's b-tree pages are.
    const size = readFileSync(file).length;
    expect(size).toBeGreaterThan(16 * 4096);
    const fd = openSync(file, 'r+');
    for (let page = 3; page < Math.floor(size / 4096); page += 2)
      writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, page * 4096);
    closeSync(fd);
    const before = readFileSync(file);
    const err = openError({ dir, policy: grouped });
    expect(err.code).toBe(ErrorCodes.STORE_CORRUPT);
    expect(err.message).toContain(file);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('an unreadable database (a directory where the file should be) is STORE_CORRUPT and never moved', () => {
    const dir = tempDir();
    const file = join(dir, 'mothership.db');
    mkdirSync(file);
    const err = openError({ dir, policy: grouped, onCorrupt: 'move-aside' });
    expect(err.code).toBe(ErrorCodes.STORE_CORRUPT);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/Cannot open/);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(dir)).toEqual(['mothership.db']);
  });

  it("the recovery hint is the caller's: `mothership up` names --recover", () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mothership.db'), GARBAGE);
    const err = openError({ dir, policy: grouped, recoverHint: 'Start with --recover to move it aside.' });
    expect(err.message).toMatch(
      /; it was not changed\. Start with --recover to move it aside\. \[MS_STORE_CORRUPT\]$/,
    );
    expect(err.message).not.toContain('onCorrupt');
  });

  it('a 0-byte mothership.db is refused, not opened as a new empty database (issue 8, hole 6)', () => {
    const dir = tempDir();
    const file = join(dir, 'mothership.db');
    writeFileSync(file, '');
    const err = openError({ dir, policy: grouped });
    expect(err.code).toBe(ErrorCodes.STORE_CORRUPT);
    expect(err.message).toContain(`The database ${file} is damaged (the file is empty (0 bytes))`);
    expect(readFileSync(file).length).toBe(0);
    expect(readdirSync(dir)).toEqual(['mothership.db']);
  });

  it('a 0-byte mothership.db with a -wal holding data: refused, the -wal kept byte for byte; move-aside moves both', async () => {
    const dir = tempDir();
    const file = join(dir, 'mothership.db');
    // A real -wal with committed data in it, beside a main file that lost its contents.
    const store = openSqliteStore({ dir, policy: grouped });
    store.saveRetained(message('kept/t', 'in the wal'));
    await durable(store);
    const wal = readFileSync(`${file}-wal`);
    store.close();
    expect(wal.length).toBeGreaterThan(0);
    writeFileSync(file, '');
    writeFileSync(`${file}-wal`, wal);

    const err = openError({ dir, policy: grouped });
    expect(err.code).toBe(ErrorCodes.STORE_CORRUPT);
    expect(err.message).toContain(`(the file is empty (0 bytes) but its -wal holds ${wal.length} bytes)`);
    expect(readFileSync(`${file}-wal`).equals(wal)).toBe(true);

    const fresh = openSqliteStore({ dir, policy: grouped, onCorrupt: 'move-aside' });
    expect(fresh.load().retained).toEqual([]);
    fresh.close();
    const moved = fresh.movedAside!;
    expect(readFileSync(moved).length).toBe(0);
    expect(readFileSync(`${moved}-wal`).equals(wal)).toBe(true);
  });

  it('a -wal holding data without its mothership.db is refused too', () => {
    const dir = tempDir();
    const file = join(dir, 'mothership.db');
    writeFileSync(`${file}-wal`, Buffer.alloc(4096, 1));
    const err = openError({ dir, policy: grouped });
    expect(err.message).toContain(`(the file is missing but mothership.db-wal beside it holds 4096 bytes)`);
    expect(existsSync(file)).toBe(false);
  });

  it("a data directory under /proc is one error at once (Node's recursive mkdir would spin forever)", () => {
    const err = openError({ dir: '/proc/nope/data', policy: grouped });
    expect(err.code).toBe(ErrorCodes.STORE_CORRUPT);
    expect(err.message).toContain('Cannot create the data directory /proc/nope/data');
  });

  it('a data directory that cannot be created is STORE_CORRUPT naming it', () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'plainfile'), 'x');
    const dir = join(parent, 'plainfile', 'data');
    const err = openError({ dir, policy: grouped });
    expect(err.code).toBe(ErrorCodes.STORE_CORRUPT);
    expect(err.message).toContain(dir);
  });
});
