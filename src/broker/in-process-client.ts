/**
 * A client of the broker in this process, without a socket: what a bridge's local side is. It owns a
 * session like any client (persistent: its queue and in-flight messages are journaled in the store),
 * subscribes and publishes through the same router, and goes online and offline as its far side
 * (another broker) comes and goes. While offline its session queues, durably, and the publishers'
 * acknowledgements wait for that as for any persistent subscriber (DeliveryTracker).
 */
import { ReasonCode } from '../protocol/reason-codes.js';
import type { ClientIdentity } from './auth.js';
import type { BrokerCore } from './broker-core.js';
import { DeliveryTracker } from './delivery-tracker.js';
import type { ClientLink } from './ports/client-link.js';
import type { Delivery, Session, SessionLimits } from './session.js';
import type {
  ClientInfo,
  ConnectionMeta,
  DisconnectReason,
  Message,
  MessageProperties,
  QoS,
} from './types.js';

/** Where the messages routed to an in-process client go while it is online. */
export interface InProcessSink {
  /** QoS 1/2 messages in flight at once (the far side's Receive Maximum). */
  readonly receiveMaximum: number;
  /**
   * Takes one message; a QoS 1/2 one is finished with `acknowledge(packetId)` once the far side has
   * it. False: it cannot be sent there (too large, too old) and is dropped, counted.
   */
  send(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean;
  /**
   * PUBREL for a QoS 2 message the far side has (it sent PUBREC, see `received`): after a reconnect
   * the far side must get the PUBREL again, never the PUBLISH, or it would deliver the message twice.
   */
  release(packetId: number): void;
}

export interface InProcessClientOptions {
  clientId: string;
  /** For the access rules (a bridge's local_username). */
  username?: string;
  /** Seconds the session outlives the client (0xFFFFFFFF: never expires). */
  sessionExpiry: number;
  cleanStart: boolean;
  /** This session's own limits, instead of the broker's (a bridge queues far more than a client). */
  limits?: Partial<SessionLimits>;
  /** The broker ended this client (its id was taken over, an administrator disconnected it). */
  onEnded?: (reason: DisconnectReason) => void;
}

export interface SubscribeRequest {
  filter: string;
  qos: QoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  /** 0: retained messages on every subscribe; 1: only for a new subscription; 2: never. */
  retainHandling?: 0 | 1 | 2;
}

export const IN_PROCESS_LISTENER = 'in-process';

/**
 * Queue rows of acknowledged messages are deleted in groups of at most the far side's Receive Maximum
 * (and of this many), or this long after the first: one delete per row but not one commit per PUBACK.
 * Until then a row acknowledged by the far side is still on disk: a crash sends it once more (a
 * duplicate), never loses one, and the bound holds: duplicates at most the in-flight window.
 */
const ACKED_GROUP = 256;
const ACKED_GROUP_MS = 100;

export class InProcessClient implements ClientLink {
  readonly protocolVersion = 5;
  readonly clientId: string;
  readonly username: string | undefined;
  readonly meta: ConnectionMeta = { remoteAddress: 'in-process', listener: IN_PROCESS_LISTENER };
  readonly info: ClientInfo;
  readonly session: Session;
  readonly sessionPresent: boolean;
  willWanted = false;
  private sink: InProcessSink | undefined;
  private ended = false;
  /** Queue rows of messages the far side acknowledged, not yet dequeued (see ACKED_GROUP). */
  private acked: number[] = [];
  private ackedTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: BrokerCore,
    private readonly options: InProcessClientOptions,
  ) {
    this.clientId = options.clientId;
    this.username = options.username;
    this.info = {
      clientId: this.clientId,
      username: this.username,
      remoteAddress: this.meta.remoteAddress,
      listener: this.meta.listener,
      protocolVersion: 5,
      keepalive: 0,
      cleanStart: options.cleanStart,
      connectedAt: Date.now(),
    };
    // The session opens offline (nothing attached): it queues until the far side is there.
    const opened = core.openSession(
      this,
      this.clientId,
      options.cleanStart,
      options.sessionExpiry,
      undefined,
    );
    this.session = opened.session;
    this.sessionPresent = opened.sessionPresent;
    if (options.limits) this.session.useLimits(options.limits);
    // The far side gets whatever is queued after a restart anyway: no in-flight rows besides the queue's.
    this.session.keptRowDone = this.dequeueLater;
    core.connected(this);
  }

  get receiveMaximum(): number {
    return this.sink?.receiveMaximum ?? 65535;
  }

  get online(): boolean {
    return this.sink !== undefined;
  }

  identity(): ClientIdentity {
    return { clientId: this.clientId, username: this.username, listener: this.meta.listener };
  }

  /** The far side is there: unacknowledged messages are resent (DUP), then the queue drains into it. */
  attach(sink: InProcessSink): void {
    if (this.ended) return;
    this.sink = sink;
    this.session.attach(this, Date.now());
  }

