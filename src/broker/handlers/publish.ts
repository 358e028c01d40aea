import { isUtf8 } from 'node:buffer';
import type { IPublishPacket } from 'mqtt-packet';
import { ReasonCode } from '../../protocol/reason-codes.js';
import { topicNameProblem } from '../../protocol/topic.js';
import { DeliveryTracker } from '../delivery-tracker.js';
import { forwardedProperties } from '../forwarded-properties.js';
import { type PendingAck, PublisherAcks } from '../publisher-acks.js';
import { InboundTopicAliases } from '../topic-aliases.js';
import type { Message, QoS } from '../types.js';
import type { ConnectionContext } from './context.js';
import { disconnectWith, type HandlerResult } from './result.js';

/**
 * PUBLISH from a client: checks, refusals (v5 reason codes; 3.1.1 cannot refuse), then QoS 0 routed at
 * once, QoS 1 routed and acknowledged once safe, QoS 2 held with its message until PUBREL.
 */
export function handlePublish(c: ConnectionContext, packet: IPublishPacket): HandlerResult {
  const v5 = c.protocolVersion === 5;
  const props = packet.properties;
  let topic = packet.topic;
  const alias = props?.topicAlias;
  if (alias !== undefined) {
    c.inboundAliases ??= new InboundTopicAliases();
    const resolved = c.inboundAliases.resolve(alias, topic);
    if (typeof resolved !== 'string') return resolved;
    topic = resolved;
  }
  if (topicNameProblem(topic))
    return disconnectWith(
      'protocol-error',
      topic.length === 0 ? ReasonCode.ProtocolError : ReasonCode.TopicNameInvalid,
    );
  // [MQTT-3.3.1-2]: DUP must be 0 on QoS 0.
  if (packet.qos === 0 && packet.dup)
    return disconnectWith('malformed-packet', ReasonCode.MalformedPacket, 'DUP set on a QoS 0 PUBLISH');
  if (packet.qos > 0 && !packet.messageId) return disconnectWith('protocol-error', ReasonCode.ProtocolError);
  if (packet.retain && !c.core.options.retainAvailable)
    return disconnectWith('protocol-error', ReasonCode.RetainNotSupported);

  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  const qos = packet.qos as QoS;
  const packetId = packet.messageId;

  const session = c.session!;
  if (qos === 2 && session.inboundQos2.has(packetId!)) {
    // A resent QoS 2 PUBLISH for an id still held: the message is kept already and is routed at
    // PUBREL [MQTT-4.3.3-9]; repeat the PUBREC, but not ahead of the disk.
    pubrecWhenDurable(c, packetId!, session.inboundQos2.get(packetId!));
    return;
  }

  // [MQTT-3.3.4-9]: more QoS 1/2 publishes in progress than the Receive Maximum we advertised.
  if (v5 && qos > 0 && inProgress(c) >= c.receiveMaximumIn)
    return disconnectWith(
      'protocol-error',
      ReasonCode.ReceiveMaximumExceeded,
      `more than ${c.receiveMaximumIn} QoS 1/2 publishes in progress (the Receive Maximum)`,
    );

  let refusal: number | undefined;
  const sizeLimit = c.core.options.messageSizeLimit;
  if (sizeLimit > 0 && payload.length > sizeLimit) refusal = ReasonCode.PacketTooLarge;
  else if (v5 && props?.payloadFormatIndicator && !isUtf8(payload)) refusal = ReasonCode.PayloadFormatInvalid;
  else if (!c.core.options.authorizer.allows(c.identity(), 'publish', topic))
    refusal = ReasonCode.NotAuthorized;

  if (refusal !== undefined) {
    c.core.stats.publishDropped++;
    c.core.stats.publishRefused++;
    // 3.1.1 has no way to say no: the message is acknowledged and silently dropped.
    if (qos > 0) c.sendAck(qos === 1 ? 'puback' : 'pubrec', packetId!, v5 ? refusal : 0);
    if (qos === 2 && !v5) session.holdInboundQos2(packetId!, undefined);
    return;
  }

  const message = c.core.makeMessage(
    topic,
    payload,
    qos,
    packet.retain,
    v5 ? forwardedProperties(props) : undefined,
  );
  if (qos === 0) {
    c.core.router.accept(message, c);
    return;
  }
  const cmd = qos === 1 ? 'puback' : 'pubrec';
  const store = c.core.options.persistence;
  if (!store) {
    if (qos === 2) session.holdInboundQos2(packetId!, message);
    else c.core.router.accept(message, c);
    c.sendAck(cmd, packetId!, 0);
    return;
  }
  // Acknowledged only once safe; if the store cannot keep it, say so rather than pretend [issue 4].
  const acks = publisherAcks(c);
  if (store.failing) {
    // The disk is refusing writes: refuse before routing, so a refused message reaches nobody.
    acks.settle(acks.add(cmd, packetId!), true);
    return;
  }
  if (qos === 2) {
    // Held (with its message) until PUBREL; PUBREC once both are durable.
    session.holdInboundQos2(packetId!, message);
    pubrecWhenDurable(c, packetId!, message);
    return;
  }
  const ack = acks.add(cmd, packetId!);
  const tracker = new DeliveryTracker();
  if (message.retain) tracker.needsCommit();
  c.core.router.accept(message, c, tracker);
  tracker.whenSafe(
    (done) => c.core.whenDurable(done),
    (failed) => acks.settle(ack, failed),
  );
}

/**
 * Sends PUBREC for a held QoS 2 id once everything written so far is durable. If the store fails,
 * the id is released with its message (never routed), so the client may send it again or reuse the id.
 */
function pubrecWhenDurable(c: ConnectionContext, packetId: number, message: Message | undefined): void {
  const session = c.session!;
  if (!c.core.options.persistence) return c.sendAck('pubrec', packetId, 0);
  const acks = publisherAcks(c);
  const ack = acks.add('pubrec', packetId);
  c.core.whenDurable((failed) => {
    // Still held for the same message (not released and reused meanwhile): release it.
    if (failed && session.inboundQos2.has(packetId) && session.inboundQos2.get(packetId) === message)
      session.releaseInboundQos2(packetId);
    acks.settle(ack, failed);
  });
}

/** The acknowledgements this connection owes, in arrival order (made on the first QoS 1/2 PUBLISH). */
function publisherAcks(c: ConnectionContext): PublisherAcks {
  c.publisherAcks ??= new PublisherAcks((ack: PendingAck) => c.sendPublisherAck(ack));
  return c.publisherAcks;
}

/** QoS 1/2 publishes from this client not yet answered with PUBACK or PUBCOMP [MQTT-4.9]. */
function inProgress(c: ConnectionContext): number {
  return (c.publisherAcks?.pubacksOwed ?? 0) + c.session!.inboundQos2.size + c.pubcompsOwed;
}
