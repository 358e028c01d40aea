import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type {
  DurabilityPolicy,
  Persistence,
  SessionRecord,
  StoredInflight,
  StoredQueued,
  StoredSession,
} from '../broker/persistence.js';
import type { Delivery, InflightState } from '../broker/session.js';
import type { Message, SubscriptionOptions } from '../broker/types.js';
import { ErrorCodes, MothershipError } from '../errors.js';
import {
  DELIVERY_COLUMNS,
  type DeliveryRow,
  decodeJson,
  deliveryArgs,
  encodeJson,
  rowToDelivery,
  rowToMessage,
  toBlob,
} from './codec.js';
import {
  latestVersion,
  type Migration,
  migrate,
  migrations,
  NewerSchemaError,
  schemaVersion,
} from './migrations.js';

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

const DEFAULT_RECOVER_HINT =
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

interface Op {
  stmt: Database.Statement;
  /** Row values, or a function making them at commit time (most message rows are never written). */
  args: unknown[] | (() => unknown[]);
  /** Set when a later delete in the same batch made this insert pointless (see `cancelPendingInsert`). */
  skip?: boolean;
  /** An in-flight insert's place in the order, kept when a later state change replaces it. */
  ord?: number;
  /** The queued message a queue insert writes, so readQueue sees rows not yet committed. */
  queued?: StoredQueued;
  /** What committing this op does to the set of queue/in-flight rows on disk. */
  row?:
    | { clientId: string; key: string; effect: 'insert' | 'delete' }
    | { clientId: string; effect: 'drop-client' };
}

type Callback = (err?: Error) => void;

/**
 * The broker's Persistence in one SQLite file (WAL mode). Every write call is recorded, in call order,
 * into a pending batch; a batch is committed as one transaction. When a batch is committed depends on
 * the DurabilityPolicy (see docs/persistence.md).
 *
 * A batch that fails (no space, an I/O error, anything else) is rolled back, its afterDurable callbacks
 * get the error, and its operations stay at the head of the pending batch, retried every second: the
 * file never skips a write the broker made, so it catches up with the broker's memory (issue 8, hole 4).
 * While writes fail, afterDurable answers with the error at once (the broker acknowledges nothing) and
 * whenCommitted waits for the retry that succeeds.
 */
export class SqliteStore implements Persistence {
  /** Absolute or relative path of the database file. */
  readonly file: string;
  /** Where a damaged database was moved to at open (with onCorrupt: 'move-aside'). */
  readonly movedAside: string | undefined;
  readonly policy: DurabilityPolicy;

  private readonly db: Database.Database;
  private readonly maxBatchOps: number;
  private readonly onError: ((err: MothershipError) => void) | undefined;
  private readonly onRecovered: ((failedForMs: number) => void) | undefined;
  /** Callbacks that wait for a successful commit however many retries it takes (whenCommitted). */
  private patient: (() => void)[] = [];
  private failingSince = 0;
  private readonly commitOps: (ops: Op[]) => void;
  private readonly st: ReturnType<typeof prepareStatements>;

  private pending: Op[] = [];
  /**
   * Inserts of queued and in-flight messages still in the uncommitted batch, by row key. A message
   * acknowledged before its batch commits (the usual case for an online subscriber) never needs its
   * row: the insert is skipped; the delete stays, in case an older version of the row was committed.
   */
  private pendingInserts = new Map<string, Op>();
  /**
   * In-flight rows committed to disk, by client: a delete of a row never written is skipped. Queue rows
   * are not tracked (that would cost memory per queued message): a queue seq is never reused, so a queue
   * row whose insert is still in the batch has never been written.
   */
  private readonly onDisk = new Map<string, Set<string>>();

