/**
 * The bounds of a bridge's store-and-forward queue (bridge_queue_max_messages, _bytes, _age): when a
 * new message would not fit, the oldest queued QoS 0 message goes first, then the oldest QoS 1/2 one
 * (a new QoS 0 message never pushes out a QoS 1/2 one); messages older than the age bound go too.
 * It keeps an index of the queue (position, size, age; no payloads: most of a long queue stays on disk)
 * and drops through the session, so the journal's rows go with them. Every drop is counted.
 */
import type { Delivery, QueueBound, QueuedDelivery, Session } from '../broker/session.js';

export interface QueueLimits {
  /** 0: no limit. */
  maxMessages: number;
  /** Topic and payload bytes (0: no limit). */
  maxBytes: number;
  /** Milliseconds a message may wait (0: no limit). */
  maxAgeMs: number;
}

export type QueueDrop = 'queueFull' | 'tooOld';

/** A queued message's key for Session.dropQueued: its journal seq, else the entry itself. */
type Key = number | QueuedDelivery;

function keyOf(entry: QueuedDelivery): Key {
  return entry.seq ?? entry;
}

function sizeOf(d: Delivery): number {
  return Buffer.byteLength(d.message.topic) + d.message.payload.length;
}

/** One class of queued messages, oldest first (parallel arrays: a million entries stay small). */
class Fifo {
  private keys: Key[] = [];
  private sizes: number[] = [];
  private times: number[] = [];
  private head = 0;

  get length(): number {
    return this.keys.length - this.head;
  }

  push(key: Key, size: number, at: number): void {
    this.keys.push(key);
    this.sizes.push(size);
    this.times.push(at);
  }

  get key(): Key | undefined {
    return this.keys[this.head];
  }

  get at(): number {
    return this.times[this.head] ?? Number.POSITIVE_INFINITY;
  }

  /** Takes the head off; its size. */
  shift(): number {
    const size = this.sizes[this.head]!;
    this.head++;
    if (this.head >= 4096 && this.head * 2 >= this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return size;
  }
}

export class BridgeQueue implements QueueBound {
  private readonly qos0 = new Fifo();
  private readonly qos12 = new Fifo();
  /** Topic and payload bytes of the messages indexed. */
  bytes = 0;
  private ageTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: Session,
    private readonly limits: QueueLimits,
    private readonly dropped: (why: QueueDrop) => void,
  ) {}

  /** Bounds the session's queue from now on, what it holds already included; age checked every second. */
  start(): void {
    this.index();
    this.session.queueBound = this;
    if (this.limits.maxAgeMs === 0) return;
    this.ageTimer = setInterval(() => this.expire(Date.now()), 1000);
    this.ageTimer.unref();
  }

  /** The bridge stops; its session (the queue) may live on for the next start. */
  stop(): void {
    clearInterval(this.ageTimer);
    if (this.session.queueBound === this) this.session.queueBound = undefined;
  }

  /**
   * Indexes what the session already queues (restored after a restart, kept across a reload), then
   * trims it to the bounds (they may have shrunk).
   */
  private index(): void {
    const s = this.session;
    let last = 0;
    for (const q of s.queue) {
      this.queued(q);
      last = q.seq ?? last;
    }
    const journal = s.journal;
    for (let left = s.queuedOnDisk; journal && left > 0; ) {
      const rows = journal.readQueue(s.clientId, last, Math.min(left, 1000));
      // A store answering asynchronously: the rows it holds stay unindexed, bounded by count only.
      if (rows instanceof Promise || rows.length === 0) break;
      for (const r of rows) this.queued(r);
      last = rows[rows.length - 1]!.seq;
      left -= rows.length;
    }
    this.expire(Date.now());
    while (this.over(0, 0) && this.dropOldest(true)) {}
  }

  admit(delivery: Delivery): boolean {
    this.expire(Date.now());
    const size = sizeOf(delivery);
    const fits = this.limits.maxBytes === 0 || size <= this.limits.maxBytes;
    while (fits && this.over(1, size)) if (!this.dropOldest(delivery.qos > 0)) break;
    if (fits && !this.over(1, size)) return true;
    this.dropped('queueFull');
    return false;
  }

  queued(entry: QueuedDelivery): void {
    const size = sizeOf(entry.delivery);
    this.bytes += size;
    (entry.delivery.qos === 0 ? this.qos0 : this.qos12).push(
      keyOf(entry),
      size,
      entry.delivery.message.receivedAt,
    );
  }

  sent(entry: QueuedDelivery): void {
    const key = keyOf(entry);
    // The head of the queue is the head of one class (an unindexed one is neither).
    for (const fifo of [this.qos0, this.qos12])
      if (fifo.length > 0 && fifo.key === key) {
        this.bytes -= fifo.shift();
        return;
      }
  }

  /** Drops what waited longer than the age bound. */
  expire(now: number): void {
    if (this.limits.maxAgeMs === 0) return;
    const before = now - this.limits.maxAgeMs;
    for (const fifo of [this.qos0, this.qos12])
      while (fifo.length > 0 && fifo.at < before) this.drop(fifo, 'tooOld');
  }

  private over(extra: number, size: number): boolean {
    const { maxMessages, maxBytes } = this.limits;
    return (
      (maxMessages > 0 && this.session.queuedCount + extra > maxMessages) ||
      (maxBytes > 0 && this.bytes + size > maxBytes)
    );
  }

  /** The oldest QoS 0 message, else (when `mayDropQos12`) the oldest QoS 1/2 one; false: none. */
  private dropOldest(mayDropQos12: boolean): boolean {
    if (this.qos0.length > 0) return this.drop(this.qos0, 'queueFull');
    if (mayDropQos12 && this.qos12.length > 0) return this.drop(this.qos12, 'queueFull');
    return false;
  }

  private drop(fifo: Fifo, why: QueueDrop): boolean {
    const key = fifo.key!;
    this.bytes -= fifo.shift();
    // False only while an asynchronous store reads a page: the message is sent after all.
    if (!this.session.dropQueued(key)) return false;
    this.dropped(why);
    return true;
  }
}
