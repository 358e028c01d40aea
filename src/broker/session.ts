import type { DeliveryTracker } from './delivery-tracker.js';
import { OfflineQueue, type QueuedDelivery } from './offline-queue.js';
import type { Delivery, InflightState, Will } from './ports/persistence.js';
import type { Message, SubscriptionOptions } from './types.js';

export type { QueuedDelivery } from './offline-queue.js';
export type { Delivery, InflightState, Will } from './ports/persistence.js';

import type {
  InflightEntry,
  QueueBound,
  SessionJournal,
  SessionLimits,
  SessionLink,
} from './session-types.js';

export * from './session-types.js';

export interface SessionCounters {
  onDropped(reason: 'queue-full' | 'expired' | 'too-large', delivery: Delivery): void;
  /** The session holds in-flight entries whose rows are not written yet: call writeUnwritten later. */
  onUnwritten(session: Session): void;
}

/**
 * The broker's state for one client id: it outlives connections when the client asked for a
 * persistent session. Outbound QoS 1/2 messages go through a window of in-flight packet ids sized by
 * the client's Receive Maximum; what does not fit waits in a bounded queue.
 */
export class Session {
  readonly subscriptions = new Map<string, SubscriptionOptions>();
  readonly inflight = new Map<number, InflightEntry>();
  /** Messages waiting for room in the in-flight window (with a journal, mostly on disk). */
  private readonly offline: OfflineQueue;
  /**
   * Inbound QoS 2 packet ids received but not yet released, with the message routed at PUBREL
   * (undefined: nothing to route, e.g. refused). Holding the message until PUBREL (the spec's method A,
   * as mosquitto does) means a refused or undurable message is never delivered, and the id, the
   * message and later its deliveries are each durable together (issue 8, holes 1 and 2).
   */
  readonly inboundQos2 = new Map<number, Message | undefined>();
  link: SessionLink | undefined;
  /** Username of the last connection, for ACL checks while the client is offline. */
  username: string | undefined;
  /** Listener of the last connection, for per-listener ACL checks while the client is offline. */
  listener: string | undefined;
  /** Seconds the session lives after its connection ends (0: it ends with the connection). */
  expiryInterval = 0;
  /** Epoch ms when the offline session expires, when it is offline and will expire. */
  expiresAt: number | undefined;
  will: Will | undefined;
  /** Epoch ms when a delayed will is due, while one is pending. */
  willDueAt: number | undefined;
  /** Set while the session outlives its connection (expiry > 0) and the broker has persistence. */
  journal: SessionJournal | undefined;
  /**
   * Where a session that ends with its connection keeps its inbound QoS 2 messages and its will, so a
   * crash neither loses an acknowledged message nor forgets the will (set with persistence).
   */
  recorder: SessionJournal | undefined;
  /** True once the store holds a row for this session (its record, or inbound QoS 2 state). */
  recorded = false;
  queueBound: QueueBound | undefined;
  /**
   * Set by a client whose far side resends from its queue after a restart anyway (a bridge's local
   * side): a QoS 1 message taken from the journaled queue keeps its queue row as its only record while
   * in flight (no in-flight row to write and delete), and at its PUBACK the row is handed to this
   * callback to be dequeued (a bridge deletes them in groups). One write per message instead of three.
   */
  keptRowDone: ((seq: number) => void) | undefined;
  /** In-flight entries standing on their queue row: new messages queue behind them (restart order). */
  private kept = 0;
  private nextPacketId = 1;
  /** In-flight entries sent without their row (see DeliveryTracker), in the order they were sent. */
  private unwritten: { packetId: number; entry: InflightEntry; sentAt: number }[] = [];

  constructor(
    readonly clientId: string,
    private limits: SessionLimits,
    private readonly counters: SessionCounters,
    /** Protocol version of the last connection; decides how messages are queued and resent. */
    public protocolVersion: 3 | 4 | 5 = 4,
  ) {
    this.offline = new OfflineQueue(
      clientId,
      () => Math.max(1, this.limits.queueWindow), // at least one, so a misconfigured 0 still pages
      () => this.pump(Date.now()),
    );
  }

