import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ISubscription } from 'mqtt-packet';
import { allowEveryone } from './auth.js';
import type { DeliveryTracker } from './delivery-tracker.js';
import { type BrokerOptions, defaultBrokerOptions } from './options.js';
import type { ClientLink } from './ports/client-link.js';
import { LocalMessageBus } from './ports/message-bus.js';
import type { LoadedState } from './ports/persistence.js';
import { RetainedStore } from './retained-store.js';
import { Router, type SubscribeResult } from './router.js';
import type { Session, Will } from './session.js';
import { SessionRegistry } from './session-registry.js';
import { BrokerStats } from './stats.js';
import type { BrokerEvents, DisconnectReason, Message, MessageProperties, QoS } from './types.js';

export type { SubscribeResult } from './router.js';

/**
 * What all connections share, wired together: the session registry, the router behind the message
 * bus, retained messages, counters and events. Connections call in here; the public Broker facade
 * (broker.ts) builds on it.
 */
export class BrokerCore {
  readonly options: BrokerOptions;
  readonly stats = new BrokerStats();
  readonly events = new EventEmitter<BrokerEvents>();
  readonly retained = new RetainedStore();
  readonly router: Router;
  readonly registry: SessionRegistry;

  constructor(options: Partial<BrokerOptions> = {}) {
    this.options = {
      ...defaultBrokerOptions,
      authenticator: allowEveryone,
      authorizer: allowEveryone,
      persistence: undefined,
      messageBus: undefined,
      ...definedOnly(options),
    };
    this.registry = new SessionRegistry(this.options, this.stats, this.events);
    this.router = new Router(
      this.options,
      this.stats,
      this.events,
      this.retained,
      this.registry.sessions,
      this.options.messageBus ?? new LocalMessageBus(),
    );
    this.registry.useRouter(this.router);
  }

  get sessions(): Map<string, Session> {
    return this.registry.sessions;
  }

  /** Live links by client id (one per id: a new one takes the session over). */
  get connections(): Map<string, ClientLink> {
    return this.registry.connections;
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
  restore(): void | Promise<void> {
    const store = this.options.persistence;
    if (!store) return;
    // Only the head of each offline queue is read; the rest is paged in as the client drains it.
    const loaded = store.load(this.options.queueWindow);
    if (loaded instanceof Promise) return loaded.then((state) => this.restoreFrom(state));
    this.restoreFrom(loaded);
  }

  private restoreFrom({ retained, sessions, counters }: LoadedState): void {
    this.stats.publishDropped = counters.dropped ?? 0;
    this.stats.publishExpired = counters.expired ?? 0;
    this.stats.publishRefused = counters.refused ?? 0;
    this.savedCounters = `${this.stats.publishDropped} ${this.stats.publishExpired} ${this.stats.publishRefused}`;
    for (const m of retained) this.retained.put(m);
    this.stats.retainedChanged(this.retained.size);
    this.registry.restore(sessions);
  }

  // ---- what connections call: sessions ----

  openSession(
    link: ClientLink,
    clientId: string,
    cleanStart: boolean,
    expiryInterval: number,
    will: Will | undefined,
  ): { session: Session; sessionPresent: boolean } {
    return this.registry.openSession(link, clientId, cleanStart, expiryInterval, will);
  }

  connected(link: ClientLink): void {
    this.registry.connected(link);
  }

  disconnected(link: ClientLink, reason: DisconnectReason): void {
    this.registry.disconnected(link, reason);
  }

  // ---- what connections call: messages and subscriptions ----

  accept(message: Message, from: ClientLink | undefined, tracker?: DeliveryTracker): void {
    this.router.accept(message, from, tracker);
  }

  subscribe(
    link: ClientLink,
    requests: ISubscription[],
    subscriptionId: number | undefined,
  ): SubscribeResult | 'protocol-error' {
    return this.router.subscribe(link, requests, subscriptionId);
  }

  unsubscribe(link: ClientLink, filters: string[]): number[] {
    return this.router.unsubscribe(link, filters);
  }

  subscriptionCount(): number {
    return this.router.subscriptionCount();
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
