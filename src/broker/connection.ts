import type { Duplex } from 'node:stream';
import type {
  IDisconnectPacket,
  IPubackPacket,
  IPubcompPacket,
  IPubrecPacket,
  IPubrelPacket,
  Packet,
} from 'mqtt-packet';
import { encodePacket, PacketReader, type ReadProblem } from '../protocol/packet-reader.js';
import { propertyProblem } from '../protocol/property-rules.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { ClientIdentity } from './auth.js';
import type { BrokerCore } from './broker-core.js';
import { handleConnect } from './handlers/connect.js';
import type { ConnectionContext, ConnectionState } from './handlers/context.js';
import { handlePacket } from './handlers/index.js';
import { encodeOutboundPublish, introducedAlias, publishPacket } from './outbound-publish.js';
import type { PendingAck, PublisherAcks } from './publisher-acks.js';
import type { Delivery, Session } from './session.js';
import type { InboundTopicAliases, OutboundTopicAliases } from './topic-aliases.js';
import type { ClientInfo, ConnectionMeta, DisconnectReason } from './types.js';

type State = ConnectionState;

/** How long a connection we end stays half-closed, waiting for the client to close its side. */
const LINGER_MS = 1000;

/** What a draining connection no longer accepts (everything else, acknowledgements first, goes on). */
const REFUSED_WHILE_DRAINING = new Set<Packet['cmd']>(['publish', 'subscribe', 'unsubscribe']);

/**
 * One network connection speaking MQTT with one client: decodes its packets, enforces the protocol,
 * and asks the broker core to authenticate, route and subscribe. Everything here is per connection;
 * everything shared between clients lives in the broker core.
 */
export class Connection implements ConnectionContext {
  state: State = 'awaiting-connect';
  protocolVersion: 3 | 4 | 5 = 4;
  clientId = '';
  username: string | undefined;
  session: Session | undefined;
  info: ClientInfo | undefined;
  receiveMaximum = 65535;
  /** Set when the connection ended with a will to publish (abnormal end, or v5 reason 0x04). */
  willWanted = false;

  private readonly reader: PacketReader;
  keepaliveMs = 0;
  private lastPacketAt = Date.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  connectTimer: NodeJS.Timeout | undefined;
  /** Packets that arrived while the authenticator was deciding, handled after CONNACK. */
  pendingPackets: Packet[] = [];
  private corked = false;
  // What the packet handlers (handlers/) read and set; per connection.
  /** Topic aliases, made on first use: most clients never use them and every idle connection counts. */
  inboundAliases: InboundTopicAliases | undefined;
  outboundAliases: OutboundTopicAliases | undefined;
  maxOutboundPacketSize = 0;
  problemInformation = true;
  connectSessionExpiry = 0;
  publisherAcks: PublisherAcks | undefined;
  /** PUBCOMPs owed (released, waiting for the commit): still in progress for the Receive Maximum. */
  pubcompsOwed = 0;
  /** The Receive Maximum we advertised to a v5 client (QoS 1/2 publishes it may have in progress). */
  receiveMaximumIn = 65535;
  /**
   * Set by a graceful stop (drain): what was routed to this client still goes out and its
   * acknowledgements still count, but nothing new is taken from it.
   */
  private draining = false;
  /** Resolves once the socket has closed, whoever closed it. */
  readonly socketClosed: Promise<void>;

  constructor(
    readonly core: BrokerCore,
    private readonly stream: Duplex,
    readonly meta: ConnectionMeta,
  ) {
    this.reader = new PacketReader(
      core.options.maxPacketSize,
      (packet) => this.onPacket(packet),
      (problem) => this.onReadProblem(problem),
    );
    stream.on('data', (chunk: Buffer) => {
      this.lastPacketAt = Date.now();
      core.stats.bytesReceived += chunk.length;
      this.reader.push(chunk);
    });
    stream.on('error', () => this.terminate('socket-error'));
    this.socketClosed = new Promise((resolve) => stream.once('close', resolve));
    stream.on('close', () => this.terminate('client-closed'));
    stream.on('end', () => this.terminate('client-closed'));
    this.connectTimer = setTimeout(() => this.terminate('protocol-error'), core.options.connectTimeout);
    this.connectTimer.unref();
  }

  // ---- inbound ----

