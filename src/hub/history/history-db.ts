import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { isDamaged } from '../../store/sqlite/errors.js';
import { type BlockMessage, encodeBlock } from './message-block.js';
import { encodeSamples, MAX_BLOCK_SAMPLES, type SampleColumns } from './sample-block.js';

/**
 * The history's own SQLite file (`<data>/history.db`): a broken or full history never touches the
 * broker's durable state in mothership.db.
 *
 * Schema 2: the message log keeps one row per topic and commit (a block of messages, message-block.ts)
 * instead of a row per message. Schema 3: raw samples too, one row per series and commit (a block of
 * samples, sample-block.ts) instead of a row per sample. Older files are converted when opened.
 */
const SCHEMA_VERSION = 3;

/**
 * Raw samples: one row per series and commit, WITHOUT ROWID keyed (series, first sample's time), so a
 * range of one series is one contiguous scan. A block of one sample (a slow board) stores its span and
 * count as SQLite's zero-byte 0 and 1, and its value in `data` in 2-3 bytes for a reading like 21.3.
 */
const RAW_BLOCKS = `
  CREATE TABLE raw (
    series_id INTEGER NOT NULL,
    t_first INTEGER NOT NULL,    -- its oldest sample's time, epoch ms
    span INTEGER NOT NULL,       -- its newest sample's time - t_first
    count INTEGER NOT NULL,      -- samples in it
    data BLOB NOT NULL,          -- the samples (sample-block.ts)
    PRIMARY KEY (series_id, t_first)
  ) WITHOUT ROWID;`;

/** The message log: one row per topic and commit, its messages in `data` (message-block.ts). */
const MESSAGE_BLOCKS = `
  CREATE TABLE message_blocks (
    id INTEGER PRIMARY KEY,      -- increases with time: the oldest block has the smallest id
    topic_id INTEGER NOT NULL,
    t_first INTEGER NOT NULL,    -- its oldest message's time, epoch ms
    t_last INTEGER NOT NULL,     -- its newest message's time
    count INTEGER NOT NULL,      -- messages in it
    bytes INTEGER NOT NULL,      -- their payload bytes as kept
    newest_bytes INTEGER NOT NULL, -- the newest message's payload bytes as kept
    data BLOB NOT NULL
  );
  CREATE INDEX message_blocks_by_topic ON message_blocks (topic_id, id);`;

/** A rollup tier: one row per series and period (`t` is the period's start, epoch ms). */
function rollupTable(name: string): string {
  return `CREATE TABLE ${name} (
    series_id INTEGER NOT NULL,
    t INTEGER NOT NULL,
    n INTEGER NOT NULL,
    lo REAL NOT NULL,
    hi REAL NOT NULL,
    sum REAL NOT NULL,
    last REAL NOT NULL,
    PRIMARY KEY (series_id, t)
  ) WITHOUT ROWID;`;
}

const SCHEMA = `
  CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    path TEXT NOT NULL,          -- JSON array of keys and indexes: ["a.b", 0]
    unit TEXT,
    UNIQUE (topic, path)
  );
  ${RAW_BLOCKS}
  ${rollupTable('minute')}
  ${rollupTable('hour')}
  CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL UNIQUE
  );
  ${MESSAGE_BLOCKS}
`;

/**
 * Added after schema 1 shipped, so without a version bump (an older Mothership ignores them): where the
 * size cap's pruning had got to, per tier, so that it goes on after a restart; the device registry's
 * last disconnects per client, so that they survive one; and the raw samples' journal, whose rows
 * exist only between a crash and the next open (an older Mothership would miss those last seconds).
 */
