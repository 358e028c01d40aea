/**
 * The packet ids a bridge uses on its remote link are those of its local session's in-flight
 * messages, so what is resent after a reconnect keeps its id (as mosquitto's bridge does): a QoS 2
 * PUBLISH the remote already has is recognised there (PUBREC, no second delivery), and one it has
 * released is finished with PUBREL alone. The bridge's own packets (SUBSCRIBE, the state notification)
 * take ids the session is not using. An MQTT.js message id provider, one per remote client.
 */
import type { IClientOptions, MqttClient } from 'mqtt';

export class RemotePacketIds implements NonNullable<IClientOptions['messageIdProvider']> {
  private wanted: number | undefined;
  private readonly inUse = new Set<number>();
  /** Remote id -> local packet id, for the messages of the local session. */
  private readonly locals = new Map<number, number>();
  private last: number | null = null;
  private own = 65535;

  constructor(private readonly localInFlight: (id: number) => boolean) {}

  /**
   * The next PUBLISH takes this id (unless it is taken); undefined again once sent: MQTT.js may defer
   * a publish (while it replays its own store), and that one takes an id of its own.
   */
  nextPublish(packetId: number | undefined): void {
    this.wanted = packetId;
  }

  /** The local packet id of a remote one (undefined: one of the bridge's own packets). */
  localOf(remoteId: number): number | undefined {
    return this.locals.get(remoteId);
  }

  allocate(): number | null {
    const wanted = this.wanted;
    this.wanted = undefined;
    if (wanted !== undefined && !this.inUse.has(wanted)) {
      this.locals.set(wanted, wanted);
      return this.take(wanted);
    }
    // Downwards from the top, where the session's ascending ids are least likely to be soon.
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.own;
      this.own = id === 1 ? 65535 : id - 1;
      if (this.inUse.has(id) || this.localInFlight(id)) continue;
      if (wanted !== undefined) this.locals.set(id, wanted);
      return this.take(id);
    }
    return null;
  }

  getLastAllocated(): number | null {
    return this.last;
  }

  register(id: number): boolean {
    if (this.inUse.has(id)) return false;
    this.inUse.add(id);
    return true;
  }

  deallocate(id: number): void {
    this.inUse.delete(id);
    this.locals.delete(id);
  }

  clear(): void {
    this.inUse.clear();
    this.locals.clear();
  }

  private take(id: number): number {
    this.inUse.add(id);
    this.last = id;
    return id;
  }
}

/** What MQTT.js keeps of a packet in flight (its own field, not in its types). */
interface Outgoing {
  outgoing: Record<number, { volatile: boolean; cmd: string; cb: (err?: Error) => void }>;
  _sendPacket(packet: object): void;
}

/**
 * PUBREL for a QoS 2 message the remote had before the link dropped (it sent PUBREC); `done` on
 * its PUBCOMP. Nothing when this client already waits for that PUBCOMP (it sent PUBREL itself).
 */
export function sendPubrel(
  client: MqttClient,
  ids: RemotePacketIds,
  packetId: number,
  done: (err?: Error) => void,
): void {
  const c = client as unknown as Outgoing;
  if (c.outgoing[packetId] || !ids.register(packetId)) return;
  c.outgoing[packetId] = { volatile: false, cmd: 'pubrel', cb: done };
  c._sendPacket({ cmd: 'pubrel', qos: 1, messageId: packetId });
}