  private onReadProblem(problem: ReadProblem): void {
    if (problem.kind === 'unsupported-protocol' && this.state === 'awaiting-connect') {
      // [MQTT-3.1.2-2]: answer an unknown protocol level with return code 1, then close.
      this.send({ cmd: 'connack', returnCode: 1, sessionPresent: false }, 4);
      this.terminate('protocol-error');
      return;
    }
    if (problem.kind === 'too-large')
      this.disconnect(
        'packet-too-large',
        ReasonCode.PacketTooLarge,
        `packet of ${problem.size} bytes is over the maximum of ${problem.limit}`,
      );
    else if (problem.kind === 'protocol-error')
      this.disconnect('protocol-error', ReasonCode.ProtocolError, problem.message);
    else this.disconnect('malformed-packet', ReasonCode.MalformedPacket, problem.message);
  }

  onPacket(packet: Packet): void {
    this.core.stats.packetsReceived++;
    if (this.core.tracingPackets) {
      const who = this.clientId || (packet.cmd === 'connect' ? packet.clientId : '');
      this.core.events.emit('packet', 'in', who, packet);
    }
    if (this.state === 'closed') return;
    if (this.state === 'authenticating') {
      this.pendingPackets.push(packet);
      return;
    }
    if (this.state === 'awaiting-connect') {
      // [MQTT-3.1.0-1]: the first packet must be CONNECT.
      if (packet.cmd !== 'connect') return this.terminate('protocol-error');
      try {
        handleConnect(this, packet);
      } catch (err) {
        this.internalError(err as Error);
      }
      return;
    }
    if (this.protocolVersion === 5) {
      const problem = propertyProblem(
        packet.cmd,
        (packet as { properties?: Record<string, unknown> }).properties,
      );
      if (problem)
        return problem.kind === 'malformed'
          ? this.disconnect('malformed-packet', ReasonCode.MalformedPacket, problem.message)
          : this.disconnect('protocol-error', ReasonCode.ProtocolError, problem.message);
    }
    try {
      this.dispatch(packet);
    } catch (err) {
      this.internalError(err as Error);
    }
  }

  /** A bug of ours must cost this one connection, never the broker: close it and report. */
  internalError(err: Error): void {
    this.core.events.emit('connection-error', this.meta, err);
    this.disconnect('protocol-error', ReasonCode.ImplementationSpecificError);
  }

  /** The one dispatcher: a handler per packet type says whether to end the connection. */
  private dispatch(packet: Packet): void {
    // While draining, a new message or subscription is not acknowledged: the client keeps a QoS 1/2
    // message and sends it again to the broker it reconnects to.
    if (this.draining && REFUSED_WHILE_DRAINING.has(packet.cmd)) return;
    const result = handlePacket(this, packet);
    if (result) this.disconnect(result.reason, result.code, result.message);
    else if (this.draining) this.drainedYet();
  }

  /** Sends a PUBACK/PUBREC owed to the publisher, or refuses the message when it could not be kept. */
  sendPublisherAck(ack: PendingAck): void {
    if (ack.outcome === 'safe') return this.sendAck(ack.cmd, ack.packetId, 0);
    this.core.stats.publishRefused++;
    if (this.protocolVersion === 5) return this.sendAck(ack.cmd, ack.packetId, ReasonCode.QuotaExceeded);
    // 3.1.1 has no refusal: no acknowledgement, and the client will resend after reconnecting.
    this.terminate('store-failing');
  }

  // ---- outbound ----

  identity(): ClientIdentity {
    return { clientId: this.clientId, username: this.username, listener: this.meta.listener };
  }

  sendAck(cmd: 'puback' | 'pubrec' | 'pubcomp', messageId: number, reasonCode: number): void {
    const packet: IPubackPacket | IPubrecPacket | IPubcompPacket = { cmd, messageId };
    // An explicit 0 makes the encoder use the short form, which every v5 client (paho 1.6 too) reads.
    if (this.protocolVersion === 5) packet.reasonCode = reasonCode;
    this.send(packet);
  }

  sendPubrel(packetId: number): void {
    const pubrel: IPubrelPacket = { cmd: 'pubrel', messageId: packetId };
    if (this.protocolVersion === 5) pubrel.reasonCode = 0;
    this.send(pubrel);
  }

  sendPublish(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    if (this.state !== 'connected') return true;
    const bytes = encodeOutboundPublish(delivery, packetId, dup, this.protocolVersion, this.outboundAliases);
    const newAlias = introducedAlias;
    // [MQTT-3.1.2-25]: a PUBLISH larger than the client's Maximum Packet Size is not sent.
    if (this.maxOutboundPacketSize > 0 && bytes.length > this.maxOutboundPacketSize) return false;
    if (newAlias !== undefined) this.outboundAliases!.register(delivery.message.topic, newAlias);
    if (this.core.tracingPackets)
      this.core.events.emit('packet', 'out', this.clientId, publishPacket(delivery, packetId, dup));
    this.core.stats.publishSent++;
    this.write(bytes);
    return true;
  }

