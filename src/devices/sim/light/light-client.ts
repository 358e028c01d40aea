/**
 * The MQTT client of a light board: what the firmware's client does on the wire, in a few hundred
 * bytes of state instead of an interpreter. MQTT 3.1.1 with a persistent session, a retained
 * `offline` will and retained `online` on <device>/status, QoS 0 dropped while offline, QoS 1
 * through a bounded outbox with one message in flight (resent with DUP after a reconnect or
 * retry_ms), every subscription at QoS 1, pings at a quarter of the keepalive, reconnects with
 * jittered exponential backoff. Time comes from the fleet's tick: no timers per client.
 */
import net from 'node:net';
import tls from 'node:tls';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { Random } from '../random.js';

export interface LightClientOptions {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  /** PEM of a CA: TLS, verified against it. */
  ca?: string;
  keepaliveS: number;
  queueMax: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  retryMs: number;
  /** Filters subscribed at QoS 1 (once per session). */
  subscriptions: string[];
  rng: Random;
  onMessage(topic: string, payload: Buffer): void;
  /** The link came up: `online` and info are the board's to publish. */
  onUp(): void;
}

interface Outgoing {
  topic: string;
  payload: string;
  retain: boolean;
  messageId: number;
}

export class LightClient {
  connected = false;
  connects = 0;
  /** QoS 1 messages the broker acknowledged, and QoS 0 ones written to a live link, per topic. */
  readonly sent = new Map<string, number>();
  /** QoS 0 published while offline; QoS 1 pushed out of a full outbox. */
  droppedQos0 = 0;
  dropped = 0;
  /** QoS 1 messages sent again (DUP) for want of a PUBACK, per topic: a subscriber may get them twice. */
  readonly resent = new Map<string, number>();
  private socket: net.Socket | undefined;
  private outbox: Outgoing[] = [];
  private inflightSince = 0;
  private nextId = 0;
  private delay = 0;
  private retryAt = 0;
  private lastRx = 0;
  private lastPing = 0;
  private stopped = false;
  /**
   * A path to the broker: false while Wi-Fi is off, the broker is unreachable or the power is out.
   * Nothing gets through either way then, and no connect is answered.
   */
  private pathUp = true;
  /** Connections the board gave up on without a word on the wire, until the peer closes them. */
  private readonly silent = new Set<net.Socket>();

  constructor(private readonly o: LightClientOptions) {}

  get path(): boolean {
    return this.pathUp;
  }

  set path(up: boolean) {
    this.pathUp = up;
    // What the board closed while there was no path now reaches the broker.
    if (up) for (const s of this.silent) s.destroy();
  }

  get pending(): number {
    return this.outbox.length;
  }

  publish(topic: string, payload: string, qos: 0 | 1, retain = false): void {
    if (qos === 1) {
      if (this.outbox.length >= this.o.queueMax) {
        this.outbox.shift();
        this.dropped++;
      }
      this.outbox.push({ topic, payload, retain, messageId: 0 });
      this.pump(Date.now());
      return;
    }
    if (!this.connected || !this.pathUp) {
      this.droppedQos0++; // not sent, or sent into the void: QoS 0 is lost either way
      return;
    }
    this.write({ cmd: 'publish', topic, payload, qos: 0, retain, dup: false });
    this.count(topic);
  }

  /** Called by the fleet about once a second: connect, ping, notice a silent broker, resend. */
  tick(now: number): void {
    if (this.stopped) return;
    if (!this.socket) {
      if (this.pathUp && now >= this.retryAt) this.connect(now);
      return;
    }
    if (!this.connected) return;
    const ka = this.o.keepaliveS * 1000;
    if (now - this.lastRx > ka) {
      this.drop(); // no packet for a whole keepalive: the link is dead
      return;
    }
    if (now - this.lastPing >= ka / 4) {
      this.lastPing = now;
      this.write({ cmd: 'pingreq' });
    }
    this.pump(now);
  }

