import type { DurabilityPolicy } from '../../broker/ports/persistence.js';
import type { MothershipError } from '../../errors.js';
import { closedError, writeError } from './errors.js';
import type { SqliteStoreStats } from './options.js';
import type { Op, WriteBatch } from './write-batch.js';

type Callback = (err?: Error) => void;

/**
 * When the write batch is committed, and who hears of it (docs/persistence.md): under `grouped` within
 * `maxDelayMs` of the first write, under `every-message` before each acknowledgement, under `periodic`
 * every interval. A commit that fails (no space, an I/O error, anything else) is rolled back and its
 * writes go back to the batch, retried every second: the file never skips a write the broker made, so
 * it catches up with the broker's memory (issue 8, hole 4). While writes fail, afterDurable answers
 * with the error at once (the broker acknowledges nothing) and whenCommitted waits for the retry that
 * succeeds.
 */
export class Committer {
  readonly counters = { transactions: 0, failedTransactions: 0, failureEpisodes: 0, opsCommitted: 0 };
  /** Callbacks waiting for the next commit, told its outcome (afterDurable). */
  private waiters: Callback[] = [];
  /** Callbacks that wait for a successful commit however many retries it takes (whenCommitted). */
  private patient: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  /** Set while the last commit failed; cleared by the next successful one. */
  private lastError: MothershipError | undefined;
  private failingSince = 0;
  private closed = false;

  constructor(
    private readonly policy: DurabilityPolicy,
    private readonly batch: WriteBatch,
    /** Runs the ops in one transaction (throws when it fails). */
    private readonly runOps: (ops: Op[]) => void,
    private readonly options: {
      file: string;
      maxBatchOps: number;
      onError: ((err: MothershipError) => void) | undefined;
      onRecovered: ((failedForMs: number) => void) | undefined;
    },
  ) {
    if (policy.mode === 'periodic') {
      this.interval = setInterval(() => this.flush(), Math.max(1, policy.intervalSeconds) * 1000);
      this.interval.unref();
    }
  }

  /** A write was added to the batch: arrange its commit under the policy. */
  schedule(): void {
    // While writes fail, only the retry timer commits: a failing commit per write would spin.
    if (this.lastError !== undefined) return;
    if (this.batch.ops.length >= this.options.maxBatchOps) {
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
        const err = this.batch.ops.length > 0 ? this.commit() : undefined;
        setImmediate(() => done(err));
        return;
      }
      case 'grouped': {
        if (this.batch.ops.length === 0) {
          setImmediate(() => done());
          return;
        }
        this.waiters.push(done);
        this.scheduleGrouped();
        return;
      }
    }
  }

  /** See Persistence.whenCommitted; never called after close(). */
  whenCommitted(done: () => void): void {
    if (this.closed) return;
    if (this.lastError === undefined && (this.batch.ops.length === 0 || this.policy.mode === 'periodic')) {
      setImmediate(done);
      return;
    }
    this.patient.push(done);
    if (this.lastError !== undefined) return; // the retry timer commits
    if (this.policy.mode === 'every-message') this.scheduleSoon();
    else this.scheduleGrouped();
  }

  get failing(): boolean {
    return this.lastError !== undefined;
  }

  get writeError(): MothershipError | undefined {
    return this.lastError;
  }

  stats(): SqliteStoreStats {
    return { ...this.counters, pendingOps: this.batch.ops.length };
  }

  /** Commits everything pending now, then tells the afterDurable callbacks; returns the error, if any. */
  flush(): MothershipError | undefined {
    if (this.closed) return undefined;
    this.clearScheduled();
    const waiters = this.waiters;
    this.waiters = [];
    const err = this.commit();
    callAll(waiters, err);
    return err;
  }

  /** Flushes once more and stops every timer; the caller closes the file. */
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
      this.batch.take();
      this.patient = [];
    }
  }

  /** One transaction with every pending op. On failure the ops go back to the batch, retried every second. */
  commit(): MothershipError | undefined {
    if (this.batch.ops.length === 0) {
      if (this.patient.length > 0) this.committed();
      return undefined;
    }
    const ops = this.batch.take();
    try {
      this.runOps(ops);
      this.batch.committed(ops);
    } catch (cause) {
      this.counters.failedTransactions++;
      const err = writeError(this.options.file, cause);
      // Never skip a write: memory already reflects it, so the disk must catch up.
      this.batch.putBack(ops);
      this.scheduleRetry();
      const previous = this.lastError;
      this.lastError = err;
      if (!previous) {
        this.failingSince = Date.now();
        this.counters.failureEpisodes++;
      }
      if (!previous || previous.code !== err.code) this.options.onError?.(err);
      return err;
    }
    this.counters.transactions++;
    this.counters.opsCommitted += ops.filter((op) => !op.skip).length;
    if (this.lastError) {
      this.lastError = undefined;
      this.options.onRecovered?.(Date.now() - this.failingSince);
    }
    this.committed();
    return undefined;
  }

  private committed(): void {
    const patient = this.patient;
    this.patient = [];
    callAll(patient, undefined);
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

  /** After a failed commit, try again in a second even when no new write comes along. */
  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      if (this.batch.ops.length > 0) this.flush();
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
