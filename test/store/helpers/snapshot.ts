import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Broker } from '../../../src/index.js';
import { DB_FILE_NAME, openSqliteStore, type SqliteStore } from '../../../src/store/index.js';
import { tempDir } from '../helpers.js';

/**
 * What a crash at this instant leaves on disk: a copy of the database and its -wal, taken between two
 * turns of the event loop (no transaction is ever open then: better-sqlite3 commits synchronously).
 * SQLite rebuilds the -shm from the -wal when the copy is opened.
 */
export function crashCopy(dataDir: string): string {
  const copy = tempDir('ms-crash-copy-');
  const file = join(dataDir, DB_FILE_NAME);
  copyFileSync(file, join(copy, DB_FILE_NAME));
  if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, join(copy, `${DB_FILE_NAME}-wal`));
  return copy;
}

/** A store whose group commit waits a minute: tests commit with store.flush() when they mean to. */
export function heldStore(dir: string): SqliteStore {
  return openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 60_000 } });
}

export interface StoreBroker {
  broker: Broker;
  store: SqliteStore;
  port: number;
  close(): Promise<void>;
}

/**
 * A real broker on a loopback port over `store`. In-flight rows wait a minute for their PUBACK unless
 * told otherwise, so the early-acknowledgement window is open on demand.
 */
export async function brokerOn(
  store: SqliteStore,
  options: ConstructorParameters<typeof Broker>[0] = {},
): Promise<StoreBroker> {
  const broker = new Broker({ sysInterval: 0, inflightWriteDelayMs: 60_000, persistence: store, ...options });
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  return { broker, store, port, close: () => broker.close() };
}
