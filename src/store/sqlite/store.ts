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
import { Committer } from './committer.js';
import { closedError } from './errors.js';
import { type LoadedState, loadState } from './load.js';
import type { SqliteStoreOptions, SqliteStoreStats } from './options.js';
import { prepareStatements, type QueueRow } from './statements.js';
import { type Op, WriteBatch } from './write-batch.js';

/**
 * The broker's Persistence in one SQLite file (WAL mode). Every write call is added, in call order, to
 * the write batch (write-batch.ts); the committer (committer.ts) commits it as one transaction when
 * the DurabilityPolicy says (see docs/persistence.md), and keeps and retries it when that fails.
 */
export class SqliteStore implements Persistence {
  /** Absolute or relative path of the database file. */
  readonly file: string;
  /** Where a damaged database was moved to at open (with onCorrupt: 'move-aside'). */
  readonly movedAside: string | undefined;
  readonly policy: DurabilityPolicy;

  private readonly db: Database.Database;
  private readonly st: ReturnType<typeof prepareStatements>;
  private readonly batch: WriteBatch;
  private readonly committer: Committer;
  private closed = false;
  /** The last queue seq per client: a seq is never reused. */
  private readonly seqs = new Map<string, number>();
  private nextOrd: number;

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
    this.st = prepareStatements(db);
    this.batch = new WriteBatch(db);
    const runOps = db.transaction((ops: Op[]) => {
      for (const op of ops)
        if (!op.skip) op.stmt.run(...(typeof op.args === 'function' ? op.args() : op.args));
    });
    this.committer = new Committer(this.policy, this.batch, (ops) => runOps(ops), {
      file,
      maxBatchOps: options.maxBatchOps ?? 1000,
      onError: options.onError,
      onRecovered: options.onRecovered,
    });
    for (const row of db.prepare('SELECT client_id, MAX(seq) AS seq FROM queue GROUP BY client_id').all() as {
      client_id: string;
      seq: number;
    }[]) {
      this.seqs.set(row.client_id, row.seq);
    }
    this.nextOrd =
      ((db.prepare('SELECT MAX(ord) AS ord FROM inflight').get() as { ord: number | null }).ord ?? 0) + 1;
  }

  // ---- reading ------------------------------------------------------------------------------------

  load(queueLimit?: number): LoadedState {
    this.assertOpen();
    const err = this.committer.commit();
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
    const statements = this.st.deleteSession;
    for (const [i, stmt] of statements.entries()) {
      // The last one marks the session's rows as gone (readQueue, the rows-on-disk set).
      this.record(
        stmt,
        [clientId],
        i === statements.length - 1 ? { clientId, effect: 'drop-client' } : undefined,
      );
    }
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
    const op = this.batch.addInsert(clientId, key, this.st.enqueue, () => [
      clientId,
      seq,
      ...deliveryArgs(delivery),
    ]);
    op.queued = { seq, delivery };
    this.committer.schedule();
    return seq;
  }

  dequeue(clientId: string, seq: number): void {
    this.deleteRow(clientId, `q${seq}`, this.st.dequeue, [clientId, seq]);
  }

  readQueue(clientId: string, afterSeq: number, limit: number): StoredQueued[] {
    this.assertOpen();
    if (limit <= 0) return [];
    // The pending writes (a failed batch waiting for its retry included) apply on top of the committed
    // rows, in call order.
    const overlay = this.batch.queueOverlay(clientId, afterSeq);
    const rows = new Map<number, StoredQueued>();
    if (!overlay.dropped) {
      let deletedAfter = 0;
      for (const seq of overlay.deleted) if (seq > afterSeq) deletedAfter++;
      for (const q of this.readCommittedQueue(clientId, afterSeq, limit + deletedAfter))
        if (!overlay.deleted.has(q.seq)) rows.set(q.seq, q);
    }
    for (const [seq, q] of overlay.inserted) rows.set(seq, q);
    return [...rows.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  private readCommittedQueue(clientId: string, afterSeq: number, limit: number): StoredQueued[] {
    return (this.st.readQueue.all(clientId, afterSeq, limit) as QueueRow[]).map((r) => ({
      seq: r.seq,
      delivery: rowToDelivery(r),
    }));
  }

  saveInflight(clientId: string, entry: StoredInflight): void {
    this.assertOpen();
    const key = `i${entry.packetId}`;
    // A state change of a row still in the batch replaces that insert and keeps its place.
    const earlier = this.batch.pendingInsert(clientId, key);
    this.batch.cancelInsert(clientId, key);
    const ord = earlier?.ord ?? this.nextOrd++;
    const op = this.batch.addInsert(clientId, key, this.st.saveInflight, () => [
      clientId,
      entry.packetId,
      ord,
      entry.state,
      ...deliveryArgs(entry.delivery),
    ]);
    op.ord = ord;
    this.committer.schedule();
  }

  deleteInflight(clientId: string, packetId: number): void {
    this.deleteRow(clientId, `i${packetId}`, this.st.deleteInflight, [clientId, packetId]);
  }

  private deleteRow(clientId: string, key: string, stmt: Database.Statement, args: unknown[]): void {
    this.assertOpen();
    this.batch.deleteRow(clientId, key, stmt, args);
    this.committer.schedule();
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

  afterDurable(done: (err?: Error) => void): void {
    this.committer.afterDurable(done);
  }

  whenCommitted(done: () => void): void {
    this.committer.whenCommitted(done);
  }

  /** True while the last commit failed (its writes wait for a retry). */
  get failing(): boolean {
    return this.committer.failing;
  }

  /** The failure the store is in, if any (its writes are kept and retried). */
  get writeError(): MothershipError | undefined {
    return this.committer.writeError;
  }

  /**
   * Commits everything pending now, then calls the afterDurable callbacks waiting for it (with the
   * error, if the commit failed). Returns that error.
   */
  flush(): MothershipError | undefined {
    return this.committer.flush();
  }

  stats(): SqliteStoreStats {
    return this.committer.stats();
  }

  /** Commits what is pending, calls waiting callbacks, closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      this.committer.close();
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  // ---- internals ----------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private record(stmt: Database.Statement, args: Op['args'], row?: Op['row']): Op {
    this.assertOpen();
    const op = this.batch.add(stmt, args, row);
    this.committer.schedule();
    return op;
  }
}