const ADDED_TABLES = `
  CREATE TABLE IF NOT EXISTS sweep_state (
    tier TEXT PRIMARY KEY,
    oldest REAL,                 -- the oldest time the last complete sweep saw in the tier
    cap_cutoff REAL              -- data before this was being pruned for the size cap
  );
  CREATE TABLE IF NOT EXISTS disconnects (
    id INTEGER PRIMARY KEY,      -- increases with time
    client_id TEXT NOT NULL,
    t INTEGER NOT NULL,
    reason TEXT NOT NULL,        -- the registry's enumerated reason
    address TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS disconnects_by_client ON disconnects (client_id, id);
  CREATE TABLE IF NOT EXISTS raw_journal (
    id INTEGER PRIMARY KEY,      -- one row per timed commit since the last fold (unfolded-samples.ts)
    data BLOB NOT NULL
  );
`;

export const ROLLUP_TIERS = ['minute', 'hour'] as const;
export type RollupTier = (typeof ROLLUP_TIERS)[number];
export type Tier = 'raw' | RollupTier;
export const TIER_MS: Record<RollupTier, number> = { minute: 60_000, hour: 3_600_000 };

export interface OpenedHistoryDb {
  db: Database.Database;
  file: string;
  /** Where a damaged file was moved before a fresh one was made, if that happened. */
  movedAside?: string;
}

/**
 * Opens or creates the history database. A damaged file is moved aside (never deleted) and a fresh one
 * started: history must not keep the broker from starting. Throws HISTORY_UNAVAILABLE when the folder
 * cannot be written or a newer Mothership wrote the file.
 */
export function openHistoryDb(dir: string, fileName: string): OpenedHistoryDb {
  const file = join(dir, fileName);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw unavailable(file, `cannot create the folder: ${(cause as Error).message}`, cause);
  }
  try {
    return { db: openChecked(file), file };
  } catch (cause) {
    if (!isDamaged(cause)) throw unavailable(file, (cause as Error).message, cause);
    const movedAside = moveAside(file);
    try {
      return { db: openChecked(file), file, movedAside };
    } catch (again) {
      throw unavailable(file, (again as Error).message, again);
    }
  }
}

