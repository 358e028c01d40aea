import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { DamagedError, isDamaged } from './errors.js';
import { latestVersion, migrate, migrations, NewerSchemaError, schemaVersion } from './migrations.js';
import { DB_FILE_NAME, DEFAULT_RECOVER_HINT, type SqliteStoreOptions } from './options.js';
import { prepareStatements } from './statements.js';
import { SqliteStore } from './store.js';

/**
 * Opens (creating if needed) `<dir>/mothership.db`, migrates it to the current schema and returns the
 * store. Throws MothershipError STORE_CORRUPT when the file is damaged or cannot be read, STORE_TOO_NEW
 * when a newer Mothership wrote it.
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const file = join(options.dir, DB_FILE_NAME);
  try {
    makeDirectory(options.dir);
  } catch (cause) {
    throw new MothershipError(
      ErrorCodes.STORE_CORRUPT,
      `Cannot create the data directory ${options.dir} for ${file}: ${(cause as Error).message}. ` +
        'Check that the path is a writable directory, or choose another data directory.',
      { cause },
    );
  }
  try {
    return new SqliteStore(openChecked(file, options), file, options, undefined);
  } catch (cause) {
    if (cause instanceof NewerSchemaError) {
      throw new MothershipError(
        ErrorCodes.STORE_TOO_NEW,
        `${file} was written by a newer Mothership (schema version ${cause.found}; this version knows up to ` +
          `${cause.supported}). Upgrade Mothership, or use another data directory. The file was not changed.`,
        { cause },
      );
    }
    const damaged = isDamaged(cause);
    if (damaged && options.onCorrupt === 'move-aside') {
      const movedTo = moveAside(file);
      return new SqliteStore(openChecked(file, options), file, options, movedTo);
    }
    throw new MothershipError(ErrorCodes.STORE_CORRUPT, corruptMessage(file, cause, damaged, options), {
      cause,
    });
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync spins forever on a path it can never create
 * (e.g. under /proc), where this fails at the first level that cannot be made.
 */
function makeDirectory(dir: string): void {
  const path = resolve(dir);
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new Error(`${path} exists and is not a directory`);
    return;
  }
  const parent = dirname(path);
  if (parent !== path) makeDirectory(parent);
  mkdirSync(path);
}

/**
 * Looks at an existing file without writing to it: closing a read-write connection can checkpoint the
 * WAL into the main file and delete the -wal and -shm, which must not happen to a damaged database.
 */
function probe(file: string, options: SqliteStoreOptions): void {
  const wal = fileSize(`${file}-wal`);
  if (!existsSync(file)) {
    // SQLite would start a new database and could fold someone else's log into it, or drop it.
    if (wal > 0)
      throw new DamagedError(`the file is missing but ${basename(file)}-wal beside it holds ${wal} bytes`);
    return;
  }
  const size = statSync(file).size;
  // SQLite would treat an empty file as a new database and delete a -wal beside it: refuse instead.
  // (Mothership never leaves an empty file itself: a new database is made under another name first.)
  if (size === 0)
    throw new DamagedError(
      wal > 0 ? `the file is empty (0 bytes) but its -wal holds ${wal} bytes` : 'the file is empty (0 bytes)',
    );
  const header = Buffer.alloc(16);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || !header.equals(SQLITE_MAGIC))
    throw new DamagedError('not an SQLite database: bad file header');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const version = schemaVersion(db);
    const known = latestVersion(options.migrations ?? migrations);
    if (version > known) throw new NewerSchemaError(version, known);
    if (options.integrityCheck !== false) {
      const result = db.pragma('quick_check', { simple: true });
      if (result !== 'ok') throw new DamagedError(`integrity check failed: ${String(result)}`);
    }
  } finally {
    db.close();
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * A new database is made complete under a temporary name and renamed into place, so a crash while
 * creating it never leaves the empty file that probe() refuses.
 */
function createDatabase(file: string, options: SqliteStoreOptions): void {
  const fresh = `${file}.creating`;
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(fresh + suffix, { force: true });
  const db = new Database(fresh);
  try {
    db.pragma('journal_mode = WAL');
    migrate(db, options.migrations ?? migrations);
  } finally {
    db.close(); // checkpoints and removes the -wal
  }
  renameSync(fresh, file);
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function openChecked(file: string, options: SqliteStoreOptions): Database.Database {
  probe(file, options);
  if (!existsSync(file)) createDatabase(file, options);
  const db = new Database(file, { fileMustExist: true });
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`cannot switch ${file} to WAL mode (got ${String(mode)})`);
    db.pragma(`synchronous = ${options.policy.mode === 'periodic' ? 'NORMAL' : 'FULL'}`);
    migrate(db, options.migrations ?? migrations);
    try {
      prepareStatements(db);
    } catch (err) {
      throw new DamagedError(`tables do not match the schema: ${(err as Error).message}`);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function corruptMessage(file: string, cause: unknown, damaged: boolean, options: SqliteStoreOptions): string {
  const reason = (cause as Error).message;
  if (!damaged) {
    return (
      `Cannot open the database ${file}: ${reason}. Check that the file and its directory are readable and ` +
      `writable by this user and the disk is healthy, then start again. The file was not changed. [${ErrorCodes.STORE_CORRUPT}]`
    );
  }
  return (
    `The database ${file} is damaged (${reason}); it was not changed. ` +
    `${options.recoverHint ?? DEFAULT_RECOVER_HINT} [${ErrorCodes.STORE_CORRUPT}]`
  );
}

function moveAside(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let target = `${file}.corrupt-${stamp}`;
  for (let n = 1; existsSync(target); n++) target = `${file}.corrupt-${stamp}-${n}`;
  if (existsSync(file)) renameSync(file, target);
  for (const suffix of ['-wal', '-shm', '-journal']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  }
  return target;
}