  private rowsOnDisk(clientId: string): Set<string> {
    let rows = this.onDisk.get(clientId);
    if (!rows) {
      rows = new Set();
      this.onDisk.set(clientId, rows);
    }
    return rows;
  }
  private waiters: Callback[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  /** Set while the last commit failed; cleared by the next successful one. */
  private lastError: MothershipError | undefined;
  private closed = false;

  private readonly seqs = new Map<string, number>();
  private nextOrd: number;
  private readonly counters = { transactions: 0, failedTransactions: 0, failureEpisodes: 0, opsCommitted: 0 };

  /** Use openSqliteStore(). */
  constructor(
    db: Database.Database,
    file: string,
    options: SqliteStoreOptions,
    movedAside: string | undefined,
  ) {
    this.db = db;
    this.file = file;
    this.movedAside = movedAside;
    this.policy = options.policy;
    this.maxBatchOps = options.maxBatchOps ?? 1000;
    this.onError = options.onError;
    this.onRecovered = options.onRecovered;
    this.st = prepareStatements(db);
    this.commitOps = db.transaction((ops: Op[]) => {
      for (const op of ops)
        if (!op.skip) op.stmt.run(...(typeof op.args === 'function' ? op.args() : op.args));
    });
    for (const row of db.prepare('SELECT client_id, packet_id FROM inflight').all() as {
      client_id: string;
      packet_id: number;
    }[]) {
      this.rowsOnDisk(row.client_id).add(`i${row.packet_id}`);
    }
    for (const row of db.prepare('SELECT client_id, MAX(seq) AS seq FROM queue GROUP BY client_id').all() as {
      client_id: string;
      seq: number;
    }[]) {
      this.seqs.set(row.client_id, row.seq);
    }
    this.nextOrd =
      ((db.prepare('SELECT MAX(ord) AS ord FROM inflight').get() as { ord: number | null }).ord ?? 0) + 1;
    if (this.policy.mode === 'periodic') {
      const ms = Math.max(1, this.policy.intervalSeconds) * 1000;
      this.interval = setInterval(() => this.flush(), ms);
      this.interval.unref();
    }
  }

  // ---- reading ------------------------------------------------------------------------------------

  load(queueLimit?: number): {
    retained: Message[];
    sessions: StoredSession[];
    counters: Record<string, number>;
  } {
    this.assertOpen();
    const err = this.commitPending();
    if (err) throw err;
    const retained = (this.db.prepare('SELECT * FROM retained ORDER BY topic').all() as RetainedRow[]).map(
      rowToRetained,
    );
    const sessions = new Map<string, StoredSession>();
    for (const r of this.db.prepare('SELECT * FROM sessions ORDER BY client_id').all() as SessionRow[]) {
      sessions.set(r.client_id, {
        record: rowToRecord(r),
        subscriptions: [],
        inflight: [],
        inboundQos2: [],
        queued: [],
        queuedCount: 0,
      });
    }
    const subs = this.db
      .prepare('SELECT client_id, filter, options FROM subscriptions ORDER BY rowid')
      .all() as SubscriptionRow[];
    for (const r of subs) {
      sessions.get(r.client_id)?.subscriptions.push({ filter: r.filter, options: decodeJson(r.options) });
    }
    const inflight = this.db.prepare('SELECT * FROM inflight ORDER BY client_id, ord').all() as InflightRow[];
    for (const r of inflight) {
      sessions.get(r.client_id)?.inflight.push({
        packetId: r.packet_id,
        state: r.state as InflightState,
        delivery: rowToDelivery(r),
      });
    }
    const inbound = this.db.prepare('SELECT * FROM inbound_qos2 ORDER BY rowid').all() as InboundRow[];
    for (const r of inbound) {
      const message =
        r.topic === null
          ? undefined
          : rowToMessage({ ...r, topic: r.topic, received_at: r.received_at ?? 0 }, 2, r.retain ?? 0);
      let session = sessions.get(r.client_id);
      if (!session) {
        // Held by a session that ended with its connection (no record of its own): the broker routes
        // these at start, since their client can never release them.
        session = {
          record: {
            clientId: r.client_id,
            protocolVersion: 4,
            username: undefined,
            expiryInterval: 0,
            expiresAt: undefined,
            will: undefined,
            willDueAt: undefined,
          },
          subscriptions: [],
          inflight: [],
          inboundQos2: [],
          queued: [],
          queuedCount: 0,
        };
        sessions.set(r.client_id, session);
      }
      session.inboundQos2.push({ packetId: r.packet_id, message });
    }
    const counts = this.db.prepare('SELECT client_id, COUNT(*) AS n FROM queue GROUP BY client_id').all() as {
      client_id: string;
      n: number;
    }[];
    for (const r of counts) {
      const s = sessions.get(r.client_id);
      if (!s) continue;
      s.queuedCount = r.n;
      s.queued = this.readCommittedQueue(r.client_id, 0, queueLimit ?? r.n);
    }
    const counters: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT name, value FROM counters').all() as {
      name: string;
      value: number;
    }[])
      counters[r.name] = r.value;
    return { retained, sessions: [...sessions.values()], counters };
  }

  // ---- writes (recorded in call order, committed per policy) --------------------------------------

  saveRetained(message: Message): void {
    this.record(this.st.saveRetained, [
      message.topic,
      toBlob(message.payload),
      message.qos,
      message.retain ? 1 : 0,
      message.properties === undefined ? null : encodeJson(message.properties),
      message.receivedAt,
    ]);
  }

  deleteRetained(topic: string): void {
    this.record(this.st.deleteRetained, [topic]);
  }

  saveSession(record: SessionRecord): void {
    this.record(this.st.saveSession, [
      record.clientId,
      record.protocolVersion,
      record.username ?? null,
      record.expiryInterval,
      record.expiresAt ?? null,
      record.will === undefined ? null : encodeJson(record.will),
      record.willDueAt ?? null,
      record.listener ?? null,
    ]);
  }

  deleteSession(clientId: string): void {
    for (const stmt of this.st.deleteSession) this.record(stmt, [clientId]);
    this.pending[this.pending.length - 1]!.row = { clientId, effect: 'drop-client' };
  }

  saveSubscription(clientId: string, filter: string, options: SubscriptionOptions): void {
    this.record(this.st.saveSubscription, [clientId, filter, encodeJson(options)]);
  }

  deleteSubscription(clientId: string, filter: string): void {
    this.record(this.st.deleteSubscription, [clientId, filter]);
  }

  enqueue(clientId: string, delivery: Delivery): number {
    this.assertOpen();
    const seq = (this.seqs.get(clientId) ?? 0) + 1;
    this.seqs.set(clientId, seq);
    const key = `q${seq}`;
    const op = this.record(this.st.enqueue, () => [clientId, seq, ...deliveryArgs(delivery)], {
      clientId,
      key,
      effect: 'insert',
    });
    op.queued = { seq, delivery };
    this.pendingInserts.set(`${key}\0${clientId}`, op);
    return seq;
  }

  dequeue(clientId: string, seq: number): void {
    this.deleteRow(clientId, `q${seq}`, this.st.dequeue, [clientId, seq]);
  }

  readQueue(clientId: string, afterSeq: number, limit: number): StoredQueued[] {
    this.assertOpen();
    if (limit <= 0) return [];
    // The pending batch (including a batch that failed and waits for a retry) applies on top of the
    // committed rows, in call order.
    let dropped = false;
    const pendingRows = new Map<number, StoredQueued>();
    let pendingDeletes = 0;
    for (const op of this.pending) {
      const row = op.row;
      if (!row || row.clientId !== clientId) continue;
      if (row.effect === 'drop-client') {
        dropped = true;
        pendingRows.clear();
      } else if (!op.skip && op.queued && op.queued.seq > afterSeq) {
        pendingRows.set(op.queued.seq, op.queued);
      } else if (row.effect === 'delete' && row.key.startsWith('q')) {
        const seq = Number(row.key.slice(1));
        if (seq > afterSeq && !pendingRows.delete(seq)) pendingDeletes++;
      }
    }
    const rows = new Map<number, StoredQueued>();
    if (!dropped) {
      for (const q of this.readCommittedQueue(clientId, afterSeq, limit + pendingDeletes)) rows.set(q.seq, q);
      for (const op of this.pending) {
        const row = op.row;
        if (row?.clientId === clientId && row.effect === 'delete' && row.key.startsWith('q'))
          rows.delete(Number(row.key.slice(1)));
      }
    }
    for (const [seq, q] of pendingRows) rows.set(seq, q);
    return [...rows.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  private readCommittedQueue(clientId: string, afterSeq: number, limit: number): StoredQueued[] {
    return (this.st.readQueue.all(clientId, afterSeq, limit) as QueueRow[]).map((r) => ({
      seq: r.seq,
      delivery: rowToDelivery(r),
    }));
  }

  saveInflight(clientId: string, entry: StoredInflight): void {
    const key = `i${entry.packetId}`;
    // A state change of a row still in the batch replaces that insert and keeps its place.
    const earlier = this.pendingInserts.get(`${key}\0${clientId}`);
    this.cancelPendingInsert(`${key}\0${clientId}`);
    const ord = earlier?.ord ?? this.nextOrd++;
    const op = this.record(
      this.st.saveInflight,
      () => [clientId, entry.packetId, ord, entry.state, ...deliveryArgs(entry.delivery)],
      { clientId, key, effect: 'insert' },
    );
    op.ord = ord;
    this.pendingInserts.set(`${key}\0${clientId}`, op);
  }

  deleteInflight(clientId: string, packetId: number): void {
    this.deleteRow(clientId, `i${packetId}`, this.st.deleteInflight, [clientId, packetId]);
  }

  /**
   * A row deleted while its insert is still in the batch: the insert is skipped, and the delete too
   * unless an older version of the row is on disk.
   */
  private deleteRow(clientId: string, key: string, stmt: Database.Statement, args: unknown[]): void {
    const cancelled = this.cancelPendingInsert(`${key}\0${clientId}`);
    if (cancelled && (key.startsWith('q') || !this.onDisk.get(clientId)?.has(key))) return;
    this.record(stmt, args, { clientId, key, effect: 'delete' });
  }

  private cancelPendingInsert(key: string): boolean {
    const op = this.pendingInserts.get(key);
    if (!op) return false;
    op.skip = true;
    this.pendingInserts.delete(key);
    return true;
  }

  saveInboundQos2(clientId: string, packetId: number, message?: Message): void {
    this.record(this.st.saveInboundQos2, [
      clientId,
      packetId,
      message?.topic ?? null,
      message ? toBlob(message.payload) : null,
      message ? (message.retain ? 1 : 0) : null,
      message?.properties === undefined ? null : encodeJson(message.properties),
      message?.receivedAt ?? null,
    ]);
  }

  saveCounters(counters: Record<string, number>): void {
    for (const [name, value] of Object.entries(counters)) this.record(this.st.saveCounter, [name, value]);
  }

  deleteInboundQos2(clientId: string, packetId: number): void {
    this.record(this.st.deleteInboundQos2, [clientId, packetId]);
  }

  // ---- durability ---------------------------------------------------------------------------------

  afterDurable(done: Callback): void {
    if (this.closed) {
      setImmediate(() => done(closedError()));
      return;
    }
    // While writes fail, nothing new is durable: say so at once rather than after the next retry.
    // setImmediate, not a microtask: a publisher loop on microtasks alone would starve the timers.
    const failure = this.lastError;
    if (failure) {
      setImmediate(() => done(failure));
      return;
    }
    switch (this.policy.mode) {
      case 'periodic':
        // Acknowledge at once (the policy's promise is weaker: see docs/persistence.md).
        setImmediate(() => done());
        return;
      case 'every-message': {
        const err = this.pending.length > 0 ? this.commitPending() : undefined;
        setImmediate(() => done(err));
        return;
      }
      case 'grouped': {
        if (this.pending.length === 0) {
          setImmediate(() => done());
          return;
        }
        this.waiters.push(done);
        this.scheduleGrouped();
        return;
      }
    }
  }

  /**
   * Calls `done` once every write made so far is committed (at once in periodic mode, unless writes
   * are failing), waiting through failed commits and their retries; never called after close().
   * For acknowledgements of state the broker has already applied (PUBCOMP, SUBACK, UNSUBACK): they go
   * out late rather than ahead of the disk.
   */
  whenCommitted(done: () => void): void {
    if (this.closed) return;
    if (this.lastError === undefined && (this.pending.length === 0 || this.policy.mode === 'periodic')) {
      setImmediate(done);
      return;
    }
    this.patient.push(done);
    if (this.lastError !== undefined) return; // the retry timer commits
    if (this.policy.mode === 'every-message') this.scheduleSoon();
    else this.scheduleGrouped();
  }

  /** True while the last commit failed (its writes wait for a retry). */
  get failing(): boolean {
    return this.lastError !== undefined;
  }

  /**
   * Commits everything pending now, then calls the afterDurable callbacks waiting for it (with the
   * error, if the commit failed). Returns that error.
   */
  flush(): MothershipError | undefined {
    if (this.closed) return undefined;
    this.clearScheduled();
    const waiters = this.waiters;
    this.waiters = [];
    const err = this.commitPending();
    callAll(waiters, err);
    return err;
  }

  stats(): SqliteStoreStats {
    return { ...this.counters, pendingOps: this.pending.length };
  }

  /** The failure the store is in, if any (its writes are kept and retried). */
  get writeError(): MothershipError | undefined {
    return this.lastError;
  }

  /** Commits what is pending, calls waiting callbacks, closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush(); // a failure reaches the waiting callbacks and onError
    } finally {
      if (this.interval) clearInterval(this.interval);
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.interval = undefined;
      this.closed = true;
      this.pending = [];
      this.patient = [];
      this.db.close();
    }
  }

  // ---- internals ----------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private record(stmt: Database.Statement, args: Op['args'], row?: Op['row']): Op {
    this.assertOpen();
    const op: Op = row ? { stmt, args, row } : { stmt, args };
    this.pending.push(op);
    this.schedule();
    return op;
  }

  private schedule(): void {
    // While writes fail, only the retry timer commits: a failing commit per write would spin.
    if (this.lastError !== undefined) return;
    if (this.pending.length >= this.maxBatchOps) {
      this.scheduleSoon();
      return;
    }
    switch (this.policy.mode) {
      case 'grouped':
        this.scheduleGrouped();
        return;
      case 'every-message':
        // Writes nobody waits for (dequeue, deletes) still reach the disk without delay.
        this.scheduleSoon();
        return;
      case 'periodic':
        return;
    }
  }

  private scheduleGrouped(): void {
    if (this.timer || this.immediate) return;
    const delay = this.policy.mode === 'grouped' ? this.policy.maxDelayMs : 0;
    if (!(delay > 0)) {
      // maxDelayMs 0: commit at the end of this turn of the event loop, with whatever it brought.
      this.scheduleSoon();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
  }

  private scheduleSoon(): void {
    if (this.immediate) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.flush();
    });
  }

  private clearScheduled(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** After a commit: which queue and in-flight rows are now on disk. */
  private trackRows(ops: Op[]): void {
    for (const op of ops) {
      const row = op.row;
      if (!row || op.skip || (row.effect !== 'drop-client' && row.key.startsWith('q'))) continue;
      if (row.effect === 'drop-client') this.onDisk.delete(row.clientId);
      else if (row.effect === 'insert') this.rowsOnDisk(row.clientId).add(row.key);
      else this.onDisk.get(row.clientId)?.delete(row.key);
    }
  }

  /** One transaction with every pending op. On failure the ops stay pending, retried every second. */
  private commitPending(): MothershipError | undefined {
    if (this.pending.length === 0) {
      if (this.patient.length > 0) this.committed();
      return undefined;
    }
    const ops = this.pending;
    this.pending = [];
    // Rows in this batch are about to be committed: a later delete must reach the disk.
    this.pendingInserts.clear();
    try {
      this.commitOps(ops);
      this.trackRows(ops);
    } catch (cause) {
      this.counters.failedTransactions++;
      const err = writeError(this.file, cause);
      // Never skip a write: memory already reflects it, so the disk must catch up (or the broker stops).
      this.pending = ops.concat(this.pending);
      this.scheduleRetry();
      const previous = this.lastError;
      this.lastError = err;
      if (!previous) {
        this.failingSince = Date.now();
        this.counters.failureEpisodes++;
      }
      if (!previous || previous.code !== err.code) this.onError?.(err);
      return err;
    }
    this.counters.transactions++;
    this.counters.opsCommitted += ops.filter((op) => !op.skip).length;
    if (this.lastError) {
      this.lastError = undefined;
      this.onRecovered?.(Date.now() - this.failingSince);
    }
    this.committed();
    return undefined;
  }

  private committed(): void {
    const patient = this.patient;
    this.patient = [];
    callAll(patient, undefined);
  }

  /** After a failed commit, try again in a second even when no new write comes along. */
  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      if (this.pending.length > 0) this.flush();
      else this.lastError = undefined;
    }, 1000);
    this.retryTimer.unref();
  }
}

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