function openChecked(file: string): Database.Database {
  const db = new Database(file);
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new Error(
        `it was written by a newer Mothership (history schema ${version}, this one knows ${SCHEMA_VERSION})`,
      );
    if (version === 0) {
      // Must precede the first table: lets the size cap hand freed pages back to the file system.
      db.pragma('auto_vacuum = INCREMENTAL');
    }
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`cannot switch to WAL mode (got ${String(mode)})`);
    // In WAL mode NORMAL never corrupts; a kill -9 loses nothing committed (the OS has the WAL), a power
    // cut at most the last commits.
    db.pragma('synchronous = NORMAL');
    if (version === 0) {
      db.transaction(() => {
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    if (version === 1 || version === 2) {
      db.transaction(() => {
        if (version === 1) messagesToBlocks(db);
        samplesToBlocks(db);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    db.exec(ADDED_TABLES);
    db.prepare(
      'SELECT 1 FROM raw, series, minute, hour, topics, message_blocks, sweep_state, disconnects, raw_journal LIMIT 0',
    ).all();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

interface MessageRow {
  t: number;
  qos: number;
  retain: number;
  client_id: string | null;
  properties: string | null;
  size: number;
  payload: Buffer;
}

/**
 * Schema 1 to 2: each topic's logged messages (a row each) become one block, oldest first; the
 * payloads were already cut to the cap when they were logged.
 */
function messagesToBlocks(db: Database.Database): void {
  db.exec(MESSAGE_BLOCKS);
  const insert = db.prepare<[number, number, number, number, number, number, Buffer]>(
    `INSERT INTO message_blocks (topic_id, t_first, t_last, count, bytes, newest_bytes, data)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const topics = db.prepare<[], { id: number }>('SELECT DISTINCT topic_id AS id FROM messages').all();
  // One topic at a time (at most its cap, 100 messages or 1 MB, in memory).
  const ofTopic = db.prepare<[number], MessageRow>('SELECT * FROM messages WHERE topic_id = ? ORDER BY id');
  for (const { id } of topics) {
    const list: BlockMessage[] = ofTopic.all(id).map((r) => ({
      t: r.t,
      qos: r.qos as BlockMessage['qos'],
      retain: r.retain === 1,
      clientId: r.client_id ?? undefined,
      properties: r.properties ?? undefined,
      size: r.size,
      payload: r.payload,
    }));
    const bytes = list.reduce((n, m) => n + m.payload.length, 0);
    const data = encodeBlock(list, Number.POSITIVE_INFINITY);
    const newest = list.at(-1)!;
    insert.run(id, list[0]!.t, newest.t, list.length, bytes, newest.payload.length, data);
  }
  db.exec('DROP TABLE messages');
}

/** Writes one series' samples (times increasing) as blocks of at most MAX_BLOCK_SAMPLES. */
export function insertSampleBlocks(
  insert: Database.Statement<[number, number, number, number, Buffer]>,
  seriesId: number,
  s: SampleColumns,
): void {
  for (let from = 0; from < s.t.length; from += MAX_BLOCK_SAMPLES) {
    const to = Math.min(s.t.length, from + MAX_BLOCK_SAMPLES);
    insert.run(seriesId, s.t[from]!, s.t[to - 1]! - s.t[from]!, to - from, encodeSamples(s, from, to));
  }
}

export function prepareSampleBlockInsert(
  db: Database.Database,
): Database.Statement<[number, number, number, number, Buffer]> {
  return db.prepare('INSERT INTO raw (series_id, t_first, span, count, data) VALUES (?, ?, ?, ?, ?)');
}

/**
 * Schema 2 to 3: each series' raw rows (one per sample, keyed by series and time, so already in time
 * order) become blocks of MAX_BLOCK_SAMPLES, read a block's worth at a time.
 */
function samplesToBlocks(db: Database.Database): void {
  db.exec('ALTER TABLE raw RENAME TO raw_rows');
  db.exec(RAW_BLOCKS);
  const insert = prepareSampleBlockInsert(db);
  const ids = db.prepare<[], { id: number }>('SELECT DISTINCT series_id AS id FROM raw_rows').all();
  const page = db.prepare<[number, number, number], { t: number; v: number }>(
    'SELECT t, v FROM raw_rows WHERE series_id = ? AND t > ? ORDER BY t LIMIT ?',
  );
  for (const { id } of ids) {
    for (let after = Number.MIN_SAFE_INTEGER; ; ) {
      const rows = page.all(id, after, MAX_BLOCK_SAMPLES);
      if (rows.length === 0) break;
      insertSampleBlocks(insert, id, { t: rows.map((r) => r.t), v: rows.map((r) => r.v) });
      after = rows.at(-1)!.t;
    }
  }
  db.exec('DROP TABLE raw_rows');
}

/**
 * The history worker's connection: the only one that writes, to a file openHistoryDb already made and
 * checked. `synchronous = NORMAL` is per connection (see openChecked).
 */
export function openHistoryWriter(file: string): Database.Database {
  const db = new Database(file, { fileMustExist: true });
  db.pragma('synchronous = NORMAL');
  return db;
}

/** The broker thread's connection for queries: it never writes, so it never waits for the worker. */
export function openHistoryReader(file: string): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true });
}

function moveAside(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let target = `${file}.corrupt-${stamp}`;
  for (let n = 1; existsSync(target); n++) target = `${file}.corrupt-${stamp}-${n}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  }
  return target;
}

function unavailable(file: string, reason: string, cause: unknown): MothershipError {
  return new MothershipError(
    ErrorCodes.HISTORY_UNAVAILABLE,
    `Cannot open the history database ${file}: ${reason}. The broker runs without history; check the data ` +
      'folder (permissions, disk) or use a newer Mothership.',
    { cause },
  );
}

/** Bytes the database's live pages take (the file minus free pages). */
export function usedBytes(db: Database.Database): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}
