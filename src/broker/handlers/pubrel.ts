import { ReasonCode } from '../../protocol/reason-codes.js';
import type { ConnectionContext } from './context.js';
import { disconnectWith, type HandlerResult } from './result.js';

/** PUBREL: the held QoS 2 message is routed now, and PUBCOMP follows once that is committed. */
export function handlePubrel(c: ConnectionContext, packetId: number): HandlerResult {
  const session = c.session!;
  const store = c.core.options.persistence;
  if (store?.failing && session.inboundQos2.get(packetId) !== undefined) {
    // Routing now could not be made durable: keep the message held and end the connection; the
    // client resends PUBREL when it reconnects [MQTT-4.4.0-1].
    return disconnectWith('store-failing', ReasonCode.QuotaExceeded);
  }
  // The message is routed now: its deliveries and the id's release are written in one commit, so a
  // crash leaves either the held message (the client resends PUBREL) or all of its deliveries.
  const message = session.releaseInboundQos2(packetId);
  if (message) c.core.router.accept(message, c);
  // An unknown id is a PUBREL repeated after a reconnect (we released it, then lost the connection
  // before PUBCOMP went out): answer success, as mosquitto does, so the client does not report a
  // failure for a message that was delivered. PUBCOMP waits until the release is durable, through
  // failed writes and their retries: it must never promise what the disk does not have.
  c.pubcompsOwed++;
  c.core.whenCommitted(() => {
    c.pubcompsOwed--;
    c.sendAck('pubcomp', packetId, 0);
  });
  return undefined;
}
