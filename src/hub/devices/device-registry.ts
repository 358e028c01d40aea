/**
 * Every board the hub knows, with no configuration: our boards announce themselves with a retained
 * `<device>/status` (`online`, and the will `offline`) and `<device>/info` (JSON: app, firmware, IP,
 * RSSI, heap, reset cause, pins, topics); any other client appears from its session. Presence, last
 * seen and the last disconnects with an enumerated reason come from the broker's own events.
 */
import type { ClientInfo, DisconnectReason, Message } from '../../broker/types.js';
import type { BrokerView } from '../broker-view.js';

/** Why a client's connection ended: the broker's reasons, plus a login the broker refused. */
export type DisconnectCause = DisconnectReason | 'auth-failure';

export interface DisconnectEvent {
  at: number;
  reason: DisconnectCause;
  address: string;
}

export interface ClientDetails {
  clientId: string;
  username: string | undefined;
  address: string;
  protocolVersion: 3 | 4 | 5;
  keepalive: number;
  cleanStart: boolean;
  connectedAt: number;
  listener: string;
}

export interface Device {
  /** The device name: the topic prefix of its status/info, and our boards' client id. */
  id: string;
  /** It publishes `<id>/status` or `<id>/info` (our firmware's conventions). */
  ours: boolean;
  online: boolean;
  /** Epoch ms since when it is online or offline (as far as the hub saw). */
  since: number | undefined;
  /** Epoch ms of the last message from it or its last connect/disconnect. */
  lastSeen: number | undefined;
  /** Its `<id>/info` document, as published. */
  info: Record<string, unknown> | undefined;
  /** Its connection, while connected. */
  client: ClientDetails | undefined;
  session: { subscriptions: number; inflight: number; queued: number; expiresAt?: number } | undefined;
  /** The last disconnects, newest first. */
  disconnects: DisconnectEvent[];
}

const MAX_DISCONNECTS = 20;
/** Bounds memory when thousands of clients with random ids come and go. */
const MAX_TRACKED = 10_000;

interface Tracked {
  status: 'online' | 'offline' | undefined;
  statusAt: number | undefined;
  info: Record<string, unknown> | undefined;
  /**
   * NaN until first seen: stored on every message, so kept a number field (unboxed, updated in place;
   * `undefined` first would box each store).
   */
  lastSeen: number;
  connectedAt: number | undefined;
  disconnectedAt: number | undefined;
  disconnects: DisconnectEvent[];
}

