import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type {
  IConnectPacket,
  IDisconnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  Packet,
} from 'mqtt-packet';
import { encodePacket, PacketReader, type ReadProblem } from '../protocol/packet-reader.js';
import { propertyProblem } from '../protocol/property-rules.js';
import { encodePublish } from '../protocol/publish-codec.js';
import { connackCodeForV3, ReasonCode } from '../protocol/reason-codes.js';
import { topicNameProblem } from '../protocol/topic.js';
import type { AuthResult, ClientIdentity } from './auth.js';
import type { BrokerCore } from './broker-core.js';
import { DeliveryTracker } from './delivery-tracker.js';
import { type PendingAck, PublisherAcks } from './publisher-acks.js';
import { type Delivery, NEVER_EXPIRES, type Session, type SessionLink } from './session.js';
import type {
  ClientInfo,
  ConnectionMeta,
  DisconnectReason,
  Message,
  MessageProperties,
  QoS,
} from './types.js';

/** Topic aliases a client may use towards us (mosquitto's max_topic_alias default). */
const INBOUND_TOPIC_ALIAS_MAXIMUM = 10;

type State = 'awaiting-connect' | 'authenticating' | 'connected' | 'closed';

/** What CONNECT settled before the authenticator answered. */
interface Accepted {
  clientId: string;
  assignedClientId: string | undefined;
  keepalive: number;
  serverKeepAlive: number | undefined;
}

/**
 * The last QoS 0 encoding per form (index: protocol version × 2 + retain): a message is routed to all
 * its subscribers in one go, so subscribers that would get identical bytes reuse one encoding. A slot,
 * not a cache keyed by message: nothing to allocate or collect per message.
 */
const lastEncoding: ({ message: Message; bytes: Buffer } | undefined)[] = [];

/**
 * One network connection speaking MQTT with one client: decodes its packets, enforces the protocol,
 * and asks the broker core to authenticate, route and subscribe. Everything here is per connection;
 * everything shared between clients lives in the broker core.
 */
export class Connection implements SessionLink {
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
  private keepaliveMs = 0;
  private lastPacketAt = Date.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private pendingPackets: Packet[] = [];
  private corked = false;
  /** Topic aliases, made on first use: most clients never use them and every idle connection counts. */
  private inboundAliases: Map<number, string> | undefined;
  private outboundAliasMaximum = 0;
  private outboundAliases: Map<string, number> | undefined;
  private maxOutboundPacketSize = 0;
  private problemInformation = true;
  private connectSessionExpiry = 0;
  private publisherAcks: PublisherAcks | undefined;
  /** PUBCOMPs owed (released, waiting for the commit): still in progress for the Receive Maximum. */
  private pubcompsOwed = 0;
  /** The Receive Maximum we advertised to a v5 client (QoS 1/2 publishes it may have in progress). */
  private receiveMaximumIn = 65535;

