import type { DurabilityPolicy } from '../../broker/ports/persistence.js';
import type { MothershipError } from '../../errors.js';
import type { Migration } from './migrations.js';

export const DB_FILE_NAME = 'mothership.db';

/** Group commit within 2 ms: the default for `mothership up`. */
export const DEFAULT_DURABILITY: DurabilityPolicy = { mode: 'grouped', maxDelayMs: 2 };

export interface SqliteStoreOptions {
  /** Data directory; created if missing. The database is `<dir>/mothership.db`. */
  dir: string;
  policy: DurabilityPolicy;
  /**
   * What to do with a database that SQLite reports as damaged (not a database, corrupt pages, tables
   * missing). 'fail' (default): throw STORE_CORRUPT and leave the file alone. 'move-aside': rename it
   * (with its -wal and -shm) to `mothership.db.corrupt-<timestamp>` and start with an empty store.
   */
  onCorrupt?: 'fail' | 'move-aside';
  /** A batch this large is committed at the next turn of the event loop instead of waiting. Default 1000. */
  maxBatchOps?: number;
  /**
   * The store started failing to write (or the reason changed): called once per episode, not per retry.
   * Writes are kept and retried every second; nothing is acknowledged until they commit.
   */
  onError?: (err: MothershipError) => void;
  /** Writes succeed again after a failure episode that lasted `failedForMs`. */
  onRecovered?: (failedForMs: number) => void;
  /** Run `PRAGMA quick_check` at open (reads the whole file once). Default true. */
  integrityCheck?: boolean;
  /** Schema migrations; tests pass a longer list. Default: src/store/migrations.ts. */
  migrations?: readonly Migration[];
  /**
   * The last sentence of the damaged-database message: how the caller's user recovers. Default names
   * the library option; `mothership up` names its --recover flag.
   */
  recoverHint?: string;
}

export const DEFAULT_RECOVER_HINT =
  "Open it with onCorrupt: 'move-aside' to move it aside (nothing is deleted) and start with an empty " +
  'database; see docs/persistence.md.';

export interface SqliteStoreStats {
  /** Transactions committed. */
  transactions: number;
  /** Transactions that failed and were rolled back (each retry counts). */
  failedTransactions: number;
  /** Episodes of failing writes (from the first failure to the next success). */
  failureEpisodes: number;
  /** Write operations committed. */
  opsCommitted: number;
  /** Write operations recorded but not yet committed. */
  pendingOps: number;
}
