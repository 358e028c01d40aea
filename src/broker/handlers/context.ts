import type { Packet } from 'mqtt-packet';
import type { BrokerCore } from '../broker-core.js';
import type { ClientLink } from '../ports/client-link.js';
import type { PendingAck, PublisherAcks } from '../publisher-acks.js';
import type { Session } from '../session.js';
import type { InboundTopicAliases, OutboundTopicAliases } from '../topic-aliases.js';
import type { ClientInfo, DisconnectReason } from '../types.js';

export type ConnectionState = 'awaiting-connect' | 'authenticating' | 'connected' | 'closed';

/**
 * The per-connection state and actions the packet handlers use; connection.ts implements it. The
 * handlers depend on this, not on the connection, so the dependency runs one way.
 */
export interface ConnectionContext extends ClientLink {
  readonly core: BrokerCore;
  state: ConnectionState;
  protocolVersion: 3 | 4 | 5;
  clientId: string;
  username: string | undefined;
  session: Session | undefined;
  info: ClientInfo | undefined;
  /** The client's Receive Maximum: QoS 1/2 messages in flight to it. */
  receiveMaximum: number;
  keepaliveMs: number;
  connectTimer: NodeJS.Timeout | undefined;
  pendingPackets: Packet[];
  inboundAliases: InboundTopicAliases | undefined;
  outboundAliases: OutboundTopicAliases | undefined;
  maxOutboundPacketSize: number;
  problemInformation: boolean;
  connectSessionExpiry: number;
  publisherAcks: PublisherAcks | undefined;
  pubcompsOwed: number;
  receiveMaximumIn: number;
  send(packet: Packet, version?: number): void;
  sendAck(cmd: 'puback' | 'pubrec' | 'pubcomp', messageId: number, reasonCode: number): void;
  sendPublisherAck(ack: PendingAck): void;
  terminate(reason: DisconnectReason): void;
  internalError(err: Error): void;
  startKeepalive(): void;
  onPacket(packet: Packet): void;
}