  /** Limits of this session's own instead of the broker's (an in-process bridge queues far more). */
  useLimits(limits: Partial<SessionLimits>): void {
    this.limits = { ...this.limits, ...limits };
  }

  /** The head of the queue, in memory (with a journal at most one window of it). */
  get queue(): readonly QueuedDelivery[] {
    return this.offline.items;
  }

  /** Queued messages only in the journal, after `queue`. */
  get queuedOnDisk(): number {
    return this.offline.onDisk;
  }

  /** An inbound QoS 2 message arrived: its id (and the message, routed at PUBREL) is held [MQTT-4.3.3-9]. */
  holdInboundQos2(packetId: number, message: Message | undefined): void {
    this.inboundQos2.set(packetId, message);
    const store = this.journal ?? this.recorder;
    if (!store) return;
    store.saveInboundQos2(this.clientId, packetId, message);
    this.recorded = true;
  }

  /** PUBREL (or a refusal): the id is free again; returns the message to route, if any. */
  releaseInboundQos2(packetId: number): Message | undefined {
    const message = this.inboundQos2.get(packetId);
    if (!this.inboundQos2.delete(packetId)) return undefined;
    (this.journal ?? this.recorder)?.deleteInboundQos2(this.clientId, packetId);
    return message;
  }

  /** Restores state read back from persistence at start (the session is offline). */
  restore(
    inflight: Iterable<[number, InflightEntry]>,
    queued: Iterable<QueuedDelivery>,
    inboundQos2: Iterable<[number, Message | undefined]>,
    /** Queued rows left in the journal after `queued` (they are paged in later). */
    queuedOnDisk = 0,
  ): void {
    for (const [id, entry] of inflight) {
      this.inflight.set(id, entry);
      if (id >= this.nextPacketId) this.nextPacketId = id === 65535 ? 1 : id + 1;
    }
    this.offline.restore(queued, queuedOnDisk);
    for (const [id, message] of inboundQos2) this.inboundQos2.set(id, message);
  }

  get online(): boolean {
    return this.link !== undefined;
  }

  /** Messages queued for this session, in memory and in the journal. */
  get queuedCount(): number {
    return this.offline.count;
  }

  /**
   * The session stops being journaled (it no longer outlives its connection): its whole queue moves
   * into memory before the journal's copy is deleted.
   */
  dropJournal(): void {
    this.offline.dropJournal(this.journal);
    this.journal = undefined;
    this.writeUnwritten(Number.POSITIVE_INFINITY); // without a journal: nothing to keep, publishers released
  }

  private window(): number {
    const link = this.link;
    const max = this.limits.maxInflightMessages > 0 ? this.limits.maxInflightMessages : 65535;
    return link ? Math.min(max, link.receiveMaximum) : max;
  }

  private allocatePacketId(): number {
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
    throw new Error('no free packet identifier');
  }

  /**
   * Hands a message to this session: sent now, queued, or dropped and counted. `bounded: false` is for
   * retained messages sent on subscribe: the client asked for them and the retained set bounds them,
   * so max_queued_messages does not drop them.
   */
  deliver(delivery: Delivery, now: number, bounded = true, tracker?: DeliveryTracker): void {
    const link = this.link;
    if (delivery.qos === 0) {
      if (link) {
        if (!link.sendPublish(delivery, undefined, false)) this.counters.onDropped('too-large', delivery);
      } else if (this.limits.queueQos0Messages) this.enqueue(delivery, bounded, tracker);
      return;
    }
    if (link && this.queuedCount === 0 && this.kept === 0 && this.inflight.size < this.window()) {
      this.sendFromWindow(delivery, now, tracker);
      return;
    }
    this.enqueue(delivery, bounded, tracker);
  }

  private enqueue(delivery: Delivery, bounded: boolean, tracker?: DeliveryTracker): void {
    const max = this.limits.maxQueuedMessages;
    const bound = this.queueBound;
    if (bounded && (bound ? !bound.admit(delivery) : max > 0 && this.queuedCount >= max)) {
      this.counters.onDropped('queue-full', delivery);
      return;
    }
    if (this.journal) tracker?.needsCommit();
    const entry = this.offline.push(delivery, this.journal);
    bound?.queued(entry);
  }

