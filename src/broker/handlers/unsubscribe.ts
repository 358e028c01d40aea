import type { IUnsubackPacket, IUnsubscribePacket } from 'mqtt-packet';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { ConnectionContext } from './context.js';
import { disconnectWith, type HandlerResult } from './result.js';

/** UNSUBSCRIBE: UNSUBACK (v5: a reason code per filter) once the removal is committed. */
export function handleUnsubscribe(c: ConnectionContext, packet: IUnsubscribePacket): HandlerResult {
  // [MQTT-2.2.1-3]: UNSUBSCRIBE carries a non-zero packet identifier.
  if (!packet.messageId)
    return disconnectWith(
      'malformed-packet',
      ReasonCode.MalformedPacket,
      'UNSUBSCRIBE with packet identifier 0',
    );
  // [MQTT-3.10.3-2]: at least one topic filter.
  if (packet.unsubscriptions.length === 0)
    return disconnectWith('protocol-error', ReasonCode.ProtocolError, 'UNSUBSCRIBE without a topic filter');
  const codes = c.core.unsubscribe(c, packet.unsubscriptions);
  // Reason codes exist in v5 only; earlier versions' UNSUBACK carries none.
  const unsuback = { cmd: 'unsuback', messageId: packet.messageId } as IUnsubackPacket;
  if (c.protocolVersion === 5) unsuback.granted = codes;
  // Not ahead of the disk: a crash must not bring back a subscription the client saw removed.
  c.core.whenCommitted(() => c.send(unsuback));
}
