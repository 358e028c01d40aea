import type { Packet } from 'mqtt-packet';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { ConnectionContext } from './context.js';
import { handleDisconnect } from './disconnect.js';
import { handlePublish } from './publish.js';
import { handlePubrel } from './pubrel.js';
import { disconnectWith, type HandlerResult } from './result.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

/**
 * One handler per packet type a connected client may send; each returns what the dispatcher must do
 * (nothing, or disconnect with a reason code). CONNECT before this point is handlers/connect.ts.
 */
export function handlePacket(c: ConnectionContext, packet: Packet): HandlerResult {
  switch (packet.cmd) {
    case 'publish':
      return handlePublish(c, packet);
    case 'puback':
    case 'pubcomp':
      c.session?.acknowledge(packet.messageId!, Date.now());
      return undefined;
    case 'pubrec':
      c.session?.received(packet.messageId!, (packet.reasonCode ?? 0) >= 0x80, Date.now());
      return undefined;
    case 'pubrel':
      return handlePubrel(c, packet.messageId!);
    case 'subscribe':
      return handleSubscribe(c, packet);
    case 'unsubscribe':
      return handleUnsubscribe(c, packet);
    case 'pingreq':
      c.send({ cmd: 'pingresp' });
      return undefined;
    case 'disconnect':
      return handleDisconnect(c, packet);
    case 'connect':
      // [MQTT-3.1.0-2]: a second CONNECT is a protocol violation.
      return disconnectWith('protocol-error', ReasonCode.ProtocolError, 'a second CONNECT');
    default:
      return disconnectWith(
        'protocol-error',
        ReasonCode.ProtocolError,
        `unexpected ${packet.cmd.toUpperCase()}`,
      );
  }
}