  /** Drops a queued message unsent (for the QueueBound); false when it is no longer queued. */
  dropQueued(key: number | QueuedDelivery): boolean {
    return this.offline.remove(key, this.journal);
  }

  private sendFromWindow(
    delivery: Delivery,
    now: number,
    tracker?: DeliveryTracker,
    /** The queue row it came from, kept while it is in flight (keptRowDone). */
    keptSeq?: number,
  ): void {
    if (isExpired(delivery.message, now)) {
      this.counters.onDropped('expired', delivery);
      this.dropKept(keptSeq);
      return;
    }
    const link = this.link!;
    if (delivery.qos === 0) {
      if (!link.sendPublish(delivery, undefined, false)) this.counters.onDropped('too-large', delivery);
      return;
    }
    const packetId = this.allocatePacketId();
    const journal = this.journal;
    if (journal && delivery.qos === 2) {
      // A QoS 2 PUBLISH goes out only once its in-flight row is durable: the client keeps the packet id
      // until PUBREL, so a broker restarted without the row could give that id to another message,
      // which the client would take for a resend and drop (exactly once needs the sender's state).
      const entry: InflightEntry = { delivery, state: 'awaiting-pubrec', unsent: true };
      this.inflight.set(packetId, entry);
      this.writeUnwritten(Number.POSITIVE_INFINITY);
      journal.saveInflight(this.clientId, { packetId, delivery, state: entry.state });
      tracker?.needsCommit();
      journal.whenCommitted(() => {
        const current = this.link;
        if (this.inflight.get(packetId) !== entry || !entry.unsent || !current) return;
        if (entry.state !== 'awaiting-pubrec') return;
        entry.unsent = false;
        // (Offline by now: attach() resends it with DUP.) Too big for the client: discarded [MQTT-3.1.2-25].
        if (!current.sendPublish(delivery, packetId, false)) {
          this.counters.onDropped('too-large', delivery);
          this.acknowledge(packetId, Date.now());
        }
      });
      return;
    }
    if (!link.sendPublish(delivery, packetId, false)) {
      // [MQTT-3.1.2-25]: a message too big for the client is discarded as if it had been delivered.
      this.counters.onDropped('too-large', delivery);
      this.dropKept(keptSeq);
      return;
    }
    const state: InflightState = delivery.qos === 1 ? 'awaiting-puback' : 'awaiting-pubrec';
    const entry: InflightEntry = { delivery, state };
    this.inflight.set(packetId, entry);
    if (keptSeq !== undefined) {
      entry.seq = keptSeq;
      this.kept++;
      return;
    }
    if (!journal) return;
    if (tracker && delivery.qos === 1) {
      // The row waits: the client's PUBACK will most likely come first and make it unnecessary.
      entry.tracker = tracker;
      tracker.sent();
      if (this.unwritten.length === 0) this.counters.onUnwritten(this);
      this.unwritten.push({ packetId, entry, sentAt: now });
      return;
    }
    // Rows keep the order messages were sent in (a restart resends in that order [MQTT-4.6.0-1]).
    this.writeUnwritten(Number.POSITIVE_INFINITY);
    journal.saveInflight(this.clientId, { packetId, delivery, state });
    tracker?.needsCommit();
  }

  /** True while some in-flight entry has no row yet. */
  get hasUnwritten(): boolean {
    return this.unwritten.length > 0;
  }

  /**
   * Writes the rows of entries sent at or before `sentBefore` and still unacknowledged; their
   * publishers are released once the rows are durable.
   */
  writeUnwritten(sentBefore: number): void {
    const journal = this.journal;
    const unwritten = this.unwritten;
    let i = 0;
    for (; i < unwritten.length; i++) {
      const { packetId, entry, sentAt } = unwritten[i]!;
      const tracker = entry.tracker;
      if (!tracker || this.inflight.get(packetId) !== entry) continue;
      if (sentAt > sentBefore) break;
      entry.tracker = undefined;
      if (!journal) {
        tracker.settle();
        continue;
      }
      journal.saveInflight(this.clientId, { packetId, delivery: entry.delivery, state: entry.state });
      journal.afterDurable((err) => tracker.settle(err !== undefined));
    }
    unwritten.splice(0, i);
  }

