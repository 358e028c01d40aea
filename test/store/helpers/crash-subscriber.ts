import { connect, type Socket } from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

/**
 * A persistent-session subscriber for the crash test that behaves as a board would: it acknowledges
 * each message after its own delay (a board on Wi-Fi: 10–30 ms, without holding up the next ones),
 * reconnects by itself, and can "die" with the broker (its connection cut, back only some time after
 * the broker is). It follows the QoS 2 receiver rules exactly: a PUBLISH whose packet id is awaiting
 * PUBREL is a resend, not a new message [MQTT-4.3.3].
 */
export class CrashSubscriber {
  /** Payload → copies received (QoS 2 resends of one delivery count once). */
  readonly seen = new Map<string, number>();
  /** Deliveries by the QoS they arrived at. */
  readonly byQos = [0, 0, 0];
  private readonly awaitingRel = new Set<number>();
  private socket: Socket | undefined;
  private stopped = false;
  private subscribed = false;
  private pausedUntil = 0;
  private connectedOnce: Promise<void>;
  private resolveConnected: () => void = () => {};

  constructor(
    readonly name: string,
    private readonly port: number,
    private readonly options: {
      version: 4 | 5;
      qos: 0 | 1 | 2;
      /** Each acknowledgement waits a random time in [min, max] ms. */
      ackDelayMs?: [number, number];
      topic: string;
    },
  ) {
    this.connectedOnce = new Promise((r) => {
      this.resolveConnected = r;
    });
    this.open();
  }

  /** Resolves once the first SUBACK arrived. */
  ready(): Promise<void> {
    return this.connectedOnce;
  }

  /** Cuts the connection now and stays away for `ms` (it dies with the broker). */
  die(ms: number): void {
    this.pausedUntil = Date.now() + ms;
    this.socket?.destroy();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
  }

  private open(): void {
    if (this.stopped) return;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      setTimeout(() => this.open(), wait);
      return;
    }
    const { version } = this.options;
    const socket = connect(this.port, '127.0.0.1');
    this.socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: version });
    const send = (packet: Record<string, unknown>): void => {
      if (!socket.destroyed)
        socket.write(mqttPacket.generate(packet as unknown as Packet, { protocolVersion: version } as never));
    };
    parser.on('packet', (p: Packet) => this.onPacket(p, send));
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      setTimeout(() => this.open(), 100);
    });
    socket.on('connect', () =>
      send({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: version,
        clientId: this.name,
        clean: false,
        keepalive: 30,
        ...(version === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      }),
    );
  }

  private later(f: () => void): void {
    const [min, max] = this.options.ackDelayMs ?? [0, 0];
    if (max === 0) return f();
    setTimeout(f, min + Math.random() * (max - min));
  }

  private onPacket(p: Packet, send: (packet: Record<string, unknown>) => void): void {
    switch (p.cmd) {
      case 'connack':
        // The session keeps the subscription across reconnects: subscribe once.
        if (!this.subscribed)
          send({
            cmd: 'subscribe',
            messageId: 1,
            subscriptions: [{ topic: this.options.topic, qos: this.options.qos }],
          });
        return;
      case 'suback':
        this.subscribed = true;
        this.resolveConnected();
        return;
      case 'publish': {
        const publish = p as IPublishPacket;
        const id = publish.messageId;
        if (publish.qos === 2 && this.awaitingRel.has(id!)) {
          this.later(() => send({ cmd: 'pubrec', messageId: id }));
          return;
        }
        const payload = publish.payload.toString();
        this.seen.set(payload, (this.seen.get(payload) ?? 0) + 1);
        this.byQos[publish.qos]!++;
        if (publish.qos === 1) this.later(() => send({ cmd: 'puback', messageId: id }));
        if (publish.qos === 2) {
          this.awaitingRel.add(id!);
          this.later(() => send({ cmd: 'pubrec', messageId: id }));
        }
        return;
      }
      case 'pubrel':
        this.awaitingRel.delete(p.messageId!);
        send({ cmd: 'pubcomp', messageId: p.messageId });
        return;
      default:
        return;
    }
  }
}