// ---- opening --------------------------------------------------------------------------------------

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

class DamagedError extends Error {
  readonly damaged = true;
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

function isDamaged(err: unknown): boolean {
  if (err instanceof DamagedError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
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

// ---- errors ---------------------------------------------------------------------------------------

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'unknown';
}

function writeError(file: string, cause: unknown): MothershipError {
  const code = sqliteCode(cause);
  const reason = (cause as Error).message;
  if (
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_IOERR') ||
    code === 'SQLITE_CANTOPEN' ||
    code === 'SQLITE_NOMEM' ||
    code === 'SQLITE_BUSY' ||
    code.startsWith('SQLITE_READONLY')
  ) {
    return new MothershipError(
      ErrorCodes.STORE_FULL,
      `Cannot write to ${file}: the disk is full or failing (${code}: ${reason}). The writes are kept and ` +
        'retried every second; QoS 1/2 publishes are refused meanwhile.',
      { cause },
    );
  }
  if (isDamaged(cause)) {
    return new MothershipError(
      ErrorCodes.STORE_CORRUPT,
      `The database ${file} is damaged (${code}: ${reason}). Stop Mothership and see docs/persistence.md ` +
        '("Recovering from a damaged database").',
      { cause },
    );
  }
  return new MothershipError(
    ErrorCodes.STORE_WRITE_FAILED,
    `Cannot write to ${file} (${code}: ${reason}). The writes are kept and retried every second; QoS 1/2 ` +
      'publishes are refused meanwhile.',
    { cause },
  );
}

function closedError(): MothershipError {
  return new MothershipError(ErrorCodes.STORE_CLOSED, 'The store is closed.');
}

function callAll(callbacks: Callback[], err: Error | undefined): void {
  let thrown: unknown;
  let threw = false;
  for (const cb of callbacks) {
    try {
      cb(err);
    } catch (e) {
      if (!threw) thrown = e;
      threw = true;
    }
  }
  if (threw) throw thrown;
}

// ---- statements and rows --------------------------------------------------------------------------

function prepareStatements(db: Database.Database) {
  return {
    saveRetained: db.prepare(
      'INSERT OR REPLACE INTO retained (topic, payload, qos, retain, properties, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deleteRetained: db.prepare('DELETE FROM retained WHERE topic = ?'),
    saveSession: db.prepare(
      'INSERT OR REPLACE INTO sessions (client_id, protocol_version, username, expiry_interval, expires_at, will, ' +
        'will_due_at, listener) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteSession: ['sessions', 'subscriptions', 'queue', 'inflight', 'inbound_qos2'].map((table) =>
      db.prepare(`DELETE FROM ${table} WHERE client_id = ?`),
    ),
    // Upserts keep the row (and its rowid) so load() returns subscriptions in first-subscribed order.
    saveSubscription: db.prepare(
      'INSERT INTO subscriptions (client_id, filter, options) VALUES (?, ?, ?) ' +
        'ON CONFLICT (client_id, filter) DO UPDATE SET options = excluded.options',
    ),
    deleteSubscription: db.prepare('DELETE FROM subscriptions WHERE client_id = ? AND filter = ?'),
    enqueue: db.prepare(
      `INSERT OR REPLACE INTO queue (client_id, seq, ${DELIVERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    dequeue: db.prepare('DELETE FROM queue WHERE client_id = ? AND seq = ?'),
    readQueue: db.prepare('SELECT * FROM queue WHERE client_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    // A state change (PUBREC received) keeps the entry's place in the order.
    saveInflight: db.prepare(
      `INSERT INTO inflight (client_id, packet_id, ord, state, ${DELIVERY_COLUMNS}) ` +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id, packet_id) DO UPDATE SET ' +
        'state = excluded.state, topic = excluded.topic, payload = excluded.payload, msg_qos = excluded.msg_qos, ' +
        'msg_retain = excluded.msg_retain, qos = excluded.qos, retain = excluded.retain, ' +
        'properties = excluded.properties, subscription_ids = excluded.subscription_ids, ' +
        'received_at = excluded.received_at',
    ),
    deleteInflight: db.prepare('DELETE FROM inflight WHERE client_id = ? AND packet_id = ?'),
    // A held id is written once per PUBLISH; a DUP resend of a held id writes nothing.
    saveInboundQos2: db.prepare(
      'INSERT OR REPLACE INTO inbound_qos2 (client_id, packet_id, topic, payload, retain, properties, received_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    saveCounter: db.prepare('INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)'),
    deleteInboundQos2: db.prepare('DELETE FROM inbound_qos2 WHERE client_id = ? AND packet_id = ?'),
  };
}

interface RetainedRow {
  topic: string;
  payload: Buffer | null;
  qos: number;
  retain: number;
  properties: string | null;
  received_at: number;
}

function rowToRetained(r: RetainedRow): Message {
  return rowToMessage(r, r.qos, r.retain);
}

interface SessionRow {
  client_id: string;
  protocol_version: number;
  username: string | null;
  expiry_interval: number;
  expires_at: number | null;
  will: string | null;
  will_due_at: number | null;
  listener: string | null;
}

function rowToRecord(r: SessionRow): SessionRecord {
  return {
    clientId: r.client_id,
    protocolVersion: r.protocol_version as SessionRecord['protocolVersion'],
    username: r.username ?? undefined,
    expiryInterval: r.expiry_interval,
    expiresAt: r.expires_at ?? undefined,
    will: r.will === null ? undefined : decodeJson(r.will),
    willDueAt: r.will_due_at ?? undefined,
    ...(r.listener === null ? {} : { listener: r.listener }),
  };
}

interface SubscriptionRow {
  client_id: string;
  filter: string;
  options: string;
}

interface InflightRow extends DeliveryRow {
  client_id: string;
  packet_id: number;
  state: string;
}

interface InboundRow {
  client_id: string;
  packet_id: number;
  topic: string | null;
  payload: Buffer | null;
  retain: number | null;
  properties: string | null;
  received_at: number | null;
}

interface QueueRow extends DeliveryRow {
  client_id: string;
  seq: number;
}
