import type Database from 'better-sqlite3';

/**
 * Schema versions of mothership.db. `PRAGMA user_version` holds the version of the last migration
 * applied; a new schema change is a new entry appended at the end (never edit a released one).
 * Each migration runs in its own transaction together with the version bump, so a crash mid-way
 * leaves the database at the previous version.
 */
export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description:
      'retained messages, sessions, subscriptions, offline queues, in-flight and inbound QoS 2 state',
    up(db) {
      db.exec(`
        CREATE TABLE retained (
          topic        TEXT PRIMARY KEY,
          payload      BLOB NOT NULL,
          qos          INTEGER NOT NULL,
          retain       INTEGER NOT NULL,
          properties   TEXT,
          received_at  INTEGER NOT NULL
        );
        CREATE TABLE sessions (
          client_id         TEXT PRIMARY KEY,
          protocol_version  INTEGER NOT NULL,
          username          TEXT,
          expiry_interval   INTEGER NOT NULL,
          expires_at        INTEGER,
          will              TEXT,
          will_due_at       INTEGER
        );
        CREATE TABLE subscriptions (
          client_id  TEXT NOT NULL,
          filter     TEXT NOT NULL,
          options    TEXT NOT NULL,
          PRIMARY KEY (client_id, filter)
        );
        CREATE TABLE queue (
          client_id         TEXT NOT NULL,
          seq               INTEGER NOT NULL,
          topic             TEXT NOT NULL,
          payload           BLOB NOT NULL,
          msg_qos           INTEGER NOT NULL,
          msg_retain        INTEGER NOT NULL,
          qos               INTEGER NOT NULL,
          retain            INTEGER NOT NULL,
          properties        TEXT,
          subscription_ids  TEXT,
          received_at       INTEGER NOT NULL,
          PRIMARY KEY (client_id, seq)
        );
        CREATE TABLE inflight (
          client_id         TEXT NOT NULL,
          packet_id         INTEGER NOT NULL,
          ord               INTEGER NOT NULL,
          state             TEXT NOT NULL,
          topic             TEXT NOT NULL,
          payload           BLOB NOT NULL,
          msg_qos           INTEGER NOT NULL,
          msg_retain        INTEGER NOT NULL,
          qos               INTEGER NOT NULL,
          retain            INTEGER NOT NULL,
          properties        TEXT,
          subscription_ids  TEXT,
          received_at       INTEGER NOT NULL,
          PRIMARY KEY (client_id, packet_id)
        );
        CREATE INDEX inflight_ord ON inflight (client_id, ord);
        CREATE TABLE inbound_qos2 (
          client_id  TEXT NOT NULL,
          packet_id  INTEGER NOT NULL,
          PRIMARY KEY (client_id, packet_id)
        );
      `);
    },
  },
  {
    version: 2,
    description: "the listener a session's client last logged in through (per-listener ACLs while offline)",
    up(db) {
      db.exec('ALTER TABLE sessions ADD COLUMN listener TEXT');
    },
  },
  {
    version: 3,
    description:
      'inbound QoS 2 messages held until PUBREL (routed then, with their deliveries, in one commit); broker counters',
    up(db) {
      // Rows from version 2 have no message: they were routed on arrival, and PUBREL only releases the id.
      db.exec(`
        ALTER TABLE inbound_qos2 ADD COLUMN topic TEXT;
        ALTER TABLE inbound_qos2 ADD COLUMN payload BLOB;
        ALTER TABLE inbound_qos2 ADD COLUMN retain INTEGER;
        ALTER TABLE inbound_qos2 ADD COLUMN properties TEXT;
        ALTER TABLE inbound_qos2 ADD COLUMN received_at INTEGER;
        CREATE TABLE counters (
          name   TEXT PRIMARY KEY,
          value  INTEGER NOT NULL
        );
      `);
    },
  },
];

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** The newest schema version this build knows. */
export function latestVersion(list: readonly Migration[] = migrations): number {
  return list.length === 0 ? 0 : list[list.length - 1]!.version;
}

/**
 * Brings the database up to the newest version in `list`; returns the versions applied.
 * Throws when the file is newer than this build (written by a later Mothership).
 */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): number[] {
  for (let i = 0; i < list.length; i++) {
    if (list[i]!.version !== i + 1) throw new Error(`migration list out of order at index ${i}`);
  }
  const current = schemaVersion(db);
  const latest = latestVersion(list);
  if (current > latest) {
    throw new NewerSchemaError(current, latest);
  }
  const applied: number[] = [];
  for (const m of list) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}

export class NewerSchemaError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`schema version ${found} is newer than this Mothership supports (${supported})`);
    this.name = 'NewerSchemaError';
  }
}
