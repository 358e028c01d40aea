import type { EventEmitter } from 'node:events';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { BrokerOptions } from './options.js';
import type { ClientLink } from './ports/client-link.js';
import type { StoredSession } from './ports/persistence.js';
import type { Router } from './router.js';
import { NEVER_EXPIRES, Session, type Will } from './session.js';
import type { BrokerStats } from './stats.js';
import type { BrokerEvents, DisconnectReason } from './types.js';

/**
 * Every session by client id and the live link of each: opening (clean start, resume, takeover),
 * ending, expiry and will timers, wills, and what a persistent session records in the store.
 */
export class SessionRegistry {
  readonly sessions = new Map<string, Session>();
  /** Live links by client id (one per id: a new one takes the session over). */
  readonly connections = new Map<string, ClientLink>();
  private readonly timers = new Map<Session, NodeJS.Timeout>();

  private router!: Router;

  constructor(
    private readonly options: BrokerOptions,
    private readonly stats: BrokerStats,
    private readonly events: EventEmitter<BrokerEvents>,
  ) {}

  /** The router and the registry need each other (wills are routed; ended sessions leave the tree). */
  useRouter(router: Router): void {
    this.router = router;
  }

  /**
   * Rebuilds the offline sessions read back from the store (see BrokerCore.restore for the wills and
   * held QoS 2 messages of sessions that were online).
   */
  restore(sessions: StoredSession[]): void {
    const store = this.options.persistence;
    if (!store) return;
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
        this.router.addToTree(r.clientId, filter, options);
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
    this.stats.subscriptionsChanged(this.router.subscriptionCount());
    // Every session is back before anything is routed, so restored subscribers get what is published.
    for (const session of restored) {
      if (session.expiryInterval === 0) {
        for (const [packetId, message] of [...session.inboundQos2]) {
          session.releaseInboundQos2(packetId);
          if (message) this.router.accept(message, undefined);
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

  openSession(
    connection: ClientLink,
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

  connected(connection: ClientLink): void {
    this.stats.clientConnected(this.connections.size);
    this.events.emit('client-connect', connection.info!);
  }

  disconnected(connection: ClientLink, reason: DisconnectReason): void {
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
    for (const filter of session.subscriptions.keys()) this.router.removeFromTree(session.clientId, filter);
    session.subscriptions.clear();
    if (session.journal || session.recorded) {
      this.options.persistence?.deleteSession(session.clientId);
      session.journal = undefined;
      session.recorded = false;
    }
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  private publishWill(will: Will): void {
    this.router.accept({ ...will.message, receivedAt: Date.now() }, undefined);
  }
}
