import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, MothershipError } from '../../src/errors.js';
import {
  latestVersion,
  type Migration,
  migrate,
  migrations,
  openSqliteStore,
  schemaVersion,
} from '../../src/store/index.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const grouped = { mode: 'grouped', maxDelayMs: 2 } as const;

/**
 * Schema version 1 exactly as released: a frozen copy, so an edit of migration 1 (instead of appending
 * migration 2) fails here. Databases in the field have this schema.
 */
const V1_SQL = `
  CREATE TABLE retained (topic TEXT PRIMARY KEY, payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
    properties TEXT, received_at INTEGER NOT NULL);
  CREATE TABLE sessions (client_id TEXT PRIMARY KEY, protocol_version INTEGER NOT NULL, username TEXT,
    expiry_interval INTEGER NOT NULL, expires_at INTEGER, will TEXT, will_due_at INTEGER);
  CREATE TABLE subscriptions (client_id TEXT NOT NULL, filter TEXT NOT NULL, options TEXT NOT NULL,
    PRIMARY KEY (client_id, filter));
  CREATE TABLE queue (client_id TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
    msg_qos INTEGER NOT NULL, msg_retain INTEGER NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
    properties TEXT, subscription_ids TEXT, received_at INTEGER NOT NULL, PRIMARY KEY (client_id, seq));
  CREATE TABLE inflight (client_id TEXT NOT NULL, packet_id INTEGER NOT NULL, ord INTEGER NOT NULL, state TEXT NOT NULL,
    topic TEXT NOT NULL, payload BLOB NOT NULL, msg_qos INTEGER NOT NULL, msg_retain INTEGER NOT NULL,
    qos INTEGER NOT NULL, retain INTEGER NOT NULL, properties TEXT, subscription_ids TEXT,
    received_at INTEGER NOT NULL, PRIMARY KEY (client_id, packet_id));
  CREATE INDEX inflight_ord ON inflight (client_id, ord);
  CREATE TABLE inbound_qos2 (client_id TEXT NOT NULL, packet_id INTEGER NOT NULL, PRIMARY KEY (client_id, packet_id));
  PRAGMA user_version = 1;
`;

/** A v1 database with one of everything, written with plain SQL as an old Mothership left it. */
function writeV1Database(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'mothership.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(V1_SQL);
  const corr = JSON.stringify({ '\u0000buffer': Buffer.from([1, 2, 3]).toString('base64') });
  db.prepare('INSERT INTO retained VALUES (?, ?, 1, 1, ?, 1000)').run(
    'machine1/status',
    Buffer.from('online'),
    `{"correlationData":${corr}}`,
  );
  db.prepare('INSERT INTO sessions VALUES (?, 4, ?, 300, 5000, NULL, NULL)').run('machine2', 'bob');
  db.prepare('INSERT INTO subscriptions VALUES (?, ?, ?)').run(
    'machine2',
    'notification',
    '{"qos":1,"noLocal":false,"retainAsPublished":false,"retainHandling":0}',
  );
  db.prepare(
    "INSERT INTO queue VALUES ('machine2', 7, 'notification', ?, 1, 0, 1, 0, NULL, '[4]', 2000)",
  ).run(Buffer.from('hello'));
  db.prepare(
    "INSERT INTO inflight VALUES ('machine2', 3, 1, 'awaiting-puback', 'notification', ?, 1, 0, 1, 0, NULL, NULL, 1500)",
  ).run(Buffer.from('first'));
  db.prepare("INSERT INTO inbound_qos2 VALUES ('machine2', 42)").run();
  db.close();
  return file;
}

function schemaOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  const rows = db
    .prepare("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { type: string; name: string }[];
  const cols = rows
    .filter((r) => r.type === 'table')
    .flatMap((r) =>
      (
        db.prepare(`PRAGMA table_info(${r.name})`).all() as {
          name: string;
          type: string;
          notnull: number;
          pk: number;
        }[]
      ).map((c) => `${r.name}.${c.name}:${c.type}:${c.notnull}:${c.pk}`),
    );
  db.close();
  return [...rows.map((r) => `${r.type}:${r.name}`), ...cols];
}

