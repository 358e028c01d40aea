import { join } from 'node:path';
import Database from 'better-sqlite3';

// The tables schema 1 and 2 history files share (a row per raw sample), for the conversion tests.
export const OLD_SERIES_TABLES = `
  CREATE TABLE series (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, path TEXT NOT NULL, unit TEXT,
    UNIQUE (topic, path));
  CREATE TABLE raw (series_id INTEGER NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL,
    PRIMARY KEY (series_id, t)) WITHOUT ROWID;
  CREATE TABLE minute (series_id INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, lo REAL NOT NULL,
    hi REAL NOT NULL, sum REAL NOT NULL, last REAL NOT NULL, PRIMARY KEY (series_id, t)) WITHOUT ROWID;
  CREATE TABLE hour (series_id INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, lo REAL NOT NULL,
    hi REAL NOT NULL, sum REAL NOT NULL, last REAL NOT NULL, PRIMARY KEY (series_id, t)) WITHOUT ROWID;
  CREATE TABLE topics (id INTEGER PRIMARY KEY, topic TEXT NOT NULL UNIQUE);
`;

/** A history.db in `dir` as an older Mothership left it: WAL, the shared tables, then `sql`. Caller closes. */
export function oldHistoryDb(dir: string, sql: string): Database.Database {
  const db = new Database(join(dir, 'history.db'));
  db.exec(`PRAGMA journal_mode = WAL; ${OLD_SERIES_TABLES} ${sql}`);
  return db;
}