  /** Encodes and writes one control packet, and traces it when someone listens (`up -v`). */
  send(packet: Packet, version: number = this.protocolVersion): void {
    if (this.core.tracingPackets) this.core.events.emit('packet', 'out', this.clientId, packet);
    this.write(encodePacket(packet, version));
  }

  private write(bytes: Buffer): void {
    if (this.state === 'closed' || this.stream.destroyed) return;
    if (!this.corked) {
      // Batch everything written in this turn of the event loop into one socket write: setImmediate
      // runs after the poll phase has read every ready socket, so a subscriber fed by many publishers
      // gets one writev per turn instead of one per publisher's chunk.
      this.corked = true;
      this.stream.cork();
      setImmediate(() => {
        this.corked = false;
        this.stream.uncork();
        // What the socket could not take after the flush is this client's backlog: a client that
        // stops reading is dropped rather than allowed to hold memory for everyone.
        if (this.stream.writableLength > this.core.options.maxClientBufferBytes)
          this.terminate('slow-consumer');
        else if (this.draining) this.drainedYet();
      });
    }
    this.stream.write(bytes);
    this.core.stats.bytesSent += bytes.length;
    this.core.stats.packetsSent++;
  }

  // ---- lifecycle ----

  startKeepalive(): void {
    if (this.keepaliveMs === 0) return;
    const limit = this.keepaliveMs * 1.5;
    const check = (): void => {
      const idle = Date.now() - this.lastPacketAt;
      if (idle >= limit) return this.disconnect('keepalive-timeout', ReasonCode.KeepAliveTimeout);
      this.keepaliveTimer = setTimeout(check, limit - idle + 5);
      this.keepaliveTimer.unref();
    };
    this.keepaliveTimer = setTimeout(check, limit);
    this.keepaliveTimer.unref();
  }

  /** Ends the connection from the server side, telling a v5 client why [MQTT-3.14]. */
  disconnect(reason: DisconnectReason, reasonCode: number, reasonString?: string): void {
    if (this.state === 'closed') return;
    if (this.protocolVersion === 5 && this.state === 'connected') {
      const packet: IDisconnectPacket = { cmd: 'disconnect', reasonCode };
      if (reasonString && this.problemInformation) packet.properties = { reasonString };
      this.send(packet, 5);
    }
    this.terminate(reason);
  }

  /**
   * Graceful stop: the messages already routed to this client are delivered (QoS 1/2: until it has
   * acknowledged them all), then it gets the shutdown DISCONNECT and our FIN (terminate). `graceMs`
   * bounds the wait for acknowledgements; a persistent session keeps in the store whatever is still
   * unacknowledged then, for the client to get from the restarted broker.
   */
  drain(graceMs: number): Promise<void> {
    const grace = setTimeout(() => {
      this.disconnect('server-shutting-down', ReasonCode.ServerShuttingDown);
      this.stream.destroy();
    }, graceMs);
    void this.socketClosed.then(() => clearTimeout(grace));
    if (this.state === 'connected') {
      this.draining = true;
      this.drainedYet();
    } else this.disconnect('server-shutting-down', ReasonCode.ServerShuttingDown);
    return this.socketClosed;
  }

  /** Ends a draining connection once nothing is owed either way (none in flight, queued or unacknowledged). */
  private drainedYet(): void {
    const s = this.session;
    if (s && (s.inflight.size > 0 || s.queuedCount > 0)) return;
    if ((this.publisherAcks?.pubacksOwed ?? 0) > 0 || this.pubcompsOwed > 0) return;
    this.disconnect('server-shutting-down', ReasonCode.ServerShuttingDown);
  }

  /** Closes the socket once and tells the broker core, which handles the will and the session. */
  terminate(reason: DisconnectReason): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    this.draining = false;
    clearTimeout(this.connectTimer);
    clearTimeout(this.keepaliveTimer);
    this.willWanted = reason !== 'normal' && reason !== 'server-shutting-down';
    if ((this.stream.writableLength > 0 || reason === 'server-shutting-down') && reason !== 'slow-consumer') {
      // Half-closed after what was written, until the client closes its side (or a second passes):
      // closed at once, our kernel would answer anything the client still sends (a PUBACK, a
      // PINGREQ) with a reset, and what the client had not received yet would be lost.
      this.stream.end();
      setTimeout(() => this.stream.destroy(), LINGER_MS).unref();
    } else {
      this.stream.end();
      this.stream.destroy();
    }
    if (wasConnected) this.core.disconnected(this, reason);
  }
}
