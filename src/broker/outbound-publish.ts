import type { IPublishPacket } from 'mqtt-packet';
import { encodePacket } from '../protocol/packet-reader.js';
import { encodePublish } from '../protocol/publish-codec.js';
import type { Delivery } from './session.js';
import type { OutboundTopicAliases } from './topic-aliases.js';
import type { Message } from './types.js';

/**
 * The last QoS 0 encoding per form (index: protocol version × 2 + retain): a message is routed to all
 * its subscribers in one go, so subscribers that would get identical bytes reuse one encoding. A slot,
 * not a cache keyed by message: nothing to allocate or collect per message.
 */
const lastEncoding: ({ message: Message; bytes: Buffer } | undefined)[] = [];

/**
 * An alias the last encoded PUBLISH introduces (register it only if that PUBLISH is sent), or
 * undefined. A module slot rather than a result object: encoding runs once per delivery, and fan-out
 * should allocate nothing per subscriber.
 */
export let introducedAlias: number | undefined;

/**
 * The bytes of one PUBLISH to one client: without v5 properties by the fast encoder (shared between
 * subscribers for QoS 0), else by mqtt-packet with the per-hop properties (remaining Message Expiry,
 * Subscription Identifiers, Topic Alias).
 */
export function encodeOutboundPublish(
  delivery: Delivery,
  packetId: number | undefined,
  dup: boolean,
  protocolVersion: 3 | 4 | 5,
  aliases: OutboundTopicAliases | undefined,
): Buffer {
  introducedAlias = undefined;
  const { message } = delivery;
  const v5 = protocolVersion === 5;
  // Without v5 properties, the bytes depend only on the message, the version and the flags.
  const plain = !v5 || !needsProperties(delivery, aliases);
  const form = plain && packetId === undefined ? protocolVersion * 2 + (delivery.retain ? 1 : 0) : -1;
  const slot = form >= 0 ? lastEncoding[form] : undefined;
  if (slot?.message === message) return slot.bytes;
  const fast = plain
    ? encodePublish(
        message.topic,
        message.payload,
        delivery.qos,
        delivery.retain,
        dup,
        packetId,
        protocolVersion,
      )
    : undefined;
  // The fast encoder declines what it cannot write (a topic over 64 KiB); mqtt-packet says why.
  const bytes = fast ?? encodeGeneral(delivery, packetId, dup, protocolVersion, aliases);
  if (form >= 0) {
    if (slot) {
      slot.message = message;
      slot.bytes = bytes;
    } else lastEncoding[form] = { message, bytes };
  }
  return bytes;
}

function encodeGeneral(
  delivery: Delivery,
  packetId: number | undefined,
  dup: boolean,
  protocolVersion: 3 | 4 | 5,
  aliases: OutboundTopicAliases | undefined,
): Buffer {
  const { message } = delivery;
  const packet = publishPacket(delivery, packetId, dup);
  if (protocolVersion !== 5) return encodePacket(packet, protocolVersion);
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
  const alias = aliases?.lookup(message.topic);
  if (alias) {
    properties.topicAlias = alias.alias;
    if (alias.known) packet.topic = '';
    else introducedAlias = alias.alias;
  }
  if (Object.keys(properties).length > 0) packet.properties = properties;
  return encodePacket(packet, 5);
}

/** Whether a v5 PUBLISH to this client carries properties (else it is encoded without mqtt-packet). */
function needsProperties(delivery: Delivery, aliases: OutboundTopicAliases | undefined): boolean {
  return (
    aliases !== undefined || delivery.message.properties !== undefined || !!delivery.subscriptionIds?.length
  );
}

/** The PUBLISH a delivery becomes, before per-connection v5 properties (also what `up -v` traces). */
export function publishPacket(
  delivery: Delivery,
  packetId: number | undefined,
  dup: boolean,
): IPublishPacket {
  const { message } = delivery;
  const packet: IPublishPacket = {
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
