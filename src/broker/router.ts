import type { EventEmitter } from 'node:events';
import type { ISubscription } from 'mqtt-packet';
import { ReasonCode } from '../protocol/reason-codes.js';
import { parseSharedFilter, topicFilterProblem } from '../protocol/topic.js';
import { allowEveryone } from './auth.js';
import type { DeliveryTracker } from './delivery-tracker.js';
import type { BrokerOptions } from './options.js';
import type { ClientLink } from './ports/client-link.js';
import type { MessageBus } from './ports/message-bus.js';
import type { RetainedStore } from './retained-store.js';
import type { Delivery, Session } from './session.js';
import type { BrokerStats } from './stats.js';
import { SubscriptionTree } from './subscription-tree.js';
import type { BrokerEvents, Message, QoS, SubscriptionInfo, SubscriptionOptions } from './types.js';

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

/**
 * Where messages go: the subscription tree (with shared groups), retained messages on subscribe, and
 * fan-out to sessions. An accepted message goes through the message bus, which hands it back to
 * route() on this node (and to other nodes, in a cluster).
 */
export class Router {
  private readonly tree = new SubscriptionTree<TreeEntry>();
  private readonly readChecks: boolean;

  constructor(
    private readonly options: BrokerOptions,
    private readonly stats: BrokerStats,
    private readonly events: EventEmitter<BrokerEvents>,
    private readonly retained: RetainedStore,
    private readonly sessions: ReadonlyMap<string, Session>,
    private readonly bus: MessageBus,
  ) {
    this.readChecks = options.authorizer !== allowEveryone;
    bus.attach((message, publisherId, tracker) => this.route(message, publisherId, tracker));
  }

  /** An application message accepted from a client or the host program: retain it, route it, announce it. */
  accept(message: Message, from: ClientLink | undefined, tracker?: DeliveryTracker): void {
    this.stats.publishReceived++;
    if (message.retain && this.retained.put(message)) {
      this.stats.retainedChanged(this.retained.size);
      const store = this.options.persistence;
      if (store && !message.topic.startsWith('$SYS/')) {
        if (message.payload.length === 0) store.deleteRetained(message.topic);
        else store.saveRetained(message);
      }
    }
    this.bus.publish(message, from?.clientId, tracker);
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
    connection: ClientLink,
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

  unsubscribe(connection: ClientLink, filters: string[]): number[] {
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

  removeFromTree(clientId: string, filter: string): void {
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
