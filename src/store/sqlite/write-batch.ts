import type Database from 'better-sqlite3';
import type { StoredQueued } from '../../broker/ports/persistence.js';

/** One write the broker made, waiting for its commit. */
export interface Op {
  stmt: Database.Statement;
  /** Row values, or a function making them at commit time (most message rows are never written). */
  args: unknown[] | (() => unknown[]);
  /** Set when a later delete in the same batch made this insert pointless (see `deleteRow`). */
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

/** What the uncommitted writes do to one session's queue, applied on top of the committed rows. */
export interface QueueOverlay {
  /** The session was deleted: no committed row counts. */
  dropped: boolean;
  /** Queue rows inserted and not committed, by seq (> afterSeq). */
  inserted: Map<number, StoredQueued>;
  /** Seqs of committed rows deleted by a pending write. */
  deleted: Set<number>;
}

/**
 * The writes not yet committed, in call order. A queue or in-flight row deleted while its insert is
 * still here never reaches the disk: a message acknowledged before its batch commits (the usual case
 * for an online subscriber) costs no write at all.
 */
export class WriteBatch {
  ops: Op[] = [];
  /** Inserts of queued and in-flight messages still in the batch, by row key and client. */
  private readonly inserts = new Map<string, Op>();
  /**
   * In-flight rows committed to disk, by client: a delete of a row never written is skipped. Queue rows
   * are not tracked (that would cost memory per queued message): a queue seq is never reused, so a queue
   * row whose insert is still in the batch has never been written.
   */
  private readonly onDisk = new Map<string, Set<string>>();

  constructor(db: Database.Database) {
    for (const row of db.prepare('SELECT client_id, packet_id FROM inflight').all() as {
      client_id: string;
      packet_id: number;
    }[]) {
      this.rowsOnDisk(row.client_id).add(`i${row.packet_id}`);
    }
  }

  add(stmt: Database.Statement, args: Op['args'], row?: Op['row']): Op {
    const op: Op = row ? { stmt, args, row } : { stmt, args };
    this.ops.push(op);
    return op;
  }

  /** A queue or in-flight row insert that a later delete (or state change) may cancel. */
  addInsert(clientId: string, key: string, stmt: Database.Statement, args: Op['args']): Op {
    const op = this.add(stmt, args, { clientId, key, effect: 'insert' });
    this.inserts.set(`${key}\0${clientId}`, op);
    return op;
  }

  /** The insert of this row still in the batch, if any. */
  pendingInsert(clientId: string, key: string): Op | undefined {
    return this.inserts.get(`${key}\0${clientId}`);
  }

  /** Drops the batch's insert of this row (skipped at commit); true when there was one. */
  cancelInsert(clientId: string, key: string): boolean {
    const op = this.inserts.get(`${key}\0${clientId}`);
    if (!op) return false;
    op.skip = true;
    this.inserts.delete(`${key}\0${clientId}`);
    return true;
  }

  /**
   * A row deleted: its insert still in the batch is skipped, and the delete too unless an older
   * version of the row is on disk.
   */
  deleteRow(clientId: string, key: string, stmt: Database.Statement, args: unknown[]): void {
    const cancelled = this.cancelInsert(clientId, key);
    if (cancelled && (key.startsWith('q') || !this.onDisk.get(clientId)?.has(key))) return;
    this.add(stmt, args, { clientId, key, effect: 'delete' });
  }

  /** Takes every op for a commit: rows in it are about to be written, so later deletes must reach the disk. */
  take(): Op[] {
    const ops = this.ops;
    this.ops = [];
    this.inserts.clear();
    return ops;
  }

  /** The commit of `ops` failed: they go back ahead of anything written since, to be retried. */
  putBack(ops: Op[]): void {
    this.ops = ops.concat(this.ops);
  }

  /** The commit of `ops` succeeded: which in-flight rows are now on disk. */
  committed(ops: Op[]): void {
    for (const op of ops) {
      const row = op.row;
      if (!row || op.skip || (row.effect !== 'drop-client' && row.key.startsWith('q'))) continue;
      if (row.effect === 'drop-client') this.onDisk.delete(row.clientId);
      else if (row.effect === 'insert') this.rowsOnDisk(row.clientId).add(row.key);
      else this.onDisk.get(row.clientId)?.delete(row.key);
    }
  }

  /** What the pending writes (a failed batch waiting for its retry included) do to one queue. */
  queueOverlay(clientId: string, afterSeq: number): QueueOverlay {
    const overlay: QueueOverlay = { dropped: false, inserted: new Map(), deleted: new Set() };
    for (const op of this.ops) {
      const row = op.row;
      if (!row || row.clientId !== clientId) continue;
      if (row.effect === 'drop-client') {
        overlay.dropped = true;
        overlay.inserted.clear();
        overlay.deleted.clear();
      } else if (!op.skip && op.queued && op.queued.seq > afterSeq) {
        overlay.inserted.set(op.queued.seq, op.queued);
      } else if (row.effect === 'delete' && row.key.startsWith('q')) {
        const seq = Number(row.key.slice(1));
        if (!overlay.inserted.delete(seq)) overlay.deleted.add(seq);
      }
    }
    return overlay;
  }

  private rowsOnDisk(clientId: string): Set<string> {
    let rows = this.onDisk.get(clientId);
    if (!rows) {
      rows = new Set();
      this.onDisk.set(clientId, rows);
    }
    return rows;
  }
}
