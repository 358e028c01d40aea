import type { IDisconnectPacket } from 'mqtt-packet';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { ConnectionContext } from './context.js';
import { disconnectWith, type HandlerResult } from './result.js';

/** DISCONNECT from the client: v5 may change the session expiry, and 0x04 asks for the will. */
export function handleDisconnect(c: ConnectionContext, packet: IDisconnectPacket): HandlerResult {
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined && c.session) {
    // [MQTT-3.14.2-2]: a session that was to end with the connection cannot be extended at DISCONNECT.
    if (c.connectSessionExpiry === 0 && expiry !== 0)
      return disconnectWith('protocol-error', ReasonCode.ProtocolError);
    c.session.expiryInterval = expiry;
  }
  c.terminate(packet.reasonCode === ReasonCode.DisconnectWithWill ? 'normal-with-will' : 'normal');
}