function parseInfo(payload: Buffer): Record<string, unknown> | undefined {
  if (payload.length === 0 || payload.length > 16_384) return undefined;
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the registry keeps clients' disconnects across restarts (the history database); without one
 * they live in memory only.
 */
export interface DisconnectStore {
  /** Every kept disconnect, oldest first. */
  load(): { clientId: string; at: number; reason: string; address: string }[];
  append(d: { clientId: string; at: number; reason: string; address: string }): void;
}

export class DeviceRegistry {
  private readonly tracked = new Map<string, Tracked>();
  private readonly listeners: [string, (...args: never[]) => void][] = [];

  constructor(
    private readonly broker: BrokerView,
    private readonly now: () => number = Date.now,
    private readonly store?: DisconnectStore,
  ) {
    for (const d of store?.load() ?? [])
      this.remember(d.clientId, d.reason as DisconnectCause, d.address, d.at);
    // What was retained before the hub started (our boards' status and info survive restarts).
    for (const m of broker.retained()) this.onMessage(m, undefined);
    this.listen('publish', (m: Message, from: string | undefined) => this.onMessage(m, from));
    this.listen('client-connect', (c: ClientInfo) => {
      const t = this.entry(c.clientId);
      t.connectedAt = this.now();
      t.lastSeen = t.connectedAt;
    });
    this.listen('client-disconnect', (c: ClientInfo, reason: DisconnectReason) =>
      this.recordDisconnect(c.clientId, reason, c.remoteAddress),
    );
    this.listen('connect-refused', (a: { clientId: string; remoteAddress: string }) => {
      if (a.clientId) this.recordDisconnect(a.clientId, 'auth-failure', a.remoteAddress);
    });
  }

  private listen(event: string, fn: (...args: never[]) => void): void {
    this.broker.on(event as 'publish', fn as never);
    this.listeners.push([event, fn]);
  }

  close(): void {
    for (const [event, fn] of this.listeners.splice(0)) this.broker.off(event as 'publish', fn as never);
  }

  private entry(id: string): Tracked {
    let t = this.tracked.get(id);
    if (!t) {
      if (this.tracked.size >= MAX_TRACKED) this.forgetOldest();
      t = {
        status: undefined,
        statusAt: undefined,
        info: undefined,
        lastSeen: Number.NaN,
        connectedAt: undefined,
        disconnectedAt: undefined,
        disconnects: [],
      };
      this.tracked.set(id, t);
    }
    return t;
  }

  private forgetOldest(): void {
    let oldest: string | undefined;
    let at = Number.POSITIVE_INFINITY;
    for (const [id, t] of this.tracked) {
      if (t.status !== undefined) continue; // our boards are kept
      const seen = Number.isNaN(t.lastSeen) ? 0 : t.lastSeen;
      if (seen < at) {
        at = seen;
        oldest = id;
      }
    }
    if (oldest !== undefined) this.tracked.delete(oldest);
  }

  private recordDisconnect(id: string, reason: DisconnectCause, address: string): void {
    const at = this.now();
    this.remember(id, reason, address, at);
    this.store?.append({ clientId: id, at, reason, address });
  }

  private remember(id: string, reason: DisconnectCause, address: string, at: number): void {
    const t = this.entry(id);
    t.lastSeen = at;
    if (reason !== 'auth-failure') t.disconnectedAt = at;
    t.disconnects.unshift({ at, reason, address });
    if (t.disconnects.length > MAX_DISCONNECTS) t.disconnects.length = MAX_DISCONNECTS;
  }

  private onMessage(m: Message, from: string | undefined): void {
    const at = m.receivedAt;
    if (from !== undefined) this.entry(from).lastSeen = at;
    // Every message comes here: most are turned away by their topic's last letter (status, info), with
    // no string cut from the topic.
    const last = m.topic.charCodeAt(m.topic.length - 1);
    if (last !== 0x73 && last !== 0x6f) return;
    const slash = m.topic.lastIndexOf('/');
    if (slash <= 0 || m.topic.startsWith('$')) return;
    const leaf = m.topic.slice(slash + 1);
    if (leaf !== 'status' && leaf !== 'info') return;
    const id = m.topic.slice(0, slash);
    if (leaf === 'status') {
      const word = m.payload.toString('utf8').trim().toLowerCase();
      if (m.payload.length === 0 && this.tracked.get(id)?.status !== undefined) {
        // The retained status was cleared: the board is forgotten unless it connects again.
        this.entry(id).status = undefined;
        return;
      }
      if (word !== 'online' && word !== 'offline') return;
      const t = this.entry(id);
      if (t.status !== word) t.statusAt = at;
      t.status = word;
      return;
    }
    const info = parseInfo(m.payload);
    if (info) this.entry(id).info = info;
  }

  /** Every device: our boards (from status/info) and every other client with a session. */
  list(): Device[] {
    const clients = new Map(this.broker.clients().map((c) => [c.clientId, c]));
    const sessions = new Map(this.broker.sessionInfo().map((s) => [s.clientId, s]));
    const ids = new Set<string>();
    for (const [id, t] of this.tracked) if (t.status !== undefined || t.info !== undefined) ids.add(id);
    for (const id of clients.keys()) ids.add(id);
    for (const id of sessions.keys()) ids.add(id);
    return [...ids].sort().map((id) => this.describe(id, clients.get(id), sessions.get(id)));
  }

  /** Clients not connected now whose disconnects the hub saw, most recent first (the inspector's history). */
  recentlyGone(connected: Set<string>, limit = 100): { clientId: string; disconnects: DisconnectEvent[] }[] {
    return [...this.tracked.entries()]
      .filter(([id, t]) => t.disconnects.length > 0 && !connected.has(id))
      .sort((a, b) => b[1].disconnects[0]!.at - a[1].disconnects[0]!.at)
      .slice(0, limit)
      .map(([clientId, t]) => ({ clientId, disconnects: [...t.disconnects] }));
  }

  /** A client's last disconnects, newest first. */
  disconnectsOf(clientId: string): DisconnectEvent[] {
    return [...(this.tracked.get(clientId)?.disconnects ?? [])];
  }

  get(id: string): Device | undefined {
    return this.list().find((d) => d.id === id);
  }

  private describe(
    id: string,
    client: ClientInfo | undefined,
    session: ReturnType<BrokerView['sessionInfo']>[number] | undefined,
  ): Device {
    const t = this.tracked.get(id);
    const ours = t?.status !== undefined || t?.info !== undefined;
    // Our boards say it themselves (the will says offline when the link dies); others: connected or not.
    const online = ours && t?.status !== undefined ? t.status === 'online' : client !== undefined;
    const since =
      ours && t?.status !== undefined ? t.statusAt : client ? client.connectedAt : t?.disconnectedAt;
    const device: Device = {
      id,
      ours,
      online,
      since,
      lastSeen: t === undefined || Number.isNaN(t.lastSeen) ? undefined : t.lastSeen,
      info: t?.info,
      client: client
        ? {
            clientId: client.clientId,
            username: client.username,
            address: client.remoteAddress,
            protocolVersion: client.protocolVersion,
            keepalive: client.keepalive,
            cleanStart: client.cleanStart,
            connectedAt: client.connectedAt,
            listener: client.listener,
          }
        : undefined,
      session: session
        ? {
            subscriptions: session.subscriptions,
            inflight: session.inflight,
            queued: session.queued,
            ...(session.expiresAt !== undefined ? { expiresAt: session.expiresAt } : {}),
          }
        : undefined,
      disconnects: t ? [...t.disconnects] : [],
    };
    return device;
  }
}
