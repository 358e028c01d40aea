import type { Message, QoS, SubscriptionOptions } from '../types.js';

/** One message on its way to one session, at the QoS granted by the matching subscription(s). */
export interface Delivery {
  message: Message;
  qos: QoS;
  retain: boolean;
  subscriptionIds?: number[];
}

export type InflightState = 'awaiting-puback' | 'awaiting-pubrec' | 'awaiting-pubcomp';

/** Will message held for a session, published on abnormal disconnect (after its delay, for v5). */
export interface Will {
  message: Message;
  delaySeconds: number;
}

/**
 * What the broker keeps across restarts, as the broker sees it. Implementations live in src/store
 * (SQLite embedded, later Redis); the broker never imports them, it is handed one.
 *
 * Writes are applied in call order and are durable once `afterDurable` calls back: the broker sends
 * PUBACK/PUBREC for a QoS 1/2 message only then, so nothing acknowledged is lost.
 */
export interface SessionRecord {
  clientId: string;
  protocolVersion: 3 | 4 | 5;
  username: string | undefined;
  /** The listener the client last came in through (absent in databases from before schema 2). */
  listener?: string;
  /** Seconds the session lives after its connection ends; 0xFFFFFFFF: never expires. */
  expiryInterval: number;
  /** Epoch ms when the offline session expires (absent while online or never expiring). */
  expiresAt: number | undefined;
  will: Will | undefined;
  /** Epoch ms when a delayed will is due (absent when none is pending). */
  willDueAt: number | undefined;
}

export interface StoredInflight {
  packetId: number;
  delivery: Delivery;
  state: InflightState;
}

export interface StoredQueued {
  /** Position in the session's queue; increasing in the order messages were queued. */
  seq: number;
  delivery: Delivery;
}

/**
 * An inbound QoS 2 packet id held until the client's PUBREL, with the message to route then (absent
 * when there is nothing to route: refused, or already routed by a version that routed on arrival).
 */
export interface StoredInboundQos2 {
  packetId: number;
  message: Message | undefined;
}

export interface StoredSession {
  record: SessionRecord;
  subscriptions: { filter: string; options: SubscriptionOptions }[];
  inflight: StoredInflight[];
  inboundQos2: StoredInboundQos2[];
  /** The head of the offline queue, in seq order: all of it, or the first `queueLimit` rows asked of load(). */
  queued: StoredQueued[];
  /** Rows in the whole offline queue (`queued` may hold only the first of them). */
  queuedCount: number;
}

export type DurabilityPolicy =
  /** fsync before every acknowledgement. */
  | { mode: 'every-message' }
  /** Group commit: acknowledgements wait for one shared fsync within `maxDelayMs`. */
  | { mode: 'grouped'; maxDelayMs: number }
  /** Like mosquitto's autosave_interval: write every `intervalSeconds`; acknowledge at once. */
  | { mode: 'periodic'; intervalSeconds: number };

/** Everything a store gives back at start. */
export interface LoadedState {
  retained: Message[];
  sessions: StoredSession[];
  /** Broker counters that outlive restarts (saveCounters). */
  counters: Record<string, number>;
}

/**
 * The read side may answer synchronously (SQLite in this process) or with a promise (a networked
 * store): the broker serves no client until `load` has answered, and sends nothing past a queue page
 * still being read. Writes stay synchronous calls; their durability is reported by afterDurable.
 */
export interface Persistence {
  /**
   * Everything kept, read once at start (deadlines are absolute epoch ms so they keep counting). With
   * `queueLimit`, each session's `queued` holds only the first `queueLimit` rows; the rest stay on disk
   * for readQueue (a long offline queue is not read into memory).
   */
  load(queueLimit?: number): LoadedState | Promise<LoadedState>;

  saveRetained(message: Message): void;
  deleteRetained(topic: string): void;

  saveSession(record: SessionRecord): void;
  /** Removes the session with its subscriptions, queue, inflight and inbound QoS 2 state. */
  deleteSession(clientId: string): void;

  saveSubscription(clientId: string, filter: string, options: SubscriptionOptions): void;
  deleteSubscription(clientId: string, filter: string): void;

  /** Appends to the session's offline queue; returns its seq. */
  enqueue(clientId: string, delivery: Delivery): number;
  dequeue(clientId: string, seq: number): void;
  /**
   * Up to `limit` rows of the session's queue with seq > `afterSeq`, in seq order, including rows
   * written but not yet committed; a read sees every write made before it was issued.
   */
  readQueue(clientId: string, afterSeq: number, limit: number): StoredQueued[] | Promise<StoredQueued[]>;

  saveInflight(clientId: string, entry: StoredInflight): void;
  deleteInflight(clientId: string, packetId: number): void;

  /** Holds an inbound QoS 2 id, with the message to route at PUBREL (see StoredInboundQos2). */
  saveInboundQos2(clientId: string, packetId: number, message?: Message): void;
  deleteInboundQos2(clientId: string, packetId: number): void;

  /** Broker counters that outlive restarts (the dropped-messages count). */
  saveCounters(counters: Record<string, number>): void;

  /**
   * Calls `done` once every write made so far is durable under the policy. `done(err)` with an error
   * (disk full, I/O error) means those writes are not safe: the broker refuses the message instead of
   * acknowledging it. While writes are failing, `done(err)` comes at once.
   */
  afterDurable(done: (err?: Error) => void): void;

  /**
   * Calls `done` once every write made so far is durable, waiting through failed commits and their
   * retries (never called after close). For acknowledgements of state already applied in memory.
   */
  whenCommitted(done: () => void): void;

  /** True while writes are failing (they are kept and retried): QoS 1/2 publishes are refused at once. */
  readonly failing: boolean;

  /** Commits that failed so far (each retry counts), for $SYS. */
  stats(): { failedTransactions: number };

  /** Flushes everything pending and closes. */
  close(): void;
}
