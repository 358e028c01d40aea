import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ISubscription } from 'mqtt-packet';
import { ReasonCode } from '../protocol/reason-codes.js';
import { parseSharedFilter, topicFilterProblem } from '../protocol/topic.js';
import { allowEveryone } from './auth.js';
import type { Connection } from './connection.js';
import type { DeliveryTracker } from './delivery-tracker.js';
import { type BrokerOptions, defaultBrokerOptions } from './options.js';
import { RetainedStore } from './retained-store.js';
import { type Delivery, NEVER_EXPIRES, Session, type Will } from './session.js';
import { BrokerStats } from './stats.js';
import { SubscriptionTree } from './subscription-tree.js';
import type {
  BrokerEvents,
  DisconnectReason,
  Message,
  MessageProperties,
  QoS,
  SubscriptionInfo,
  SubscriptionOptions,
} from './types.js';

interface ClientSubscription {
  kind: 'client';
  clientId: string;
  options: SubscriptionOptions;
}

/** `$share/<group>/<filter>`: one entry per group, its members taking turns [MQTT 5.0 4.8.2]. */
interface SharedGroup {
  kind: 'shared';
  group: string;
  members: Map<string, SubscriptionOptions>;
  cursor: number;
}

type TreeEntry = ClientSubscription | SharedGroup;

export interface SubscribeResult {
  granted: number[];
  /** Sends the retained messages the new subscriptions asked for, after the SUBACK. */
  afterAck(): void;
}

/**
 * What all connections share: sessions, the subscription tree, retained messages, wills and timers.
 * Connections call in here; the public Broker facade (broker.ts) builds on it.
 */
export class BrokerCore {
  readonly options: BrokerOptions;
  readonly stats = new BrokerStats();
  readonly events = new EventEmitter<BrokerEvents>();
  readonly retained = new RetainedStore();
  readonly sessions = new Map<string, Session>();
  /** Live connections by client id (one per id: a new one takes the session over). */
  readonly connections = new Map<string, Connection>();
  private readonly tree = new SubscriptionTree<TreeEntry>();
  private readonly timers = new Map<Session, NodeJS.Timeout>();
  private readonly readChecks: boolean;

  constructor(options: Partial<BrokerOptions> = {}) {
    this.options = {
      ...defaultBrokerOptions,
      authenticator: allowEveryone,
      authorizer: allowEveryone,
      persistence: undefined,
      ...definedOnly(options),
    };
    this.readChecks = this.options.authorizer !== allowEveryone;
  }

  /** True while a 'packet' listener exists, so tracing costs nothing otherwise. */
  get tracingPackets(): boolean {
    return this.events.listenerCount('packet') > 0;
  }

