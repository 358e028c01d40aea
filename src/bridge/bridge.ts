/**
 * One bridge (a `connection` block): its local side is an in-process client of this broker whose
 * persistent session is the store-and-forward queue (every message bound out is in the store before
 * its publisher is acknowledged, from broker start, across restarts); its remote side is an MQTT.js
 * client that obeys the remote's CONNACK and reconnects with restart_timeout's backoff. What the
 * remote acknowledged leaves the queue; what it did not is resent after a reconnect.
 */

import type { IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import { forwardedProperties } from '../broker/forwarded-properties.js';
import type { InProcessClient, InProcessSink } from '../broker/in-process-client.js';
import { type Delivery, NEVER_EXPIRES } from '../broker/session.js';
import type { MessageProperties, QoS } from '../broker/types.js';
import { ErrorCodes } from '../errors.js';
import { Backoff } from './backoff.js';
import {
  type BridgeAddress,
  type BridgeConfig,
  localClientIdOf,
  notificationTopicOf,
} from './bridge-config.js';
import { BridgeQueue } from './bridge-queue.js';
import type { BridgeStatus, Drops } from './bridge-status.js';
import { FingerprintWindow, hopsOf, withHop } from './echo-guard.js';
import { RemoteAddresses } from './remote-addresses.js';
import { greetRemote, remoteClient } from './remote-client.js';
import { linkErrorOf, remoteOptions } from './remote-options.js';
import { RemotePacketIds, sendPubrel } from './remote-packet-ids.js';
import { NO_RULES, publishSize, Refusals, type RemoteRules, remoteRulesOf } from './remote-rules.js';
import { carriesOut, toLocal, toRemote } from './topic-rule.js';
import { corkUntilImmediate } from './write-batching.js';

export type { BridgeStatus, Drops } from './bridge-status.js';

export class Bridge {
  private local!: InProcessClient;
  private remote: MqttClient | undefined;
  private remoteVersion: 3 | 4 | 5 | undefined;
  private rules: RemoteRules = NO_RULES;
  private address: BridgeAddress | undefined;
  private readonly addresses: RemoteAddresses;
  private packetIds = new RemotePacketIds(() => false);
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private lazyTimer: NodeJS.Timeout | undefined;
  private lastTraffic = 0;
  private readonly refusals: Refusals;
  private fingerprints: FingerprintWindow | undefined;
  private state: BridgeStatus['state'] = 'waiting';
  private stopped = false;
  private counts = { echoesStopped: 0, forwardedOut: 0, forwardedIn: 0 };
  private readonly drops: Drops = { queueFull: 0, tooOld: 0, tooLarge: 0, refused: 0 };
  private queue: BridgeQueue | undefined;
  private lastError: string | undefined;

  constructor(
    readonly config: BridgeConfig,
    private readonly broker: Broker,
    private readonly log: Logger,
    /** This hub in hop markers: a message that crossed it once never comes back in. */
    private readonly hopId: string,
  ) {
    this.backoff = new Backoff(config.restartTimeout);
    this.addresses = new RemoteAddresses(config.addresses, config.roundRobin);
    this.refusals = new Refusals(config);
  }

  get name(): string {
    return this.config.name;
  }

  start(): void {
    const c = this.config;
    const localClean = c.localCleanSession ?? c.cleanSession;
    this.local = this.broker.inProcessClient({
      clientId: localClientIdOf(c),
      username: c.localUsername, // its ACL applies; without one the bridge is trusted
      sessionExpiry: localClean ? 0 : NEVER_EXPIRES,
      cleanStart: localClean,
      // The queue is the store-and-forward buffer: QoS 0 waits too, bounded by BridgeQueue.
      limits: {
        queueQos0Messages: true,
        maxInflightMessages: 100,
      },
      onEnded: (reason) => {
        this.fail(`its local client id ${localClientIdOf(c)} was taken by another client (${reason})`);
        this.stop();
      },
    });
    this.queue = new BridgeQueue(this.local.session, c.queue, (why) => this.drops[why]++);
    this.queue.start();
    // Out topics: No Local, so what came in over this bridge does not go back; retained messages
    // are sent on a new subscription only (a restart does not send them all again).
    const wanted = c.topics.filter(carriesOut);
    const keep = new Set(wanted.map((r) => r.localFilter));
    const stale = this.local.subscriptions().filter((f) => !keep.has(f));
    if (stale.length > 0) this.local.unsubscribe(stale);
    if (wanted.length > 0)
      this.local.subscribe(
        wanted.map((r) => ({
          filter: r.localFilter,
          qos: r.qos,
          noLocal: true,
          retainAsPublished: true,
          retainHandling: 1,
        })),
      );
    this.notifyLocal(false);
    if (c.startType === 'lazy') this.watchThreshold();
    else this.connect();
  }

  /** Stops the link; the local session (the queue) stays for the next start unless `discard`. */
  async stop(discard = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.state = 'stopped';
    clearTimeout(this.timer);
    clearInterval(this.lazyTimer);
    this.addresses.stop();
    this.queue?.stop();
    if (!this.local) return; // never started (its local login was refused)
    const client = this.remote;
    this.remote = undefined;
    this.local.detach();
    if (client) {
      if (this.config.notifications && !this.config.notificationsLocalOnly && client.connected)
        client.publish(notificationTopicOf(this.config), '0', { qos: 0, retain: this.rules.retainAvailable });
      // MQTT.js's graceful end waits for what is in flight, for ever when the remote is gone (a stop
      // that never finished, seen in remote-limits' teardown). What is in flight is still in our queue,
      // so ending at once loses nothing: graceful (DISCONNECT) only when connected with nothing in flight.
      const graceful = client.connected && Object.keys(client.outgoing).length === 0;
      await new Promise<void>((resolve) => client.end(!graceful, {}, () => resolve()));
    }
    this.notifyLocal(false);
    this.local.end('server-shutting-down', discard);
  }

  /** Not started: this broker refused its local_username (Bridges tries again later). */
  refusedLocally(reason: string): void {
    this.state = 'waiting';
    this.fail(reason);
  }

  status(): BridgeStatus {
    const session = this.local?.session;
    const oldest = session
      ? Math.min(
          session.inflight.values().next().value?.delivery.message.receivedAt ?? Number.POSITIVE_INFINITY,
          session.queue[0]?.delivery.message.receivedAt ?? Number.POSITIVE_INFINITY,
        )
      : Number.POSITIVE_INFINITY;
    const connected = this.state === 'connected';
    return {
      name: this.name,
      state: this.state,
      connected,
      remoteAddress: connected && this.address ? `${this.address.host}:${this.address.port}` : undefined,
      protocolVersion: connected ? this.remoteVersion : undefined,
      queued: session ? session.queuedCount + session.inflight.size : 0,
      oldestQueuedAt: Number.isFinite(oldest) ? oldest : undefined,
      queuedBytes: this.queue?.bytes ?? 0,
      dropped: Object.values(this.drops).reduce((a, b) => a + b, 0),
      drops: { ...this.drops },
      ...this.counts,
      lastError: this.lastError,
    };
  }

  // ---- the remote link ----

  private connect(): void {
    if (this.stopped) return;
    const c = this.config;
    const address = this.addresses.current;
    const version = this.refusals.version;
    let options: ReturnType<typeof remoteOptions>;
    try {
      options = remoteOptions(c, address, version, this.refusals.will);
    } catch (err) {
      this.fail((err as Error).message);
      this.retry();
      return;
    }
    this.state = 'connecting';
    this.address = address;
    const { client, ids } = remoteClient(
      options,
      this.refusals.useBridgeBit(version),
      (id) => this.local.session.inflight.has(id),
      {
        connected: (client, connack) => this.onConnected(client, connack, version),
        error: (client, err) => this.onError(client, err, version),
        closed: (client) => this.onClosed(client),
        disconnected: (client, why) => client === this.remote && this.fail(why),
        message: (client, p, done) => this.fromRemote(client, p.topic, p.payload as Buffer, p, done),
        received: (client, packetId) => client === this.remote && this.local.received(packetId),
      },
    );
    this.remote = client;
    this.packetIds = ids;
    client.connect();
  }

  private onError(client: MqttClient, err: Error, version: 3 | 4 | 5): void {
    if (client !== this.remote) return;
    this.refusals.learn((err as Error & { code?: unknown }).code, version);
    this.fail(linkErrorOf(err, this.config.tls));
  }

  private fail(message: string): void {
    this.lastError = message;
    this.log.warn(
      { event: 'bridge-error', bridge: this.name, code: ErrorCodes.BRIDGE_LINK_FAILED, err: message },
      `Bridge ${this.name}: ${message}`,
    );
  }

  private onConnected(client: MqttClient, connack: IConnackPacket, version: 3 | 4 | 5): void {
    if (client !== this.remote) return;
    const c = this.config;
    const address = this.address!;
    const ids = this.packetIds;
    this.rules = remoteRulesOf(connack, c.maxPacketSize);
    this.remoteVersion = version;
    this.state = 'connected';
    this.lastTraffic = Date.now();
    this.backoff.reset();
    // Not on the main address (round_robin false): back to it once it answers, the link dropped as
    // mosquitto drops it (the secondary publishes the bridge's will).
    this.addresses.connected(() => client.stream?.destroy());
    // v3 has no No Local: fingerprint what goes out on topics that also come in.
    this.fingerprints =
      version < 5 && c.topics.some((r) => r.direction === 'both') ? new FingerprintWindow() : undefined;
    this.log.info(
      { event: 'bridge-connected', bridge: this.name, address: `${address.host}:${address.port}`, version },
      `Bridge ${this.name} connected to ${address.host}:${address.port} (MQTT ${version === 5 ? '5' : version === 4 ? '3.1.1' : '3.1'})`,
    );
    const notified = greetRemote(
      client,
      c,
      version,
      this.rules,
      (why) => client === this.remote && this.fail(why),
    );
    this.notifyLocal(true);
    const sink: InProcessSink = {
      // The state notification is one more message in progress: the queue's window leaves it room.
      receiveMaximum: Math.max(1, this.rules.receiveMaximum - (notified ? 1 : 0)),
      send: (delivery, packetId, dup) => this.toRemote(client, delivery, packetId, dup),
      release: (packetId) => sendPubrel(client, ids, packetId, () => this.local.acknowledge(packetId)),
    };
    this.local.attach(sink);
  }

  private onClosed(client: MqttClient): void {
    if (client !== this.remote) return;
    this.remote = undefined;
    this.addresses.stop();
    this.addresses.failed();
    // Attached means it was connected (a lazy bridge going idle set its state already).
    if (this.local.online) {
      this.local.detach();
      this.notifyLocal(false);
      this.log.warn({ event: 'bridge-disconnected', bridge: this.name }, `Bridge ${this.name} lost its link`);
    }
    if (this.stopped) return;
    if (this.config.startType === 'once') {
      this.state = 'stopped';
      return;
    }
    if (this.config.startType === 'lazy' && this.state === 'idle') return;
    this.retry();
  }

  private retry(): void {
    this.state = 'waiting';
    clearTimeout(this.timer);
    const seconds = this.backoff.next();
    this.timer = setTimeout(() => this.connect(), seconds * 1000);
    this.timer.unref();
  }

  // ---- lazy start ----

  private watchThreshold(): void {
    this.state = 'idle';
    this.lazyTimer = setInterval(() => {
      const s = this.status();
      if (this.state === 'idle' && s.queued >= this.config.threshold) this.connect();
      else if (this.state === 'connected' && Date.now() - this.lastTraffic > this.config.idleTimeout * 1000) {
        this.state = 'idle';
        this.remote?.end();
      }
    }, 1000);
    this.lazyTimer.unref();
  }

  // ---- messages ----

  /** A message of the local queue to the remote; false: dropped (counted), it can never be sent. */
  private toRemote(
    client: MqttClient,
    delivery: Delivery,
    packetId: number | undefined,
    dup: boolean,
  ): boolean {
    const { message } = delivery;
    const topic = toRemote(this.config.topics, message.topic);
    const now = Date.now();
    const maxAge = this.config.queue.maxAgeMs;
    if (topic === undefined || (maxAge > 0 && now - message.receivedAt > maxAge)) {
      this.drops[topic === undefined ? 'refused' : 'tooOld']++;
      return false;
    }
    const qos = Math.min(delivery.qos, this.rules.maximumQoS) as QoS;
    const retain = delivery.retain && this.config.outgoingRetain && this.rules.retainAvailable;
    let properties: MessageProperties | undefined;
    if (this.remoteVersion === 5) {
      properties = withHop(message.properties, this.hopId);
      const expiry = properties.messageExpiryInterval;
      if (expiry !== undefined)
        properties.messageExpiryInterval = Math.max(
          1,
          expiry - Math.floor((now - message.receivedAt) / 1000),
        );
    }
    const max = this.rules.maximumPacketSize;
    if (max > 0 && publishSize(topic, message.payload, qos, properties, this.remoteVersion!) > max) {
      this.drops.tooLarge++;
      return false;
    }
    this.fingerprints?.sent(topic, message.payload, now);
    this.counts.forwardedOut++;
    this.lastTraffic = now;
    // The local packet id goes out as the remote one: a resend after a reconnect is recognised.
    this.packetIds.nextPublish(qos > 0 ? packetId : undefined);
    corkUntilImmediate(client.stream);
    client.publish(topic, message.payload, { qos, retain, dup, properties }, (err) => {
      if (client !== this.remote || packetId === undefined || qos === 0) return;
      if (err) {
        const code = (err as Error & { code?: unknown }).code;
        // Refused by the remote (v5 reason code): resending would be refused again.
        if (typeof code !== 'number' || code < 0x80) return;
        this.drops.refused++;
        this.fail(`the remote refused a message on ${topic}: ${err.message}`);
      }
      this.local.acknowledge(packetId);
    });
    this.packetIds.nextPublish(undefined);
    // Sent at QoS 0 (the remote's Maximum QoS): done once sent; the session records it in flight first.
    if (packetId !== undefined && qos === 0) setImmediate(() => this.local.acknowledge(packetId));
    return true;
  }

  /** A message from the remote into this broker; `done` once it is safe here (then acknowledged). */
  private fromRemote(
    client: MqttClient,
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
    done: (failed: boolean) => void,
  ): void {
    if (client !== this.remote) return done(true);
    const local = toLocal(this.config.topics, topic);
    if (local === undefined) return done(false); // not a topic of ours (an old remote subscription)
    const now = Date.now();
    this.lastTraffic = now;
    if (hopsOf(packet.properties).includes(this.hopId) || this.fingerprints?.isEcho(topic, payload, now)) {
      this.counts.echoesStopped++;
      return done(false);
    }
    this.counts.forwardedIn++;
    const properties = this.remoteVersion === 5 ? forwardedProperties(packet.properties) : undefined;
    this.local.publish(local, payload, packet.qos as QoS, packet.retain, properties, done);
  }

  /** mosquitto's retained state notification, on this broker. */
  private notifyLocal(up: boolean): void {
    if (!this.config.notifications) return;
    this.broker.publish({
      topic: notificationTopicOf(this.config),
      payload: up ? '1' : '0',
      qos: 1,
      retain: true,
    });
  }
}
