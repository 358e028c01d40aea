/** Public shapes of the broker's API: what the CLI, the hub, the dashboard and tests see. */

export type QoS = 0 | 1 | 2;

/** v5 PUBLISH properties the broker forwards unchanged (Topic Alias and Subscription Id are per-hop). */
export interface MessageProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
}

/** An application message as the broker routes it. */
export interface Message {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: MessageProperties;
  /** Epoch ms when the broker accepted it; Message Expiry counts down from here. */
  receivedAt: number;
}

export interface PublishInput {
  topic: string;
  payload: Buffer | string;
  qos?: QoS;
  retain?: boolean;
  properties?: MessageProperties;
}

export interface ClientInfo {
  clientId: string;
  username: string | undefined;
  remoteAddress: string;
  listener: string;
  protocolVersion: 3 | 4 | 5;
  keepalive: number;
  cleanStart: boolean;
  connectedAt: number;
}

export interface SubscriptionOptions {
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionIdentifier?: number;
}

export interface SubscriptionInfo extends SubscriptionOptions {
  clientId: string;
  /** The filter as subscribed, including any `$share/<group>/` prefix. */
  filter: string;
}

/** Why a client's connection ended, in MQTT's words. */
export type DisconnectReason =
  | 'normal'
  | 'normal-with-will'
  | 'client-closed'
  | 'keepalive-timeout'
  | 'taken-over'
  | 'protocol-error'
  | 'malformed-packet'
  | 'packet-too-large'
  | 'not-authorized'
  | 'slow-consumer'
  | 'server-shutting-down'
  /** The store could not keep a QoS 1/2 message and the protocol (3.1.1) has no way to refuse it. */
  | 'store-failing'
  | 'socket-error'
  /** Disconnected by the host program or the hub (v5 reason 0x98, Administrative action). */
  | 'administrative-action';

/** One session as the host program sees it: online or not, and what it holds. */
export interface SessionInfo {
  clientId: string;
  online: boolean;
  /** Seconds the session outlives its connection (0: it ends with it). */
  expiryInterval: number;
  /** Epoch ms when the offline session expires; undefined while online or never. */
  expiresAt: number | undefined;
  subscriptions: number;
  /** QoS 1/2 messages sent and not yet acknowledged. */
  inflight: number;
  /** Messages waiting (in memory and in the store). */
  queued: number;
}

export interface BrokerEvents {
  'client-connect': [client: ClientInfo];
  'client-disconnect': [client: ClientInfo, reason: DisconnectReason];
  /** A connection that was refused at CONNECT (bad credentials, bad client id...). */
  'connect-refused': [attempt: { clientId: string; remoteAddress: string; reason: string }];
  subscribe: [clientId: string, subscriptions: SubscriptionInfo[]];
  unsubscribe: [clientId: string, filters: string[]];
  /** Every MQTT packet in or out, only emitted while someone listens (costly: for `up -v` and debugging). */
  packet: [direction: 'in' | 'out', clientId: string, packet: import('mqtt-packet').Packet];
  /** An internal error handling one connection's packet: that connection was closed, the broker goes on. */
  'connection-error': [connection: ConnectionMeta, error: Error];
  /** Every accepted application message; `clientId` is undefined when the host program published it. */
  publish: [message: Message, clientId: string | undefined];
}

/** What a transport tells the broker about a new byte stream. */
export interface ConnectionMeta {
  remoteAddress: string;
  remotePort?: number;
  /** Listener name for logs and per-listener settings, e.g. `mqtt:1883`, `ws:8080`. */
  listener: string;
  certificateIdentity?: string;
}