  constructor(
    private readonly core: BrokerCore,
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

  private onPacket(packet: Packet): void {
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
        this.onConnect(packet);
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
  private internalError(err: Error): void {
    this.core.events.emit('connection-error', this.meta, err);
    this.disconnect('protocol-error', ReasonCode.ImplementationSpecificError);
  }

  private dispatch(packet: Packet): void {
    switch (packet.cmd) {
      case 'publish':
        return this.onPublish(packet);
      case 'puback':
        this.session?.acknowledge(packet.messageId!, Date.now());
        return;
      case 'pubrec':
        this.session?.received(packet.messageId!, (packet.reasonCode ?? 0) >= 0x80, Date.now());
        return;
      case 'pubrel':
        return this.onPubrel(packet.messageId!);
      case 'pubcomp':
        this.session?.acknowledge(packet.messageId!, Date.now());
        return;
      case 'subscribe':
        return this.onSubscribe(packet);
      case 'unsubscribe':
        return this.onUnsubscribe(packet);
      case 'pingreq':
        this.send({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        return this.onDisconnect(packet);
      case 'connect':
        // [MQTT-3.1.0-2]: a second CONNECT is a protocol violation.
        return this.disconnect('protocol-error', ReasonCode.ProtocolError);
      default:
        return this.disconnect('protocol-error', ReasonCode.ProtocolError);
    }
  }

  private onConnect(packet: IConnectPacket): void {
    clearTimeout(this.connectTimer);
    this.state = 'authenticating';
    const version = packet.protocolVersion as 3 | 4 | 5;
    this.protocolVersion = version;
    const props = packet.properties ?? {};
    const refuse = (reason: number, why: string): void => this.refuseConnect(packet, reason, why);

    if (props.authenticationMethod) return refuse(0x8c, 'enhanced authentication is not supported');
    // [MQTT-3.1.2-?] (MQTT 5.0 3.1.2.11.3/4): Receive Maximum and Maximum Packet Size of 0 are protocol errors.
    if (props.receiveMaximum === 0 || props.maximumPacketSize === 0)
      return refuse(ReasonCode.ProtocolError, 'Receive Maximum or Maximum Packet Size of 0');
    if (packet.will && packet.will.topic.length === 0) {
      // [MQTT-3.1.4-1]: a will with an empty topic makes the CONNECT malformed: 3.1.1 closes without a
      // CONNACK; v5 says so (0x81) first.
      if (version !== 5) return this.terminate('malformed-packet');
      return refuse(ReasonCode.MalformedPacket, 'the will topic is empty');
    }
    let clientId = packet.clientId;
    let assignedClientId: string | undefined;
    if (clientId.length === 0) {
      // [MQTT-3.1.3-6]/[MQTT-3.1.3-8]: an empty id gets one assigned only with a clean session (3.1.1);
      // v5 always may; 3.1 never allowed it.
      const allowed =
        this.core.options.allowZeroLengthClientId && (version === 5 || (version === 4 && packet.clean));
      if (!allowed) return refuse(ReasonCode.ClientIdentifierNotValid, 'empty client id');
      clientId = this.core.assignClientId();
      assignedClientId = clientId;
    } else if (version === 3 && Buffer.byteLength(clientId) > 23) {
      return refuse(ReasonCode.ClientIdentifierNotValid, 'MQTT 3.1 client ids are at most 23 bytes');
    }

    let serverKeepAlive: number | undefined;
    let keepalive = packet.keepalive ?? 0;
    const maxKeepalive = this.core.options.maxKeepalive;
    if (maxKeepalive > 0 && (keepalive > maxKeepalive || keepalive === 0)) {
      if (version === 5) {
        serverKeepAlive = maxKeepalive;
        keepalive = maxKeepalive;
      } else if (keepalive > maxKeepalive) {
        return refuse(ReasonCode.ClientIdentifierNotValid, `keepalive ${keepalive} above max_keepalive`);
      }
    }

    if (packet.will) {
      const problem = topicNameProblem(packet.will.topic);
      if (problem) return refuse(ReasonCode.TopicNameInvalid, `will topic invalid (${problem})`);
      if (packet.will.retain && !this.core.options.retainAvailable)
        return refuse(ReasonCode.RetainNotSupported, 'retain not available');
    }

    const auth = this.core.options.authenticator.authenticate({
      clientId,
      username: packet.username,
      password: packet.password,
      remoteAddress: this.meta.remoteAddress,
      listener: this.meta.listener,
      certificateIdentity: this.meta.certificateIdentity,
    });
    const accepted: Accepted = { clientId, assignedClientId, keepalive, serverKeepAlive };
    // An authenticator that answers at once (no password file, or a cached answer) costs no promise.
    if (!(auth instanceof Promise)) return this.completeConnect(packet, auth, accepted);
    auth.then(
      (result) => {
        try {
          this.completeConnect(packet, result, accepted);
        } catch (err) {
          this.internalError(err as Error);
        }
      },
      (err: Error) => this.internalError(err),
    );
  }

  private refuseConnect(packet: IConnectPacket, reason: number, why: string): void {
    this.core.events.emit('connect-refused', {
      clientId: packet.clientId,
      remoteAddress: this.meta.remoteAddress,
      reason: why,
    });
    const connack =
      this.protocolVersion === 5
        ? { cmd: 'connack', sessionPresent: false, reasonCode: reason }
        : { cmd: 'connack', sessionPresent: false, returnCode: connackCodeForV3(reason) };
    this.send(connack, this.protocolVersion);
    this.terminate('not-authorized');
  }

  /** CONNECT passed its checks and the authenticator answered: open the session and send CONNACK. */
  private completeConnect(packet: IConnectPacket, auth: AuthResult, accepted: Accepted): void {
    if ((this.state as State) === 'closed') return;
    const { clientId, assignedClientId, keepalive, serverKeepAlive } = accepted;
    const version = this.protocolVersion;
    const props = packet.properties ?? {};
    if (!auth.ok) {
      return this.refuseConnect(
        packet,
        auth.reason === 'bad-credentials' ? ReasonCode.BadUserNameOrPassword : ReasonCode.NotAuthorized,
        auth.reason,
      );
    }

    this.clientId = clientId;
    // use_identity_as_username: the verified certificate's CN is the username, whatever CONNECT said.
    this.username = auth.username ?? this.meta.certificateIdentity ?? packet.username;
    this.keepaliveMs = keepalive * 1000;
    if (version === 5) {
      this.receiveMaximum = props.receiveMaximum ?? 65535;
      this.maxOutboundPacketSize = props.maximumPacketSize ?? 0;
      this.outboundAliasMaximum = props.topicAliasMaximum ?? 0;
      this.problemInformation = props.requestProblemInformation !== false;
    }
    const cleanStart = packet.clean !== false;
    let expiry: number;
    if (version === 5) expiry = props.sessionExpiryInterval ?? 0;
    else if (cleanStart) expiry = 0;
    else expiry = this.core.options.persistentClientExpiration ?? NEVER_EXPIRES;
    this.connectSessionExpiry = expiry;

    const will = packet.will
      ? {
          message: this.core.makeMessage(
            packet.will.topic,
            Buffer.from(packet.will.payload ?? ''),
            packet.will.qos as QoS,
            !!packet.will.retain,
            version === 5 ? forwardedProperties(packet.will.properties) : undefined,
          ),
          delaySeconds: version === 5 ? (packet.will.properties?.willDelayInterval ?? 0) : 0,
        }
      : undefined;

    const { session, sessionPresent } = this.core.openSession(this, clientId, cleanStart, expiry, will);
    this.session = session;
    this.state = 'connected';
    this.info = {
      clientId,
      username: this.username,
      remoteAddress: this.meta.remoteAddress,
      listener: this.meta.listener,
      protocolVersion: version,
      keepalive,
      cleanStart,
      connectedAt: Date.now(),
    };

    // MQTT 3.1 has no session-present flag: that byte is reserved, 0.
    const connack: Record<string, unknown> = {
      cmd: 'connack',
      sessionPresent: version === 3 ? false : sessionPresent,
    };
    if (version === 5) {
      connack.reasonCode = 0;
      // As mosquitto: max_inflight_messages bounds QoS 1/2 messages in progress in both directions.
      const inflight = this.core.options.maxInflightMessages;
      this.receiveMaximumIn = inflight > 0 ? Math.min(inflight, 65535) : 65535;
      const p: Record<string, unknown> = {
        topicAliasMaximum: INBOUND_TOPIC_ALIAS_MAXIMUM,
        receiveMaximum: this.receiveMaximumIn,
        sharedSubscriptionAvailable: true,
        wildcardSubscriptionAvailable: true,
        subscriptionIdentifiersAvailable: true,
        retainAvailable: this.core.options.retainAvailable,
      };
      if (assignedClientId) p.assignedClientIdentifier = assignedClientId;
      if (serverKeepAlive !== undefined) p.serverKeepAlive = serverKeepAlive;
      if (this.core.options.maxPacketSize > 0) p.maximumPacketSize = this.core.options.maxPacketSize;
      connack.properties = p;
    } else {
      connack.returnCode = 0;
    }
    this.send(connack, version);
    this.startKeepalive();
    this.core.connected(this);
    session.attach(this, Date.now());

    const queued = this.pendingPackets;
    this.pendingPackets = [];
    for (const p of queued) this.onPacket(p);
  }

  private onPublish(packet: IPublishPacket): void {
    const v5 = this.protocolVersion === 5;
    const props = packet.properties;
    let topic = packet.topic;
    const alias = props?.topicAlias;
    if (alias !== undefined) {
      if (alias === 0 || alias > INBOUND_TOPIC_ALIAS_MAXIMUM)
        return this.disconnect('protocol-error', ReasonCode.TopicAliasInvalid);
      if (topic.length === 0) {
        const known = this.inboundAliases?.get(alias);
        if (known === undefined) return this.disconnect('protocol-error', ReasonCode.ProtocolError);
        topic = known;
      } else {
        this.inboundAliases ??= new Map();
        this.inboundAliases.set(alias, topic);
      }
    }
    if (topicNameProblem(topic))
      return this.disconnect(
        'protocol-error',
        topic.length === 0 ? ReasonCode.ProtocolError : ReasonCode.TopicNameInvalid,
      );
    // [MQTT-3.3.1-2]: DUP must be 0 on QoS 0.
    if (packet.qos === 0 && packet.dup)
      return this.disconnect('malformed-packet', ReasonCode.MalformedPacket, 'DUP set on a QoS 0 PUBLISH');
    if (packet.qos > 0 && !packet.messageId)
      return this.disconnect('protocol-error', ReasonCode.ProtocolError);
    if (packet.retain && !this.core.options.retainAvailable)
      return this.disconnect('protocol-error', ReasonCode.RetainNotSupported);

    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const qos = packet.qos as QoS;
    const packetId = packet.messageId;

    const session = this.session!;
    if (qos === 2 && session.inboundQos2.has(packetId!)) {
      // A resent QoS 2 PUBLISH for an id still held: the message is kept already and is routed at
      // PUBREL [MQTT-4.3.3-9]; repeat the PUBREC, but not ahead of the disk.
      this.ackWhenDurable('pubrec', packetId!, session.inboundQos2.get(packetId!));
      return;
    }

    // [MQTT-3.3.4-9]: more QoS 1/2 publishes in progress than the Receive Maximum we advertised.
    if (v5 && qos > 0 && this.inProgress() >= this.receiveMaximumIn)
      return this.disconnect(
        'protocol-error',
        ReasonCode.ReceiveMaximumExceeded,
        `more than ${this.receiveMaximumIn} QoS 1/2 publishes in progress (the Receive Maximum)`,
      );

    let refusal: number | undefined;
    const sizeLimit = this.core.options.messageSizeLimit;
    if (sizeLimit > 0 && payload.length > sizeLimit) refusal = ReasonCode.PacketTooLarge;
    else if (v5 && props?.payloadFormatIndicator && !isUtf8(payload))
      refusal = ReasonCode.PayloadFormatInvalid;
    else if (!this.core.options.authorizer.allows(this.identity(), 'publish', topic))
      refusal = ReasonCode.NotAuthorized;

    if (refusal !== undefined) {
      this.core.stats.publishDropped++;
      this.core.stats.publishRefused++;
      // 3.1.1 has no way to say no: the message is acknowledged and silently dropped.
      if (qos > 0) this.sendAck(qos === 1 ? 'puback' : 'pubrec', packetId!, v5 ? refusal : 0);
      if (qos === 2 && !v5) session.holdInboundQos2(packetId!, undefined);
      return;
    }

    const message = this.core.makeMessage(
      topic,
      payload,
      qos,
      packet.retain,
      v5 ? forwardedProperties(props) : undefined,
    );
    if (qos === 0) {
      this.core.accept(message, this);
      return;
    }
    const cmd = qos === 1 ? 'puback' : 'pubrec';
    const store = this.core.options.persistence;
    if (!store) {
      if (qos === 2) session.holdInboundQos2(packetId!, message);
      else this.core.accept(message, this);
      this.sendAck(cmd, packetId!, 0);
      return;
    }
    // Acknowledged only once safe; if the store cannot keep it, say so rather than pretend [issue 4].
    this.publisherAcks ??= new PublisherAcks((ack) => this.sendPublisherAck(ack));
    const acks = this.publisherAcks;
    if (store.failing) {
      // The disk is refusing writes: refuse before routing, so a refused message reaches nobody.
      acks.settle(acks.add(cmd, packetId!), true);
      return;
    }
    if (qos === 2) {
      // Held (with its message) until PUBREL; PUBREC once both are durable.
      session.holdInboundQos2(packetId!, message);
      this.ackWhenDurable('pubrec', packetId!, message);
      return;
    }
    const ack = acks.add(cmd, packetId!);
    const tracker = new DeliveryTracker();
    if (message.retain) tracker.needsCommit();
    this.core.accept(message, this, tracker);
    tracker.whenSafe(
      (done) => this.core.whenDurable(done),
      (failed) => acks.settle(ack, failed),
    );
  }

  /**
   * Sends PUBREC for a held QoS 2 id once everything written so far is durable. If the store fails,
   * the id is released with its message (never routed), so the client may send it again or reuse the id.
   */
  private ackWhenDurable(cmd: 'pubrec', packetId: number, message: Message | undefined): void {
    const session = this.session!;
    if (!this.core.options.persistence) return this.sendAck(cmd, packetId, 0);
    this.publisherAcks ??= new PublisherAcks((ack) => this.sendPublisherAck(ack));
    const acks = this.publisherAcks;
    const ack = acks.add(cmd, packetId);
    this.core.whenDurable((failed) => {
      if (failed) {
        if (session.inboundQos2.has(packetId) && session.inboundQos2.get(packetId) === message)
          session.releaseInboundQos2(packetId);
      }
      acks.settle(ack, failed);
    });
  }

  /** QoS 1/2 publishes from this client not yet answered with PUBACK or PUBCOMP [MQTT-4.9]. */
  private inProgress(): number {
    return (this.publisherAcks?.pubacksOwed ?? 0) + this.session!.inboundQos2.size + this.pubcompsOwed;
  }

  private sendPublisherAck(ack: PendingAck): void {
    if (ack.outcome === 'safe') return this.sendAck(ack.cmd, ack.packetId, 0);
    this.core.stats.publishRefused++;
    if (this.protocolVersion === 5) return this.sendAck(ack.cmd, ack.packetId, ReasonCode.QuotaExceeded);
    // 3.1.1 has no refusal: no acknowledgement, and the client will resend after reconnecting.
    this.terminate('store-failing');
  }

  private onPubrel(packetId: number): void {
    const session = this.session!;
    const store = this.core.options.persistence;
    if (store?.failing && session.inboundQos2.get(packetId) !== undefined) {
      // Routing now could not be made durable: keep the message held and end the connection; the
      // client resends PUBREL when it reconnects [MQTT-4.4.0-1].
      return this.disconnect('store-failing', ReasonCode.QuotaExceeded);
    }
    // The message is routed now: its deliveries and the id's release are written in one commit, so a
    // crash leaves either the held message (the client resends PUBREL) or all of its deliveries.
    const message = session.releaseInboundQos2(packetId);
    if (message) this.core.accept(message, this);
    // An unknown id is a PUBREL repeated after a reconnect (we released it, then lost the connection
    // before PUBCOMP went out): answer success, as mosquitto does, so the client does not report a
    // failure for a message that was delivered. PUBCOMP waits until the release is durable, through
    // failed writes and their retries: it must never promise what the disk does not have.
    this.pubcompsOwed++;
    this.core.whenCommitted(() => {
      this.pubcompsOwed--;
      this.sendAck('pubcomp', packetId, 0);
    });
  }

  private onSubscribe(packet: ISubscribePacket): void {
    // [MQTT-2.2.1-3]: SUBSCRIBE carries a non-zero packet identifier.
    if (!packet.messageId)
      return this.disconnect(
        'malformed-packet',
        ReasonCode.MalformedPacket,
        'SUBSCRIBE with packet identifier 0',
      );
    // [MQTT-3.8.3-2]: at least one topic filter.
    if (packet.subscriptions.length === 0)
      return this.disconnect('protocol-error', ReasonCode.ProtocolError, 'SUBSCRIBE without a topic filter');
    const subscriptionId = packet.properties?.subscriptionIdentifier as number | undefined;
    const result = this.core.subscribe(this, packet.subscriptions, subscriptionId);
    if (result === 'protocol-error') return this.disconnect('protocol-error', ReasonCode.ProtocolError);
    // A persistent session's SUBACK waits until the subscription is on disk (through failed writes).
    this.core.whenCommitted(() => {
      this.send({ cmd: 'suback', messageId: packet.messageId, granted: result.granted });
      result.afterAck();
    });
  }

  private onUnsubscribe(packet: IUnsubscribePacket): void {
    // [MQTT-2.2.1-3]: UNSUBSCRIBE carries a non-zero packet identifier.
    if (!packet.messageId)
      return this.disconnect(
        'malformed-packet',
        ReasonCode.MalformedPacket,
        'UNSUBSCRIBE with packet identifier 0',
      );
    // [MQTT-3.10.3-2]: at least one topic filter.
    if (packet.unsubscriptions.length === 0)
      return this.disconnect(
        'protocol-error',
        ReasonCode.ProtocolError,
        'UNSUBSCRIBE without a topic filter',
      );
    const codes = this.core.unsubscribe(this, packet.unsubscriptions);
    const unsuback: Record<string, unknown> = { cmd: 'unsuback', messageId: packet.messageId };
    if (this.protocolVersion === 5) unsuback.granted = codes;
    // Not ahead of the disk: a crash must not bring back a subscription the client saw removed.
    this.core.whenCommitted(() => this.send(unsuback));
  }

  private onDisconnect(packet: IDisconnectPacket): void {
    const expiry = packet.properties?.sessionExpiryInterval;
    if (expiry !== undefined && this.session) {
      // [MQTT-3.14.2-2]: a session that was to end with the connection cannot be extended at DISCONNECT.
      if (this.connectSessionExpiry === 0 && expiry !== 0)
        return this.disconnect('protocol-error', ReasonCode.ProtocolError);
      this.session.expiryInterval = expiry;
    }
    this.terminate(packet.reasonCode === ReasonCode.DisconnectWithWill ? 'normal-with-will' : 'normal');
  }

  // ---- outbound ----

  identity(): ClientIdentity {
    return { clientId: this.clientId, username: this.username, listener: this.meta.listener };
  }

  private sendAck(cmd: 'puback' | 'pubrec' | 'pubcomp', messageId: number, reasonCode: number): void {
    const packet: Record<string, unknown> = { cmd, messageId };
    // An explicit 0 makes the encoder use the short form, which every v5 client (paho 1.6 too) reads.
    if (this.protocolVersion === 5) packet.reasonCode = reasonCode;
    this.send(packet);
  }

  sendPubrel(packetId: number): void {
    const pubrel: Record<string, unknown> = { cmd: 'pubrel', messageId: packetId };
    if (this.protocolVersion === 5) pubrel.reasonCode = 0;
    this.send(pubrel);
  }

  sendPublish(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    if (this.state !== 'connected') return true;
    const { message } = delivery;
    const v5 = this.protocolVersion === 5;
    // Without v5 properties, the bytes depend only on the message, the version and the flags.
    const plain = !v5 || !needsProperties(delivery, this.outboundAliasMaximum);
    const form = plain && packetId === undefined ? this.protocolVersion * 2 + (delivery.retain ? 1 : 0) : -1;
    const slot = form >= 0 ? lastEncoding[form] : undefined;
    let bytes = slot?.message === message ? slot.bytes : undefined;
    let newAlias: number | undefined;
    if (!bytes && plain) {
      bytes = encodePublish(
        message.topic,
        message.payload,
        delivery.qos,
        delivery.retain,
        dup,
        packetId,
        this.protocolVersion,
      );
    }
    if (!bytes) {
      const packet = publishPacket(delivery, packetId, dup);
      if (v5) {
        const properties: Record<string, unknown> = { ...message.properties };
        const expiry = message.properties?.messageExpiryInterval;
        if (expiry !== undefined) {
          // [MQTT-3.3.2-6]: forward the remaining lifetime, not the original one.
          properties.messageExpiryInterval = Math.max(
            0,
            Math.ceil(expiry - (Date.now() - message.receivedAt) / 1000),
          );
        }
        if (delivery.subscriptionIds?.length) {
          properties.subscriptionIdentifier =
            delivery.subscriptionIds.length === 1 ? delivery.subscriptionIds[0] : delivery.subscriptionIds;
        }
        if (this.outboundAliasMaximum > 0) {
          this.outboundAliases ??= new Map();
          const known = this.outboundAliases.get(message.topic);
          if (known !== undefined) {
            properties.topicAlias = known;
            packet.topic = '';
          } else if (this.outboundAliases.size < this.outboundAliasMaximum) {
            // Registered only once the packet is sent (below): a PUBLISH dropped for the client's
            // Maximum Packet Size must not leave an alias the client never saw.
            newAlias = this.outboundAliases.size + 1;
            properties.topicAlias = newAlias;
          }
        }
        if (Object.keys(properties).length > 0) packet.properties = properties;
      }
      bytes = encodePacket(packet, this.protocolVersion);
    }
    if (form >= 0 && slot?.bytes !== bytes) {
      if (slot) {
        slot.message = message;
        slot.bytes = bytes;
      } else lastEncoding[form] = { message, bytes };
    }
    if (this.maxOutboundPacketSize > 0 && bytes.length > this.maxOutboundPacketSize) return false;
    if (newAlias !== undefined) this.outboundAliases!.set(message.topic, newAlias);
    if (this.core.tracingPackets)
      this.core.events.emit(
        'packet',
        'out',
        this.clientId,
        publishPacket(delivery, packetId, dup) as unknown as Packet,
      );
    this.core.stats.publishSent++;
    this.write(bytes);
    return true;
  }

  /** Encodes and writes one control packet, and traces it when someone listens (`up -v`). */
  private send(packet: Record<string, unknown>, version: number = this.protocolVersion): void {
    if (this.core.tracingPackets)
      this.core.events.emit('packet', 'out', this.clientId, packet as unknown as Packet);
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
      });
    }
    this.stream.write(bytes);
    this.core.stats.bytesSent += bytes.length;
    this.core.stats.packetsSent++;
  }

  // ---- lifecycle ----

  private startKeepalive(): void {
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
      const packet: Record<string, unknown> = { cmd: 'disconnect', reasonCode };
      if (reasonString && this.problemInformation) packet.properties = { reasonString };
      this.send(packet, 5);
    }
    this.terminate(reason);
  }

