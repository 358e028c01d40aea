import type { ISubscribePacket } from 'mqtt-packet';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { ConnectionContext } from './context.js';
import { disconnectWith, type HandlerResult } from './result.js';

/** SUBSCRIBE: granted per filter by the router; SUBACK once a persistent subscription is committed. */
export function handleSubscribe(c: ConnectionContext, packet: ISubscribePacket): HandlerResult {
  // [MQTT-2.2.1-3]: SUBSCRIBE carries a non-zero packet identifier.
  if (!packet.messageId)
    return disconnectWith(
      'malformed-packet',
      ReasonCode.MalformedPacket,
      'SUBSCRIBE with packet identifier 0',
    );
  // [MQTT-3.8.3-2]: at least one topic filter.
  if (packet.subscriptions.length === 0)
    return disconnectWith('protocol-error', ReasonCode.ProtocolError, 'SUBSCRIBE without a topic filter');
  const subscriptionId = packet.properties?.subscriptionIdentifier as number | undefined;
  const result = c.core.subscribe(c, packet.subscriptions, subscriptionId);
  if (result === 'protocol-error') return disconnectWith('protocol-error', ReasonCode.ProtocolError);
  // A persistent session's SUBACK waits until the subscription is on disk (through failed writes).
  c.core.whenCommitted(() => {
    c.send({ cmd: 'suback', messageId: packet.messageId, granted: result.granted });
    result.afterAck();
  });
}