describe('schema migrations', () => {
  it('an empty directory gets the newest schema, version recorded in user_version', () => {
    const dir = tempDir();
    openSqliteStore({ dir, policy: grouped }).close();
    const file = join(dir, 'mothership.db');
    const db = new Database(file, { readonly: true });
    expect(schemaVersion(db)).toBe(migrations.length);
    db.close();
    expect(schemaOf(file)).toContain('table:retained');
  });

  it('migration 1 is exactly the released v1 schema (append new migrations, never edit old ones)', () => {
    const fresh = join(tempDir(), 'mothership.db');
    const db = new Database(fresh);
    migrate(db, migrations.slice(0, 1));
    db.close();
    const frozen = writeV1Database(tempDir());
    expect(schemaOf(fresh)).toEqual(schemaOf(frozen));
  });

  it('a new database is created complete and migrated, never left as an empty file', () => {
    const dir = tempDir();
    const store = openSqliteStore({ dir, policy: grouped });
    expect(store.load()).toEqual({ retained: [], sessions: [], counters: {} });
    store.close();
    expect(readdirSync(dir).filter((n) => n.includes('creating'))).toEqual([]);
    const db = new Database(join(dir, 'mothership.db'), { readonly: true });
    expect(schemaVersion(db)).toBe(latestVersion());
    db.close();
  });

  it("migration 2 records each session's listener; v1 sessions load without one", () => {
    const dir = tempDir();
    writeV1Database(dir);
    const store = openSqliteStore({ dir, policy: grouped });
    expect(store.load().sessions[0]!.record.listener).toBeUndefined();
    store.saveSession({ ...store.load().sessions[0]!.record, listener: 'mqtt:1884' });
    store.close();
    const again = openSqliteStore({ dir, policy: grouped });
    expect(again.load().sessions[0]!.record.listener).toBe('mqtt:1884');
    again.close();
    const db = new Database(join(dir, 'mothership.db'), { readonly: true });
    expect(schemaVersion(db)).toBe(latestVersion());
    db.close();
  });

  it('a v1 database opens and loads with everything in it', () => {
    const dir = tempDir();
    writeV1Database(dir);
    const store = openSqliteStore({ dir, policy: grouped });
    const { retained, sessions } = store.load();
    expect(retained).toHaveLength(1);
    expect(retained[0]!.properties!.correlationData).toEqual(Buffer.from([1, 2, 3]));
    expect(sessions).toHaveLength(1);
    const s = sessions[0]!;
    expect(s.record).toEqual({
      clientId: 'machine2',
      protocolVersion: 4,
      username: 'bob',
      expiryInterval: 300,
      expiresAt: 5000,
      will: undefined,
      willDueAt: undefined,
    });
    expect(s.subscriptions).toEqual([
      {
        filter: 'notification',
        options: { qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      },
    ]);
    expect(s.queued).toEqual([
      {
        seq: 7,
        delivery: {
          message: {
            topic: 'notification',
            payload: Buffer.from('hello'),
            qos: 1,
            retain: false,
            receivedAt: 2000,
          },
          qos: 1,
          retain: false,
          subscriptionIds: [4],
        },
      },
    ]);
    expect(s.inflight.map((e) => [e.packetId, e.state, e.delivery.message.payload.toString()])).toEqual([
      [3, 'awaiting-puback', 'first'],
    ]);
    // A v1/v2 row has no message: it was routed on arrival, so PUBREL only releases the id.
    expect(s.inboundQos2).toEqual([{ packetId: 42, message: undefined }]);
    expect(store.enqueue('machine2', s.queued[0]!.delivery)).toBe(8);
    store.close();
  });

  it('a later migration is appended and applied once to a v1 database, keeping its data', () => {
    const dir = tempDir();
    writeV1Database(dir);
    let runs = 0;
    const next = migrations.length + 1;
    const v2: Migration = {
      version: next,
      description: 'test: a column on sessions',
      up(db) {
        runs++;
        db.exec("ALTER TABLE sessions ADD COLUMN note TEXT NOT NULL DEFAULT 'migrated'");
      },
    };
    const list = [...migrations, v2];
    let store = openSqliteStore({ dir, policy: grouped, migrations: list });
    expect(store.load().sessions.map((s) => s.record.clientId)).toEqual(['machine2']);
    store.close();
    store = openSqliteStore({ dir, policy: grouped, migrations: list });
    store.close();
    expect(runs).toBe(1);
    const db = new Database(join(dir, 'mothership.db'), { readonly: true });
    expect(schemaVersion(db)).toBe(next);
    expect(db.prepare('SELECT note FROM sessions').get()).toEqual({ note: 'migrated' });
    db.close();
  });

  it('a failing migration leaves the database at the previous version, unchanged', () => {
    const dir = tempDir();
    const file = writeV1Database(dir);
    const broken: Migration = {
      version: migrations.length + 1,
      description: 'test: fails half-way',
      up(db) {
        db.exec('CREATE TABLE half (x INTEGER)');
        throw new Error('boom');
      },
    };
    expect(() => openSqliteStore({ dir, policy: grouped, migrations: [...migrations, broken] })).toThrow(
      /boom/,
    );
    const db = new Database(file, { readonly: true });
    // The migrations before the broken one were applied, each in its own transaction; the broken one not.
    expect(schemaVersion(db)).toBe(migrations.length);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'half'").get()).toEqual({ n: 0 });
    db.close();
    const store = openSqliteStore({ dir, policy: grouped });
    expect(store.load().sessions).toHaveLength(1);
    store.close();
  });

  it('a database from a newer Mothership is refused with STORE_TOO_NEW and left alone', () => {
    const dir = tempDir();
    const file = writeV1Database(dir);
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const bytes = readFileSync(file);
    let err: unknown;
    try {
      openSqliteStore({ dir, policy: grouped, onCorrupt: 'move-aside' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MothershipError);
    expect((err as MothershipError).code).toBe(ErrorCodes.STORE_TOO_NEW);
    expect((err as Error).message).toContain(file);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('migrate() rejects a list with gaps', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [{ version: 2, description: 'gap', up() {} }])).toThrow(/out of order/);
    db.close();
  });
});
