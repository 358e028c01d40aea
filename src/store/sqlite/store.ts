import type Database from 'better-sqlite3';
import type {
  Delivery,
  DurabilityPolicy,
  Persistence,
  SessionRecord,
  StoredInflight,
  StoredQueued,
} from '../../broker/ports/persistence.js';
import type { Message, SubscriptionOptions } from '../../broker/types.js';
import type { MothershipError } from '../../errors.js';
import { deliveryArgs, encodeJson, rowToDelivery, toBlob } from './codec.js';
import { closedError, writeError } from './errors.js';
import { type LoadedState, loadState } from './load.js';
import type { SqliteStoreOptions, SqliteStoreStats } from './options.js';
import { prepareStatements, type QueueRow } from './statements.js';

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

  load(queueLimit?: number): LoadedState {
    this.assertOpen();
    const err = this.commitPending();
    if (err) throw err;
    return loadState(this.db, (clientId, limit) => this.readCommittedQueue(clientId, 0, limit), queueLimit);
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