  /** Closes the socket once and tells the broker core, which handles the will and the session. */
  terminate(reason: DisconnectReason): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    clearTimeout(this.connectTimer);
    clearTimeout(this.keepaliveTimer);
    this.willWanted = reason !== 'normal' && reason !== 'server-shutting-down';
    if (this.stream.writableLength > 0 && reason !== 'slow-consumer') {
      this.stream.end();
      setTimeout(() => this.stream.destroy(), 1000).unref();
    } else {
      this.stream.end();
      this.stream.destroy();
    }
    if (wasConnected) this.core.disconnected(this, reason);
  }
}

/** Whether a v5 PUBLISH to this client carries properties (else it is encoded without mqtt-packet). */
function needsProperties(delivery: Delivery, outboundAliasMaximum: number): boolean {
  return (
    outboundAliasMaximum > 0 ||
    delivery.message.properties !== undefined ||
    !!delivery.subscriptionIds?.length
  );
}

/** The PUBLISH a delivery becomes, before per-connection v5 properties. */
function publishPacket(
  delivery: Delivery,
  packetId: number | undefined,
  dup: boolean,
): Record<string, unknown> {
  const { message } = delivery;
  const packet: Record<string, unknown> = {
    cmd: 'publish',
    topic: message.topic,
    payload: message.payload,
    qos: delivery.qos,
    retain: delivery.retain,
    dup,
  };
  if (packetId !== undefined) packet.messageId = packetId;
  return packet;
}

/** The v5 PUBLISH properties that travel with a message from publisher to subscribers. */
function forwardedProperties(props: IPublishPacket['properties'] | undefined): MessageProperties | undefined {
  if (!props) return undefined;
  const out: MessageProperties = {};
  if (props.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = props.payloadFormatIndicator;
  if (props.messageExpiryInterval !== undefined) out.messageExpiryInterval = props.messageExpiryInterval;
  if (props.contentType !== undefined) out.contentType = props.contentType;
  if (props.responseTopic !== undefined) out.responseTopic = props.responseTopic;
  if (props.correlationData !== undefined) out.correlationData = props.correlationData;
  if (props.userProperties !== undefined) out.userProperties = props.userProperties;
  return Object.keys(out).length > 0 ? out : undefined;
}
