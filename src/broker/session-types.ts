/**
 * The shapes a session works with: its in-flight entries, the link it is attached to, its limits, the
 * journal it records to, and an owner's own queue bound.
 */
import type { DeliveryTracker } from './delivery-tracker.js';
import type { QueuedDelivery, QueueJournal } from './offline-queue.js';
import type { Delivery, InflightState } from './ports/persistence.js';
import type { Message } from './types.js';

export interface InflightEntry {
  delivery: Delivery;
  state: InflightState;
  /**
   * Set while the entry's row is not written yet: the publisher's tracker, told when the client
   * acknowledges (the row is then never written) or when the written row is durable.
   */
  tracker?: DeliveryTracker;
  /** A QoS 2 PUBLISH waiting for its row to be durable before it is first sent. */
  unsent?: boolean;
  /** The queue row that stands for this message while in flight, instead of an in-flight row (keptRowDone). */
  seq?: number;
}

/** What a session needs from the live connection it is attached to. */
export interface SessionLink {
  readonly receiveMaximum: number;
  /** Sends a PUBLISH; false when the client's Maximum Packet Size forbids it (the message is dropped). */
  sendPublish(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean;
  sendPubrel(packetId: number): void;
}

export interface SessionLimits {
  maxInflightMessages: number;
  maxQueuedMessages: number;
  queueQos0Messages: boolean;
  /**
   * Queued messages a journaled session keeps in memory; the rest of its queue stays in the journal
   * and is paged in as the client drains it (BrokerOptions.queueWindow).
   */
  queueWindow: number;
}

/**
 * A queue bounded by its owner's own policy instead of max_queued_messages (a bridge drops its oldest,
 * QoS 0 first): told of every message queued and sent, it makes room with Session.dropQueued.
 */
export interface QueueBound {
  /** Before a message is queued: true once there is room for it, false to drop it instead. */
  admit(delivery: Delivery): boolean;
  queued(entry: QueuedDelivery): void;
  /** The head of the queue left it for the in-flight window. */
  sent(entry: QueuedDelivery): void;
}

/** Where a persistent session records its queue and in-flight state (see persistence.ts). */
export interface SessionJournal extends QueueJournal {
  saveInflight(clientId: string, entry: { packetId: number; delivery: Delivery; state: InflightState }): void;
  deleteInflight(clientId: string, packetId: number): void;
  saveInboundQos2(clientId: string, packetId: number, message?: Message): void;
  deleteInboundQos2(clientId: string, packetId: number): void;
  afterDurable(done: (err?: Error) => void): void;
  whenCommitted(done: () => void): void;
}

export const NEVER_EXPIRES = 0xffffffff;
