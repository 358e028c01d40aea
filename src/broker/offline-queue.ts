/**
 * A session's queue of messages waiting for room in its in-flight window. Without a journal it is an
 * array in memory. With one (a persistent session and a store), every message is written to the
 * journal, only a window of the head is kept in memory, and the rest is paged in as the client drains
 * it, in the order queued, exactly once. The journal's reads may be asynchronous (a networked store):
 * while a read is under way nothing is sent past the point where its rows belong.
 */
import type { Delivery, StoredQueued } from './ports/persistence.js';

export interface QueuedDelivery {
  delivery: Delivery;
  /** Position in the journal, when the session is journaled. */
  seq: number | undefined;
}

/** What the queue needs of the session's journal (see the Persistence port). */
export interface QueueJournal {
  enqueue(clientId: string, delivery: Delivery): number;
  dequeue(clientId: string, seq: number): void;
  /** Up to `limit` queued rows with seq > `afterSeq`, in seq order (also rows not yet committed). */
  readQueue(clientId: string, afterSeq: number, limit: number): StoredQueued[] | Promise<StoredQueued[]>;
}

/** A failed asynchronous read is tried again after this long (the store retries its own writes too). */
const READ_RETRY_MS = 1000;

export class OfflineQueue {
  /** The head of the queue, in order (with a journal at most one window of it). */
  readonly items: QueuedDelivery[] = [];
  /** Queued messages only in the journal, after everything in `items`. */
  onDisk = 0;
  /** The last journal seq brought into `items`: rows after it are paged in from the journal. */
  private pagedSeq = 0;
  /** An asynchronous read of the journal is under way. */
  private reading = false;
  /** While reading: how many of `items` come before the rows being read (nothing passes them). */
  private ahead = 0;
  /** Set when the journal was dropped during a read: the rest of its rows is read after that one. */
  private dropping: QueueJournal | undefined;

  constructor(
    private readonly clientId: string,
    /** Messages kept in memory when journaled (BrokerOptions.queueWindow). */
    private readonly window: () => number,
    /** Rows of an asynchronous read arrived: the session can send again. */
    private readonly onPaged: () => void,
  ) {}

  get count(): number {
    return this.items.length + this.onDisk;
  }

  /** State read back at start: the head in memory and how many rows stay in the journal after it. */
  restore(queued: Iterable<QueuedDelivery>, onDisk: number): void {
    for (const q of queued) {
      this.items.push(q);
      if (q.seq !== undefined && q.seq > this.pagedSeq) this.pagedSeq = q.seq;
    }
    this.onDisk = onDisk;
  }

  push(delivery: Delivery, journal: QueueJournal | undefined): QueuedDelivery {
    if (!journal) {
      const entry = { delivery, seq: undefined };
      this.items.push(entry);
      return entry;
    }
    const seq = journal.enqueue(this.clientId, delivery);
    if (this.onDisk > 0 || this.items.length >= this.window()) {
      // Only in the journal until the client drains what is before it.
      this.onDisk++;
      return { delivery, seq };
    }
    const entry = { delivery, seq };
    this.items.push(entry);
    this.pagedSeq = seq;
    return entry;
  }

  /**
   * Takes a queued message out unsent (a bounded queue dropping its oldest): its seq when journaled,
   * else the entry itself. False when it is no longer queued, or a page of the journal is being read.
   */
  remove(key: number | QueuedDelivery, journal: QueueJournal | undefined): boolean {
    if (this.reading) return false;
    const seq = typeof key === 'number' ? key : key.seq;
    const i = this.items.findIndex((q) => (seq === undefined ? q === key : q.seq === seq));
    if (i >= 0) this.items.splice(i, 1);
    else if (seq === undefined || this.onDisk === 0 || seq <= this.pagedSeq) return false;
    else this.onDisk--; // a row only in the journal (rows after pagedSeq are exactly those)
    if (seq !== undefined) journal?.dequeue(this.clientId, seq);
    return true;
  }

  /**
   * The next message to send, or undefined: nothing is queued, or the next rows are still being read.
   * Its row is dequeued unless `dequeue` is false (the caller deletes it later: Session.keptRowDone).
   */
  shift(journal: QueueJournal | undefined, dequeue = true): QueuedDelivery | undefined {
    if (this.reading && this.ahead === 0) return undefined;
    if (this.items.length === 0 && !this.pageIn(journal, this.window(), false)) return undefined;
    const next = this.items.shift()!;
    if (this.reading) this.ahead--;
    if (dequeue && next.seq !== undefined) journal?.dequeue(this.clientId, next.seq);
    return next;
  }

  /**
   * The session stops being journaled: its whole queue moves into memory before the journal's copy
   * is deleted (the read is issued now, so it sees the rows whatever the journal does next).
   */
  dropJournal(journal: QueueJournal | undefined): void {
    if (this.reading) {
      // A page-in is under way: the rest is read when it lands (see land()).
      this.dropping = journal;
      return;
    }
    this.pageIn(journal, this.onDisk, true);
    if (!this.reading) this.onDisk = 0;
  }

  /** Brings the next rows of the journal into `items`; true when they came synchronously. */
  private pageIn(journal: QueueJournal | undefined, limit: number, all: boolean): boolean {
    if (!journal || this.onDisk === 0 || this.reading) return false;
    const rows = journal.readQueue(this.clientId, this.pagedSeq, Math.max(1, Math.min(limit, this.onDisk)));
    if (!(rows instanceof Promise)) return this.take(rows, this.items.length);
    this.reading = true;
    this.ahead = this.items.length;
    rows.then(
      (r) => this.land(r, all),
      () => {
        this.reading = false;
        if (all) {
          // The journal's copy is being deleted: these rows cannot be read again.
          this.onDisk = 0;
          this.onPaged();
          return;
        }
        // The rows are still in the journal: try again shortly.
        setTimeout(this.onPaged, READ_RETRY_MS).unref();
      },
    );
    return false;
  }

  private land(rows: StoredQueued[], all: boolean): void {
    this.reading = false;
    this.take(rows, this.ahead);
    if (all) this.onDisk = 0;
    const dropped = this.dropping;
    if (dropped) {
      this.dropping = undefined;
      this.dropJournal(dropped);
    }
    this.onPaged();
  }

  /** Puts rows at `at` (before anything queued in memory since the read began). */
  private take(rows: StoredQueued[], at: number): boolean {
    if (rows.length === 0) {
      // The journal has nothing more (it was cleared under us): nothing is left to page.
      this.onDisk = 0;
      return false;
    }
    this.items.splice(at, 0, ...rows.map((r) => ({ delivery: r.delivery, seq: r.seq })));
    this.pagedSeq = rows[rows.length - 1]!.seq;
    this.onDisk = Math.max(0, this.onDisk - rows.length);
    return true;
  }
}