  private connect(now: number): void {
    // Jittered exponential backoff, as mqtt_connect.py: the fleet must not come back in lockstep.
    this.delay = Math.min(this.o.backoffMaxMs, Math.max(this.o.backoffMinMs, this.delay * 2));
    this.retryAt = now + this.delay / 2 + this.o.rng.next() * (this.delay / 2);
    const s = this.o.ca
      ? tls.connect({ host: this.o.host, port: this.o.port, ca: [this.o.ca], servername: sni(this.o.host) })
      : net.connect({ host: this.o.host, port: this.o.port });
    this.socket = s;
    s.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => this.onPacket(p));
    parser.on('error', () => s.destroy());
    s.on('data', (d) => {
      if (!this.pathUp) return; // nothing arrives without a path
      this.lastRx = Date.now();
      parser.parse(d);
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.connected = false;
      this.inflightSince = 0;
    });
    s.once(this.o.ca ? 'secureConnect' : 'connect', () => {
      this.write({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: false,
        clientId: this.o.clientId,
        keepalive: this.o.keepaliveS,
        ...(this.o.username !== undefined ? { username: this.o.username } : {}),
        ...(this.o.password !== undefined ? { password: Buffer.from(this.o.password) } : {}),
        will: { topic: `${this.o.clientId}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
    });
  }

  private onPacket(p: Packet): void {
    const now = Date.now();
    switch (p.cmd) {
      case 'connack':
        if (p.returnCode !== 0) {
          this.socket?.destroy();
          return;
        }
        this.connected = true;
        this.connects++;
        this.lastPing = now;
        this.delay = 0; // simpler than the firmware's stable_ms: a CONNACK resets the backoff
        this.publish(`${this.o.clientId}/status`, 'online', 0, true);
        if (!p.sessionPresent && this.o.subscriptions.length)
          this.write({
            cmd: 'subscribe',
            messageId: this.id(),
            subscriptions: this.o.subscriptions.map((topic) => ({ topic, qos: 1 })),
          });
        this.o.onUp();
        this.pump(now);
        return;
      case 'publish':
        if (p.qos === 1) this.write({ cmd: 'puback', messageId: p.messageId! });
        this.o.onMessage(p.topic, p.payload as Buffer);
        return;
      case 'puback': {
        const head = this.outbox[0];
        if (head && head.messageId === p.messageId) {
          this.outbox.shift();
          this.count(head.topic);
          this.inflightSince = 0;
          this.pump(now);
        }
        return;
      }
    }
  }

  /** Sends the outbox's head if nothing is in flight, or again (DUP) after retry_ms without PUBACK. */
  private pump(now: number): void {
    const m = this.outbox[0];
    if (!m || !this.connected) return;
    if (this.inflightSince && now - this.inflightSince < this.o.retryMs) return;
    const dup = m.messageId !== 0;
    if (!dup) m.messageId = this.id();
    else this.resent.set(m.topic, (this.resent.get(m.topic) ?? 0) + 1);
    this.inflightSince = now;
    this.write({
      cmd: 'publish',
      topic: m.topic,
      payload: m.payload,
      qos: 1,
      retain: m.retain,
      dup,
      messageId: m.messageId,
    });
  }

  private id(): number {
    this.nextId = (this.nextId % 65535) + 1;
    return this.nextId;
  }

  private count(topic: string): void {
    this.sent.set(topic, (this.sent.get(topic) ?? 0) + 1);
  }

  private write(p: Packet): void {
    if (this.pathUp) this.socket?.write(mqttPacket.generate(p)); // else it never leaves
  }

  /**
   * The board drops its link. Without a path the close goes nowhere: the broker notices only by
   * its keepalive (and publishes the will), as with a real board.
   */
  drop(): void {
    const s = this.socket;
    if (!s) return;
    this.socket = undefined;
    this.connected = false;
    this.inflightSince = 0;
    if (this.pathUp) {
      s.destroy();
      return;
    }
    this.silent.add(s);
    s.once('close', () => this.silent.delete(s));
  }

  /** The power is cut: the client stops where it is, its connection silent until the broker gives up. */
  cut(): void {
    this.pathUp = false;
    this.drop();
    this.stopped = true;
  }

  /** Ends everything now (the sim exiting). */
  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
    this.socket = undefined;
    this.connected = false;
    for (const s of this.silent) s.destroy();
  }
}

/** SNI takes a name, not an address. */
function sni(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}
