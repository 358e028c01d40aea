/**
 * The history's writing side, run in its own thread (history-worker.ts) so that parsing payloads and
 * committing batches never hold up the broker: it owns the only connection that writes history.db,
 * parses each handed-over message into fields, commits what it holds when told (about once a second),
 * and runs retention and the size cap in slices after each timed commit.
 */
import type Database from 'better-sqlite3';
import { BatchWriter } from './batch-writer.js';
import { DisconnectWriter, type LoggedDisconnect } from './disconnect-log.js';
import { openHistoryWriter } from './history-db.js';
import type { PackedBatch } from './message-batch.js';
import type { ResolvedHistoryOptions } from './options.js';
import { type RetentionResult, RetentionSweeper } from './retention.js';

/** The options the worker gets: the resolved ones without the functions, which stay on the broker's thread. */
export type WriterThreadOptions = Omit<ResolvedHistoryOptions, 'now' | 'onError'>;

/** Running totals the writer reports after every request. */
export interface WriterCounts {
  /** Messages committed or lost with a failed commit: pending = recorded - processed. */
  processed: number;
  samples: number;
  commits: number;
  droppedSeries: number;
  failedMessages: number;
}

/** What the broker's thread asks: `tick` is the timer's commit plus a retention slice. */
export type WriterOp = 'commit' | 'tick' | 'sweep' | 'close';

export type ToWriter =
  | { type: 'batch'; batch: PackedBatch }
  | { type: 'disconnect'; disconnect: LoggedDisconnect }
  | { type: 'run'; op: WriterOp; id: number; now: number };

export type FromWriter =
  | { type: 'done'; id: number; counts: WriterCounts; result?: RetentionResult }
  | { type: 'error'; message: string };

export class HistoryWriter {
  private readonly db: Database.Database;
  private readonly writer: BatchWriter;
  private readonly retention: RetentionSweeper;
  private readonly disconnects: DisconnectWriter;
  /** Hand-overs waiting for the next commit, kept packed: parsed and written together then. */
  private pending: PackedBatch[] = [];
  private pendingDisconnects: LoggedDisconnect[] = [];
  private readonly counts: WriterCounts = {
    processed: 0,
    samples: 0,
    commits: 0,
    droppedSeries: 0,
    failedMessages: 0,
  };

  constructor(
    file: string,
    options: WriterThreadOptions,
    private readonly onError: (error: Error) => void,
  ) {
    this.db = openHistoryWriter(file);
    this.writer = new BatchWriter(this.db, options);
    this.retention = new RetentionSweeper(this.db, options);
    this.disconnects = new DisconnectWriter(this.db);
    // Samples a crash left in the journal (committed, not yet folded) go where queries read them.
    this.foldNow();
  }

  /** A client's disconnect, written with the next commit. */
  addDisconnect(d: LoggedDisconnect): void {
    this.pendingDisconnects.push(d);
  }

  /**
   * A hand-over of messages: it waits for the next commit as it came, and is parsed and written then,
   * so that no object per message lives until the commit (and through the collections meanwhile).
   */
  add(batch: PackedBatch): void {
    this.pending.push(batch);
  }

  run(op: WriterOp, now: number): RetentionResult | undefined {
    // A query, a sweep or close sees everything folded; so does the retention slice after a tick.
    this.commit(op !== 'tick' || this.retention.due(now));
    if (op === 'close') this.db.close();
    // Not over samples still in the journal (a fold that failed): retention would take a series whose
    // samples are all there for an empty one and delete it.
    else if ((op === 'tick' || op === 'sweep') && this.writer.folded) return this.sweep(op, now);
    return undefined;
  }

  report(): WriterCounts {
    return { ...this.counts };
  }

  private commit(fold: boolean): void {
    if (this.pendingDisconnects.length > 0) {
      const disconnects = this.pendingDisconnects;
      this.pendingDisconnects = [];
      try {
        this.db.transaction(() => this.disconnects.write(disconnects))();
      } catch (err) {
        this.onError(err as Error);
      }
    }
    if (this.pending.length === 0) {
      if (fold) this.foldNow();
      return;
    }
    const batches = this.pending;
    this.pending = [];
    let messages = 0;
    for (const b of batches) messages += b.count;
    try {
      const counts = this.writer.write(batches, fold);
      this.counts.samples += counts.samples;
      this.counts.droppedSeries += counts.droppedSeries;
      this.counts.commits++;
      this.reportDamage();
    } catch (err) {
      // History is best effort: a batch the disk refuses is counted and reported, not retried for ever.
      this.counts.failedMessages += messages;
      this.onError(err as Error);
    } finally {
      this.counts.processed += messages;
    }
  }

  private foldNow(): void {
    try {
      this.writer.fold();
    } catch (err) {
      this.onError(err as Error); // left in the journal: the next commit tries again
    }
    this.reportDamage();
  }

  /** Says once per replay how many journal rows could not be read (their samples are lost). */
  private reportDamage(): void {
    const n = this.writer.damagedJournalRows;
    if (n === 0) return;
    this.writer.damagedJournalRows = 0;
    this.onError(
      new Error(
        `${n} damaged row(s) of the history's sample journal could not be read; their samples are lost`,
      ),
    );
  }

  private sweep(op: 'tick' | 'sweep', now: number): RetentionResult | undefined {
    try {
      const result = op === 'tick' ? this.retention.tick(now) : this.retention.sweep(now);
      // Rows the writer has cached ids or counts for may be gone.
      if (result.deletedMessages + result.deletedSeries + result.deletedTopics > 0) this.writer.forget();
      return result;
    } catch (err) {
      this.onError(err as Error);
      return undefined;
    }
  }
}
