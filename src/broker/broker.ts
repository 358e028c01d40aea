import type { Duplex } from 'node:stream';
import { ErrorCodes, MothershipError } from '../errors.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import { topicNameProblem } from '../protocol/topic.js';
import { BrokerCore } from './broker-core.js';
import { Connection } from './connection.js';
import { InProcessClient, type InProcessClientOptions } from './in-process-client.js';
import type { BrokerOptions } from './options.js';
import { SysTopics } from './sys-topics.js';
import type {
  BrokerEvents,
  ClientInfo,
  ConnectionMeta,
  Message,
  PublishInput,
  QoS,
  SessionInfo,
  SubscriptionInfo,
} from './types.js';

/**
 * The embeddable MQTT broker. Transports hand it byte streams (`handleConnection`); the host program
 * publishes, inspects clients and subscriptions, and listens to events. Listening on ports is added by
 * the package entry point (src/index.ts), which wires in the transports.
 */
export class Broker {
  protected readonly core: BrokerCore;
  private readonly sys: SysTopics;
  private readonly live = new Set<Connection>();
  /** Set by drain(): network clients are turned away; the host program may still publish. */
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly countersTimer: NodeJS.Timeout | undefined;
  /** Set while a store with asynchronous reads is still loading: connections and publishes wait. */
  private restoring: Promise<void> | undefined;
  /**
   * Resolves once the stored state is loaded (at once with no store or a synchronous one); rejects
   * when the store could not be read, and the broker then serves no one.
   */
  readonly ready: Promise<void>;

  constructor(options: Partial<BrokerOptions> = {}) {
    this.core = new BrokerCore(options);
    const restored = this.core.restore();
    if (restored instanceof Promise) {
      this.restoring = restored.then(() => {
        this.restoring = undefined;
      });
      this.ready = this.restoring;
      // A failed load is reported through `ready`; connections waiting on it are closed.
      this.restoring.catch(() => {});
    } else this.ready = Promise.resolve();
    this.sys = new SysTopics(this.core);
    this.sys.start(this.core.options.sysInterval);
    if (this.core.options.persistence) {
      // The dropped/expired/refused counts survive restarts; a crash loses at most the last second.
      this.countersTimer = setInterval(() => {
        if (!this.restoring) this.core.saveCounters(); // not over the stored ones before they are read
      }, 1000);
      this.countersTimer.unref();
    }
  }

  get options(): Readonly<BrokerOptions> {
    return this.core.options;
  }

  get stats(): Readonly<BrokerCore['stats']> {
    return this.core.stats;
  }

  on<E extends keyof BrokerEvents>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.core.events.on(event, listener as never);
    return this;
  }

  off<E extends keyof BrokerEvents>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.core.events.off(event, listener as never);
    return this;
  }

  once<E extends keyof BrokerEvents>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.core.events.once(event, listener as never);
    return this;
  }

  /** Serves one MQTT byte stream (a TCP socket, a TLS socket, a WebSocket stream). */
  handleConnection(stream: Duplex, meta: ConnectionMeta): void {
    if (this.draining || this.closed) {
      stream.destroy();
      return;
    }
    if (this.restoring) {
      // Its bytes wait in the stream's buffer until the sessions it may resume are loaded.
      this.restoring.then(
        () => this.handleConnection(stream, meta),
        () => stream.destroy(),
      );
      return;
    }
    const connection = new Connection(this.core, stream, meta);
    this.live.add(connection);
    stream.once('close', () => this.live.delete(connection));
  }

  /**
   * A client in this process, without a socket (a bridge's local side): its session opens now,
   * offline, and queues until it is attached to its far side. Call once the broker is `ready`.
   */
  inProcessClient(options: InProcessClientOptions): InProcessClient {
    if (this.closed) throw new MothershipError(ErrorCodes.BROKER_CLOSED, 'the broker is closed');
    return new InProcessClient(this.core, options);
  }

  /** Publishes from the host program, as if a client had (retained and QoS rules apply). */
  publish(input: PublishInput): void {
    if (this.closed) throw new MothershipError(ErrorCodes.BROKER_CLOSED, 'the broker is closed');
    const problem = topicNameProblem(input.topic);
    if (problem)
      throw new MothershipError(ErrorCodes.INVALID_TOPIC, `invalid topic '${input.topic}': ${problem}`);
    if (this.restoring) {
      // Routed once the sessions it may be queued for are loaded (a failed load drops it with them).
      this.restoring.then(() => this.publish(input)).catch(() => {});
      return;
    }
    const payload = typeof input.payload === 'string' ? Buffer.from(input.payload) : input.payload;
    const message: Message = this.core.makeMessage(
      input.topic,
      payload,
      (input.qos ?? 0) as QoS,
      input.retain ?? false,
      input.properties,
    );
    this.core.accept(message, undefined);
  }

  clients(): ClientInfo[] {
    return [...this.core.connections.values()].map((c) => c.info!).filter(Boolean);
  }

  subscriptions(clientId?: string): SubscriptionInfo[] {
    const out: SubscriptionInfo[] = [];
    for (const session of this.core.sessions.values()) {
      if (clientId !== undefined && session.clientId !== clientId) continue;
      for (const [filter, options] of session.subscriptions)
        out.push({ clientId: session.clientId, filter, ...options });
    }
    return out;
  }

  /** Every session, online or offline, with its in-flight and queued counts. */
  sessionInfo(): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const s of this.core.sessions.values())
      out.push({
        clientId: s.clientId,
        online: s.online,
        expiryInterval: s.expiryInterval,
        expiresAt: s.expiresAt,
        subscriptions: s.subscriptions.size,
        inflight: s.inflight.size,
        queued: s.queuedCount,
      });
    return out;
  }

  /** Ends a client's connection (v5 clients get DISCONNECT 0x98); false when it is not connected. */
  disconnectClient(clientId: string): boolean {
    const link = this.core.connections.get(clientId);
    if (!link) return false;
    link.disconnect('administrative-action', ReasonCode.AdministrativeAction);
    return true;
  }

  retained(): Message[] {
    return [...this.core.retained.all()];
  }

  /** $SYS values as they would be published now. */
  sysValues(): Record<string, string> {
    return this.sys.values();
  }

  /**
   * A graceful stop's first step, for a host that still has work to finish before close() (bridges,
   * history): no new connection, and no new message or subscription from a connected client (left
   * unacknowledged, so the client sends it again to the next broker). What was already routed is
   * delivered and acknowledged, then each client gets DISCONNECT 0x8B (v5) and its socket is closed.
   * Resolves when every connection is closed: within `shutdownGraceMs`, and a second for the clients
   * to close their side.
   */
  drain(): Promise<void> {
    if (!this.draining) {
      this.sys.stop(); // $SYS updates would keep the subscribers' queues from emptying
      const open = [...this.live].map((c) => c.drain(this.core.options.shutdownGraceMs));
      this.draining = Promise.all(open).then(() => this.live.clear());
    }
    return this.draining;
  }

  /** Graceful stop: drain(), then the store is closed. */
  close(): Promise<void> {
    this.closing ??= this.drain().then(() => this.closeStore());
    return this.closing;
  }

  private closeStore(): void {
    this.closed = true;
    clearInterval(this.countersTimer);
    if (!this.restoring) this.core.saveCounters();
    this.core.options.persistence?.close();
  }
}