  /** The far side is gone: what is in flight stays in flight, new messages queue. */
  detach(): void {
    if (!this.sink) return;
    this.sink = undefined;
    this.session.detach();
    this.dequeueAcked();
  }

  private readonly dequeueLater = (seq: number): void => {
    this.acked.push(seq);
    const group = Math.min(ACKED_GROUP, this.sink?.receiveMaximum ?? ACKED_GROUP);
    if (this.acked.length >= group) this.dequeueAcked();
    else if (!this.ackedTimer) {
      this.ackedTimer = setTimeout(() => this.dequeueAcked(), ACKED_GROUP_MS);
      this.ackedTimer.unref();
    }
  };

  /** Deletes the queue rows of the acknowledged messages (one group, so one commit). */
  private dequeueAcked(): void {
    clearTimeout(this.ackedTimer);
    this.ackedTimer = undefined;
    const journal = this.session.journal;
    if (journal) for (const seq of this.acked) journal.dequeue(this.clientId, seq);
    this.acked = [];
  }

  subscribe(requests: SubscribeRequest[]): number[] {
    const result = this.core.subscribe(
      this,
      requests.map((r) => ({
        topic: r.filter,
        qos: r.qos,
        nl: r.noLocal ?? false,
        rap: r.retainAsPublished ?? false,
        rh: r.retainHandling ?? 0,
      })),
      undefined,
    );
    if (result === 'protocol-error') return requests.map(() => ReasonCode.ProtocolError);
    result.afterAck();
    return result.granted;
  }

  unsubscribe(filters: string[]): void {
    this.core.unsubscribe(this, filters);
  }

  /** The filters this client's session holds (kept across restarts). */
  subscriptions(): string[] {
    return [...this.session.subscriptions.keys()];
  }

  /**
   * Publishes as this client (so its own No Local subscriptions skip it); `done` once the message is
   * safe to acknowledge to whoever sent it here (durable where it had to be), or refused.
   */
  publish(
    topic: string,
    payload: Buffer,
    qos: QoS,
    retain: boolean,
    properties: MessageProperties | undefined,
    done: (failed: boolean) => void,
  ): void {
    const message: Message = this.core.makeMessage(topic, payload, qos, retain, properties);
    const store = this.core.options.persistence;
    if (!this.core.options.authorizer.allows(this.identity(), 'publish', topic)) {
      this.core.stats.publishDropped++;
      this.core.stats.publishRefused++;
      done(false); // as a 3.1.1 broker does: acknowledged and dropped, so the far side does not resend forever
      return;
    }
    if (qos === 0 || !store) {
      this.core.accept(message, this);
      done(false);
      return;
    }
    if (store.failing) return done(true);
    const tracker = new DeliveryTracker();
    if (retain) tracker.needsCommit();
    this.core.accept(message, this, tracker);
    tracker.whenSafe((d) => this.core.whenDurable(d), done);
  }

  /** The far side has a QoS 1 message (PUBACK), finished a QoS 2 one (PUBCOMP), or refused it. */
  acknowledge(packetId: number): void {
    this.session.acknowledge(packetId, Date.now());
  }

  /** The far side has a QoS 2 message (PUBREC): recorded, so a reconnect resends PUBREL, not PUBLISH. */
  received(packetId: number): void {
    if (this.session.inflight.get(packetId)?.state === 'awaiting-pubrec')
      this.session.received(packetId, false, Date.now());
  }

  sendPublish(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    const sink = this.sink;
    if (!sink) return true; // offline: the session keeps it in flight
    this.core.stats.publishSent++;
    return sink.send(delivery, packetId, dup);
  }

  /** Offline: the session keeps the message awaiting PUBCOMP, released again on the next attach. */
  sendPubrel(packetId: number): void {
    this.sink?.release(packetId);
  }

  /** Ended by the broker (taken over, disconnected by an administrator); see options.onEnded. */
  disconnect(reason: DisconnectReason): void {
    if (this.ended) return;
    this.end(reason);
    this.options.onEnded?.(reason);
  }

  /**
   * Ends this client; its session lives on as its expiry says (a bridge's: until removed), or with
   * `discard` ends too, its queue and subscriptions deleted (a bridge taken out of the config).
   */
  end(reason: DisconnectReason = 'server-shutting-down', discard = false): void {
    if (this.ended) return;
    this.ended = true;
    this.sink = undefined;
    this.dequeueAcked();
    // Unless a new client has the session already (a bridge restarted by a reload).
    if (this.session.keptRowDone === this.dequeueLater) this.session.keptRowDone = undefined;
    this.core.disconnected(this, reason);
    if (discard && this.core.sessions.get(this.clientId) === this.session)
      this.core.registry.endSession(this.session);
  }
}
