/**
 * An MQTT-aware TCP proxy for the bridge tests: it parses what crosses in each direction (mqtt-packet),
 * records every packet, and can cut the link at an exact step of a flow (the packet a rule names is
 * swallowed and both sockets are reset, so neither side sees it: "the link dropped just before it
 * arrived"). The packets are forwarded re-encoded, one at a time, so a cut falls between two packets.
 */
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export type Direction = 'toRemote' | 'toBridge';

export interface Tapped {
  direction: Direction;
  packet: Packet;
  /** A PUBLISH's topic, its topic alias resolved (the packet's own topic may be empty). */
  topic?: string;
  /** Which connection through the tap (1, 2, …). */
  link: number;
}

export interface MqttTap {
  readonly port: number;
  /** Every packet seen, in order, both directions (swallowed ones included). */
  readonly packets: Tapped[];
  /** Connections accepted so far. */
  readonly accepted: number;
  /** The next packet matching `pred` is swallowed and the link reset; resolves when that happened. */
  cutAt(pred: (t: Tapped) => boolean): Promise<Tapped>;
  /** Stop listening, as a host that is down (connections refused); open links stay. */
  down(): Promise<void>;
  /** Listen again, on the same port. */
  up(): Promise<void>;
  /** Reset every open connection. */
  reset(): void;
  close(): Promise<void>;
}

export async function startMqttTap(targetPort: number): Promise<MqttTap> {
  const packets: Tapped[] = [];
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  const cuts: { pred: (t: Tapped) => boolean; resolve: (t: Tapped) => void }[] = [];
  let accepted = 0;

  const resetPair = (pair: [net.Socket, net.Socket]) => {
    pairs.delete(pair);
    for (const s of pair) s.resetAndDestroy();
  };

  const server = net.createServer((bridge) => {
    const link = ++accepted;
    const remote = net.connect({ host: '127.0.0.1', port: targetPort });
    const pair: [net.Socket, net.Socket] = [bridge, remote];
    pairs.add(pair);
    for (const s of pair) {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => {
        sockets.delete(s);
        if (pairs.has(pair)) resetPair(pair);
      });
    }
    // The bridge's CONNECT says the protocol version both directions speak from then on.
    let version = 4;
    const toRemote = mqttPacket.parser({ protocolVersion: 4 });
    let toBridge: ReturnType<typeof mqttPacket.parser> | undefined;
    const aliases = { toRemote: new Map<number, string>(), toBridge: new Map<number, string>() };
    const forward = (direction: Direction, to: net.Socket) => (packet: Packet) => {
      if (!pairs.has(pair)) return;
      const tapped: Tapped = { direction, packet, link };
      if (packet.cmd === 'publish') {
        const alias = packet.properties?.topicAlias;
        if (alias !== undefined && packet.topic !== '') aliases[direction].set(alias, packet.topic);
        tapped.topic = packet.topic || (alias === undefined ? '' : aliases[direction].get(alias));
      }
      packets.push(tapped);
      const cut = cuts.findIndex((c) => c.pred(tapped));
      if (cut >= 0) {
        const [c] = cuts.splice(cut, 1);
        resetPair(pair);
        c!.resolve(tapped);
        return;
      }
      to.write(mqttPacket.generate(packet, { protocolVersion: version } as never));
    };
    toRemote.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connect') {
        version = packet.protocolVersion === 5 ? 5 : (packet.protocolVersion ?? 4);
        toBridge = mqttPacket.parser({ protocolVersion: version } as never);
        toBridge.on('packet', forward('toBridge', bridge));
      }
      forward('toRemote', remote)(packet);
    });
    bridge.on('data', (chunk: Buffer) => toRemote.parse(chunk));
    remote.on('data', (chunk: Buffer) => toBridge?.parse(chunk));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    packets,
    get accepted() {
      return accepted;
    },
    cutAt(pred) {
      return new Promise((resolve) => cuts.push({ pred, resolve }));
    },
    down() {
      // Not listening from now on; close()'s callback would wait for the open links to end too.
      server.close();
      return Promise.resolve();
    },
    up() {
      return listen(port);
    },
    reset() {
      for (const p of [...pairs]) resetPair(p);
    },
    async close() {
      for (const s of [...sockets]) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
