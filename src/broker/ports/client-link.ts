import type { ClientIdentity } from '../auth.js';
import type { Session, SessionLink } from '../session.js';
import type { ClientInfo, ConnectionMeta, DisconnectReason } from '../types.js';

/**
 * What the broker's core needs from a connected client: who it is, its session, and how to end it.
 * A network connection implements it (connection.ts); a bridge link or a client of another node can
 * too, without the core knowing.
 */
export interface ClientLink extends SessionLink {
  readonly clientId: string;
  readonly protocolVersion: 3 | 4 | 5;
  readonly username: string | undefined;
  readonly meta: ConnectionMeta;
  readonly info: ClientInfo | undefined;
  readonly session: Session | undefined;
  /** Set when the link ended in a way that sends the will (abnormal end, or v5 reason 0x04). */
  readonly willWanted: boolean;
  identity(): ClientIdentity;
  /** Ends the link from the server side, telling the client why where the protocol can. */
  disconnect(reason: DisconnectReason, reasonCode: number, reasonString?: string): void;
}