  /** Moves queued messages into the in-flight window while there is room. */
  pump(now: number): void {
    const keep = this.keptRowDone !== undefined && this.journal !== undefined;
    while (this.link && this.inflight.size < this.window()) {
      const next = this.offline.shift(this.journal, !keep);
      if (!next) return;
      this.queueBound?.sent(next);
      // QoS 2 keeps its in-flight row (PUBREL or PUBLISH after a restart); QoS 0 is done once sent.
      const kept = keep && next.delivery.qos === 1 ? next.seq : undefined;
      if (keep && kept === undefined) this.dropKept(next.seq);
      this.sendFromWindow(next.delivery, now, undefined, kept);
    }
  }

  /** A queue row kept for a message that will not be in flight after all: it goes now. */
  private dropKept(seq: number | undefined): void {
    if (seq !== undefined) this.journal?.dequeue(this.clientId, seq);
  }

  /** PUBACK for QoS 1, PUBCOMP for QoS 2: the message is done. */
  acknowledge(packetId: number, now: number): boolean {
    const entry = this.inflight.get(packetId);
    if (!entry) return false;
    this.inflight.delete(packetId);
    const tracker = entry.tracker;
    if (tracker) {
      // Acknowledged before its row was written: the row is never needed.
      entry.tracker = undefined;
      tracker.settle();
    } else if (entry.seq !== undefined) {
      this.kept--;
      if (this.keptRowDone && this.journal) this.keptRowDone(entry.seq);
      else this.dropKept(entry.seq);
    } else this.journal?.deleteInflight(this.clientId, packetId);
    this.pump(now);
    return true;
  }

  /** PUBREC: send PUBREL and wait for PUBCOMP. A PUBREC with an error reason ends the flow [MQTT-4.3.3]. */
  received(packetId: number, failed: boolean, now: number): boolean {
    const entry = this.inflight.get(packetId);
    if (!entry) return false;
    if (failed) return this.acknowledge(packetId, now);
    entry.state = 'awaiting-pubcomp';
    const journal = this.journal;
    if (!journal) {
      this.link?.sendPubrel(packetId);
      return true;
    }
    // PUBREL only once 'awaiting-pubcomp' is on disk: after a crash the broker must resend PUBREL,
    // never the PUBLISH again, or a QoS 2 subscriber would get the message twice.
    journal.saveInflight(this.clientId, { packetId, delivery: entry.delivery, state: entry.state });
    journal.afterDurable((err) => {
      if (!err && this.inflight.get(packetId) === entry) this.link?.sendPubrel(packetId);
    });
    return true;
  }

  /**
   * A connection took this session over: resend unacknowledged PUBLISHes with DUP and PUBRELs
   * [MQTT-4.4.0-1], then drain the queue.
   */
  attach(link: SessionLink, now: number): void {
    this.link = link;
    this.expiresAt = undefined;
    for (const [packetId, entry] of this.inflight) {
      if (entry.unsent) continue; // sent (first time) once its row is durable
      if (entry.state === 'awaiting-pubcomp') link.sendPubrel(packetId);
      else link.sendPublish(entry.delivery, packetId, true);
    }
    this.pump(now);
  }

  detach(): void {
    this.link = undefined;
    // No PUBACK can come now: what is still in flight must be kept.
    this.writeUnwritten(Number.POSITIVE_INFINITY);
    // QoS 0 messages in flight have no state; QoS 0 in the queue survives only with queue_qos0_messages.
  }
}

export function isExpired(message: Message, now: number): boolean {
  const expiry = message.properties?.messageExpiryInterval;
  return expiry !== undefined && now - message.receivedAt >= expiry * 1000;
}