  assignClientId(): string {
    // mosquitto's format (auto-XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX), so logs and scripts read the same.
    for (;;) {
      const h = randomBytes(16).toString('hex').toUpperCase();
      const id = `auto-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      if (!this.sessions.has(id)) return id;
    }
  }

  makeMessage(
    topic: string,
    payload: Buffer,
    qos: QoS,
    retain: boolean,
    properties: MessageProperties | undefined,
  ): Message {
    const m: Message = { topic, payload, qos, retain, receivedAt: Date.now() };
    if (properties) m.properties = properties;
    return m;
  }

  /** Calls back once everything the broker wrote so far is durable; `failed` when it could not be kept. */
  whenDurable(ack: (failed: boolean) => void): void {
    const store = this.options.persistence;
    if (!store) return ack(false);
    store.afterDurable((err) => ack(err !== undefined));
  }

  /**
   * Calls back once everything written so far is durable, however many retries that takes: for
   * acknowledgements of state already applied (PUBCOMP, SUBACK, UNSUBACK), which go out late rather
   * than ahead of the disk.
   */
  whenCommitted(ack: () => void): void {
    const store = this.options.persistence;
    if (!store) return ack();
    store.whenCommitted(ack);
  }

  private savedCounters = '';

  /** Writes the counters that outlive restarts when they changed (called every second and at close). */
  saveCounters(): void {
    const store = this.options.persistence;
    if (!store) return;
    const s = this.stats;
    const counters = { dropped: s.publishDropped, expired: s.publishExpired, refused: s.publishRefused };
    const key = `${counters.dropped} ${counters.expired} ${counters.refused}`;
    if (key === this.savedCounters) return;
    this.savedCounters = key;
    store.saveCounters(counters);
  }

  /**
   * Rebuilds retained messages and offline sessions from persistence; their timers keep counting.
   * A session whose record still has a will without a due time was online when the broker stopped or
   * crashed: its connection is gone, so its will is due now (after its delay, unless the client comes
   * back first). A session that was to end with its connection ends now: its held QoS 2 messages,
   * acknowledged with PUBREC, are routed (their client can never release them), then its will.
   */
  restore(): void {
    const store = this.options.persistence;
    if (!store) return;
    // Only the head of each offline queue is read; the rest is paged in as the client drains it.
    const queueWindow = this.options.queueWindow;
    const { retained, sessions, counters } = store.load(queueWindow);
    this.stats.publishDropped = counters.dropped ?? 0;
    this.stats.publishExpired = counters.expired ?? 0;
    this.stats.publishRefused = counters.refused ?? 0;
    this.savedCounters = `${this.stats.publishDropped} ${this.stats.publishExpired} ${this.stats.publishRefused}`;
    for (const m of retained) this.retained.put(m);
    this.stats.retainedChanged(this.retained.size);
    const now = Date.now();
    const restored: Session[] = [];
    for (const stored of sessions) {
      const r = stored.record;
      const session = this.newSession(r.clientId);
      session.protocolVersion = r.protocolVersion;
      session.username = r.username;
      session.listener = r.listener;
      session.expiryInterval = r.expiryInterval;
      session.will = r.will;
      session.willDueAt =
        r.will === undefined
          ? undefined
          : (r.willDueAt ?? now + Math.min(r.will.delaySeconds, r.expiryInterval) * 1000);
      session.expiresAt =
        r.expiresAt ?? (r.expiryInterval === NEVER_EXPIRES ? undefined : now + r.expiryInterval * 1000);
      for (const { filter, options } of stored.subscriptions) {
        session.subscriptions.set(filter, options);
        this.addToTree(r.clientId, filter, options);
      }
      session.restore(
        stored.inflight.map((i) => [i.packetId, { delivery: i.delivery, state: i.state }]),
        stored.queued.map((q) => ({ delivery: q.delivery, seq: q.seq })),
        stored.inboundQos2.map((i) => [i.packetId, i.message]),
        stored.queuedCount - stored.queued.length,
      );
      if (r.expiryInterval > 0) session.journal = store;
      else session.recorder = store;
      session.recorded = true;
      restored.push(session);
    }
    this.stats.subscriptionsChanged(this.tree.size);
    // Every session is back before anything is routed, so restored subscribers get what is published.
    for (const session of restored) {
      if (session.expiryInterval === 0) {
        for (const [packetId, message] of [...session.inboundQos2]) {
          session.releaseInboundQos2(packetId);
          if (message) this.accept(message, undefined);
        }
      }
      this.onSessionTimer(session);
    }
  }

  private newSession(clientId: string): Session {
    const session = new Session(clientId, this.options, {
      onDropped: (reason) => {
        this.stats.publishDropped++;
        if (reason === 'expired') this.stats.publishExpired++;
      },
      onUnwritten: (s) => this.writeLater(s),
    });
    this.sessions.set(clientId, session);
    return session;
  }

  /** Sessions with in-flight rows not written yet, and the timer that writes the overdue ones. */
  private readonly unwritten = new Set<Session>();
  private unwrittenTimer: NodeJS.Timeout | undefined;

  private writeLater(session: Session): void {
    this.unwritten.add(session);
    if (this.unwrittenTimer) return;
    const delay = this.options.inflightWriteDelayMs;
    this.unwrittenTimer = setTimeout(() => {
      this.unwrittenTimer = undefined;
      const sentBefore = Date.now() - delay;
      for (const s of this.unwritten) {
        s.writeUnwritten(sentBefore);
        if (!s.hasUnwritten) this.unwritten.delete(s);
      }
      if (this.unwritten.size > 0) this.writeLater(this.unwritten.values().next().value!);
    }, delay);
  }

  /**
   * Writes a session's record (expiry, will, deadlines) to the store: every persistent session, and a
   * session that ends with its connection while it has a will to keep across a crash.
   */
  private saveRecord(session: Session): void {
    if (!session.journal && !(session.recorder && (session.will || session.recorded))) return;
    session.recorded = true;
    this.options.persistence?.saveSession({
      clientId: session.clientId,
      protocolVersion: session.protocolVersion,
      username: session.username,
      listener: session.listener,
      expiryInterval: session.expiryInterval,
      expiresAt: session.expiresAt,
      will: session.will,
      willDueAt: session.willDueAt,
    });
  }

  // ---- sessions ----

  openSession(
    connection: Connection,
    clientId: string,
    cleanStart: boolean,
    expiryInterval: number,
    will: Will | undefined,
  ): { session: Session; sessionPresent: boolean } {
    const previous = this.sessions.get(clientId);
    // A client resuming its session over a new connection is not gone: the old connection's will is
    // discarded, as mosquitto does (a will on every takeover would flicker a board's status to offline).
    if (previous && !cleanStart && previous.expiryInterval > 0 && this.connections.has(clientId))
      previous.will = undefined;
    // [MQTT-3.1.4-3]: a second connection with the same id takes over; the first is told 0x8E and closed.
    this.connections.get(clientId)?.disconnect('taken-over', ReasonCode.SessionTakenOver);
    let session = this.sessions.get(clientId);
    if (session && cleanStart) {
      this.endSession(session);
      session = undefined;
    }
    const sessionPresent = session !== undefined;
    if (session) {
      // The client is back before its delayed will was due: the will is not sent [MQTT-3.1.3-9].
      this.clearTimer(session);
      session.willDueAt = undefined;
      // Online again: no expiry deadline until the next disconnect (saved below, so a crash keeps it).
      session.expiresAt = undefined;
    } else {
      session = this.newSession(clientId);
    }
    session.protocolVersion = connection.protocolVersion;
    session.username = connection.username;
    session.listener = connection.meta.listener;
    session.expiryInterval = expiryInterval;
    session.will = will;
    this.connections.set(clientId, connection);
    const store = this.options.persistence;
    if (store && expiryInterval > 0) {
      // Only sessions that outlive their connection are worth keeping.
      session.journal = store;
      session.recorder = undefined;
      this.saveRecord(session);
    } else if (store) {
      if (session.journal) {
        session.dropJournal(); // its queue moves into memory before the stored copy goes
        store.deleteSession(clientId);
        session.recorded = false;
        // Held QoS 2 messages still await their PUBREL: keep them on disk.
        for (const [packetId, message] of session.inboundQos2) {
          store.saveInboundQos2(clientId, packetId, message);
          session.recorded = true;
        }
      }
      session.recorder = store;
      // A will survives a crash of the broker (published after the restart), so it is written now.
      this.saveRecord(session);
    }
    return { session, sessionPresent };
  }

  connected(connection: Connection): void {
    this.stats.clientConnected(this.connections.size);
    this.events.emit('client-connect', connection.info!);
  }

  disconnected(connection: Connection, reason: DisconnectReason): void {
    const session = connection.session!;
    if (this.connections.get(connection.clientId) === connection)
      this.connections.delete(connection.clientId);
    session.detach();
    this.stats.clientDisconnected();
    this.events.emit('client-disconnect', connection.info!, reason);
    const now = Date.now();
    if (reason === 'server-shutting-down') {
      // The session's expiry starts counting now, across the restart. Its will is kept: the client
      // lost its connection, so the restarted broker sends it unless the client is back in time.
      if (session.expiryInterval !== NEVER_EXPIRES) session.expiresAt = now + session.expiryInterval * 1000;
      this.saveRecord(session);
      return;
    }
    const will = session.will;
    if (will && connection.willWanted) {
      if (will.delaySeconds === 0 || session.expiryInterval === 0) {
        session.will = undefined;
        this.publishWill(will);
      } else {
        session.willDueAt = now + Math.min(will.delaySeconds, session.expiryInterval) * 1000;
      }
    } else {
      // [MQTT-3.1.2-10]: a normal DISCONNECT discards the will.
      session.will = undefined;
    }
    if (session.expiryInterval === 0) {
      this.endSession(session);
      return;
    }
    if (session.expiryInterval !== NEVER_EXPIRES) session.expiresAt = now + session.expiryInterval * 1000;
    this.saveRecord(session);
    this.scheduleSessionTimer(session);
  }

  /** One timer per offline session, for whichever comes first: its delayed will or its expiry. */
  scheduleSessionTimer(session: Session): void {
    this.clearTimer(session);
    const due = Math.min(
      session.willDueAt ?? Number.POSITIVE_INFINITY,
      session.expiresAt ?? Number.POSITIVE_INFINITY,
    );
    if (due === Number.POSITIVE_INFINITY) return;
    const delay = Math.max(0, due - Date.now());
    const timer = setTimeout(() => this.onSessionTimer(session), Math.min(delay, 2 ** 31 - 1));
    timer.unref();
    this.timers.set(session, timer);
  }

  private onSessionTimer(session: Session): void {
    this.timers.delete(session);
    if (session.online) return;
    const now = Date.now();
    if (session.willDueAt !== undefined && session.willDueAt <= now) {
      const will = session.will;
      session.will = undefined;
      session.willDueAt = undefined;
      if (will) this.publishWill(will);
      this.saveRecord(session);
    }
    if (session.expiresAt !== undefined && session.expiresAt <= now) {
      this.endSession(session);
      return;
    }
    this.scheduleSessionTimer(session);
  }

  private clearTimer(session: Session): void {
    const t = this.timers.get(session);
    if (t) clearTimeout(t);
    this.timers.delete(session);
  }

  /** Ends a session: a will still waiting is sent now [MQTT-3.1.3-9], its subscriptions go. */
  endSession(session: Session): void {
    this.clearTimer(session);
    if (session.willDueAt !== undefined && session.will) {
      const will = session.will;
      session.will = undefined;
      session.willDueAt = undefined;
      this.publishWill(will);
    }
    for (const filter of session.subscriptions.keys()) this.removeFromTree(session.clientId, filter);
    session.subscriptions.clear();
    if (session.journal || session.recorded) {
      this.options.persistence?.deleteSession(session.clientId);
      session.journal = undefined;
      session.recorded = false;
    }
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  private publishWill(will: Will): void {
    this.accept({ ...will.message, receivedAt: Date.now() }, undefined);
  }

  // ---- messages ----

  /** An application message accepted from a client or the host program: retain it, route it, announce it. */
  accept(message: Message, from: Connection | undefined, tracker?: DeliveryTracker): void {
    this.stats.publishReceived++;
    if (message.retain && this.retained.put(message)) {
      this.stats.retainedChanged(this.retained.size);
      const store = this.options.persistence;
      if (store && !message.topic.startsWith('$SYS/')) {
        if (message.payload.length === 0) store.deleteRetained(message.topic);
        else store.saveRetained(message);
      }
    }
    this.route(message, from?.clientId, tracker);
    this.events.emit('publish', message, from?.clientId);
  }

  /** Delivers a message to every session with a matching subscription, once per client. */
  route(message: Message, publisherId: string | undefined, tracker?: DeliveryTracker): void {
    const now = Date.now();
    let single: ClientSubscription | undefined;
    let many: Map<string, Delivery> | undefined;
    let groups: SharedGroup[] | undefined;
    this.tree.match(message.topic, (entry) => {
      if (entry.kind === 'shared') {
        groups ??= [];
        groups.push(entry);
        return;
      }
      if (entry.options.noLocal && entry.clientId === publisherId) return;
      if (!single && !many) {
        single = entry;
        return;
      }
      if (!many) {
        many = new Map();
        many.set(single!.clientId, deliveryFor(message, single!.options));
        single = undefined;
      }
      const existing = many.get(entry.clientId);
      if (!existing) many.set(entry.clientId, deliveryFor(message, entry.options));
      else mergeDelivery(existing, message, entry.options);
    });
    if (single) this.deliverTo(single.clientId, deliveryFor(message, single.options), now, tracker);
    else if (many) for (const [clientId, d] of many) this.deliverTo(clientId, d, now, tracker);
    if (groups) for (const g of groups) this.deliverToGroup(g, message, publisherId, now, tracker);
  }

  private deliverTo(clientId: string, delivery: Delivery, now: number, tracker?: DeliveryTracker): void {
    const session = this.sessions.get(clientId);
    if (!session) return;
    if (this.readChecks && !this.canRead(session, delivery.message.topic)) return;
    session.deliver(delivery, now, true, tracker);
  }

  private canRead(session: Session, topic: string): boolean {
    return this.options.authorizer.allows(
      { clientId: session.clientId, username: session.username, listener: session.listener },
      'read',
      topic,
    );
  }

  /** One member of a shared group gets the message: the next online one in turn, else the next in turn. */
  private deliverToGroup(
    group: SharedGroup,
    message: Message,
    publisherId: string | undefined,
    now: number,
    tracker: DeliveryTracker | undefined,
  ): void {
    const members = [...group.members];
    if (members.length === 0) return;
    let chosen: [string, SubscriptionOptions] | undefined;
    for (let i = 0; i < members.length; i++) {
      const candidate = members[(group.cursor + i) % members.length]!;
      if (this.sessions.get(candidate[0])?.online) {
        chosen = candidate;
        group.cursor = (group.cursor + i + 1) % members.length;
        break;
      }
    }
    if (!chosen) {
      chosen = members[group.cursor % members.length]!;
      group.cursor = (group.cursor + 1) % members.length;
    }
    if (chosen[1].noLocal && chosen[0] === publisherId) return;
    this.deliverTo(chosen[0], deliveryFor(message, chosen[1]), now, tracker);
  }

  // ---- subscriptions ----

  subscribe(
    connection: Connection,
    requests: ISubscription[],
    subscriptionId: number | undefined,
  ): SubscribeResult | 'protocol-error' {
    const session = connection.session!;
    const v5 = connection.protocolVersion === 5;
    const granted: number[] = [];
    const retainedFor: { filter: string; options: SubscriptionOptions }[] = [];
    const added: SubscriptionInfo[] = [];
    for (const req of requests) {
      const filter = req.topic;
      const shared = parseSharedFilter(filter);
      if (topicFilterProblem(filter) || shared === 'invalid') {
        granted.push(v5 ? ReasonCode.TopicFilterInvalid : 0x80);
        continue;
      }
      // [MQTT-3.8.3-4]: No Local on a shared subscription is a protocol error.
      if (shared && req.nl) return 'protocol-error';
      if (!this.options.authorizer.allows(connection.identity(), 'subscribe', filter)) {
        granted.push(v5 ? ReasonCode.NotAuthorized : 0x80);
        continue;
      }
      const qos = Math.min(req.qos, 2) as QoS;
      const options: SubscriptionOptions = {
        qos,
        noLocal: v5 && !!req.nl,
        retainAsPublished: v5 && !!req.rap,
        retainHandling: v5 ? ((req.rh ?? 0) as 0 | 1 | 2) : 0,
      };
      if (subscriptionId !== undefined) options.subscriptionIdentifier = subscriptionId;
      const existed = session.subscriptions.has(filter);
      session.subscriptions.set(filter, options);
      this.addToTree(session.clientId, filter, options);
      if (session.journal) this.options.persistence?.saveSubscription(session.clientId, filter, options);
      granted.push(qos);
      added.push({ clientId: session.clientId, filter, ...options });
      // [MQTT-3.3.1-9..11]: Retain Handling 0 always sends retained, 1 only for a new subscription, 2 never;
      // shared subscriptions never get retained messages on subscribe [MQTT-4.8.2-?].
      if (!shared && (options.retainHandling === 0 || (options.retainHandling === 1 && !existed)))
        retainedFor.push({ filter, options });
    }
    if (added.length > 0) {
      this.stats.subscriptionsChanged(this.tree.size);
      this.events.emit('subscribe', session.clientId, added);
    }
    return {
      granted,
      afterAck: () => {
        const now = Date.now();
        for (const { filter, options } of retainedFor) {
          for (const message of this.retained.match(filter, now)) {
            if (this.readChecks && !this.canRead(session, message.topic)) continue;
            const delivery: Delivery = {
              message,
              qos: Math.min(message.qos, options.qos) as QoS,
              retain: true,
            };
            if (options.subscriptionIdentifier !== undefined)
              delivery.subscriptionIds = [options.subscriptionIdentifier];
            session.deliver(delivery, now, false);
          }
        }
      },
    };
  }

  unsubscribe(connection: Connection, filters: string[]): number[] {
    const session = connection.session!;
    const removed: string[] = [];
    const codes = filters.map((filter) => {
      if (!session.subscriptions.delete(filter)) return ReasonCode.NoSubscriptionExisted;
      this.removeFromTree(session.clientId, filter);
      if (session.journal) this.options.persistence?.deleteSubscription(session.clientId, filter);
      removed.push(filter);
      return ReasonCode.Success;
    });
    if (removed.length > 0) {
      this.stats.subscriptionsChanged(this.tree.size);
      this.events.emit('unsubscribe', session.clientId, removed);
    }
    return codes;
  }

  /** Puts a session's subscription into the tree (also used when sessions are restored from a store). */
  addToTree(clientId: string, filter: string, options: SubscriptionOptions): void {
    const shared = parseSharedFilter(filter);
    if (shared && shared !== 'invalid') {
      const key = `$share/${shared.group}`;
      let group = this.tree.get(shared.filter, key) as SharedGroup | undefined;
      if (!group) {
        group = { kind: 'shared', group: shared.group, members: new Map(), cursor: 0 };
        this.tree.set(shared.filter, key, group);
      }
      group.members.set(clientId, options);
      return;
    }
    this.tree.set(filter, clientId, { kind: 'client', clientId, options });
  }

  private removeFromTree(clientId: string, filter: string): void {
    const shared = parseSharedFilter(filter);
    if (shared && shared !== 'invalid') {
      const key = `$share/${shared.group}`;
      const group = this.tree.get(shared.filter, key) as SharedGroup | undefined;
      group?.members.delete(clientId);
      if (group && group.members.size === 0) this.tree.delete(shared.filter, key);
      return;
    }
    this.tree.delete(filter, clientId);
  }

  subscriptionCount(): number {
    return this.tree.size;
  }
}

function deliveryFor(message: Message, options: SubscriptionOptions): Delivery {
  const d: Delivery = {
    message,
    // [MQTT-3.8.4-8]: delivered at the lower of the published QoS and the granted QoS.
    qos: Math.min(message.qos, options.qos) as QoS,
    // [MQTT-3.3.1-12]: retain is cleared on forwarding unless Retain As Published.
    retain: options.retainAsPublished ? message.retain : false,
  };
  if (options.subscriptionIdentifier !== undefined) d.subscriptionIds = [options.subscriptionIdentifier];
  return d;
}

/** Overlapping subscriptions of one client: one copy, highest QoS, every identifier [MQTT-3.3.4-3..5]. */
function mergeDelivery(d: Delivery, message: Message, options: SubscriptionOptions): void {
  const qos = Math.min(message.qos, options.qos) as QoS;
  if (qos > d.qos) d.qos = qos;
  if (options.retainAsPublished && message.retain) d.retain = true;
  if (options.subscriptionIdentifier !== undefined) {
    d.subscriptionIds ??= [];
    d.subscriptionIds.push(options.subscriptionIdentifier);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
