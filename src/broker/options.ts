import { VERSION } from '../version.js';
import type { Authenticator, Authorizer } from './auth.js';
import type { MessageBus } from './ports/message-bus.js';
import type { Persistence } from './ports/persistence.js';

/**
 * Broker limits and behaviour. Names follow mosquitto.conf's directives (camelCased) so that a
 * config file maps onto them one to one; defaults are mosquitto 2's.
 */
export interface BrokerOptions {
  /** Largest keepalive accepted; v5 clients asking more get Server Keep Alive, 3.1.1 are refused. */
  maxKeepalive: number;
  /** Largest packet accepted from a client, in bytes (0: the protocol's own limit). */
  maxPacketSize: number;
  /** Largest PUBLISH payload accepted, in bytes (0: no limit). */
  messageSizeLimit: number;
  /** Unacknowledged QoS 1/2 messages in flight to one client (v5 Receive Maximum lowers it). */
  maxInflightMessages: number;
  /** QoS 1/2 messages queued per client beyond the inflight window; more are dropped and counted. */
  maxQueuedMessages: number;
  /**
   * With persistence: queued messages of one offline session held in memory; the rest stay on disk
   * and are read back in order as the client catches up.
   */
  queueWindow: number;
  /** Queue QoS 0 messages for offline persistent sessions too. */
  queueQos0Messages: boolean;
  retainAvailable: boolean;
  /** Seconds after which an offline persistent session of a 3.1.1 client expires (undefined: never). */
  persistentClientExpiration: number | undefined;
  /** Seconds between $SYS updates (0: off). */
  sysInterval: number;
  /** Milliseconds a connection may take to send CONNECT before it is closed. */
  connectTimeout: number;
  /** Accept an empty client id from 3.1.1 clean-session clients and v5 clients (an id is assigned). */
  allowZeroLengthClientId: boolean;
  /** Bytes buffered for a client that stops reading before it is disconnected. */
  maxClientBufferBytes: number;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** Reported in $SYS/broker/version. */
  version: string;
  /** Where sessions, queues and retained messages survive restarts (undefined: memory only). */
  persistence: Persistence | undefined;
  /** Between accepting a message and routing it (undefined: this process only, LocalMessageBus). */
  messageBus: MessageBus | undefined;
  /**
   * With persistence: how long a QoS 1 message in flight to an online persistent session may wait
   * for its PUBACK before its in-flight row is written (a PUBACK in time means no write at all). The
   * publisher's PUBACK waits for whichever comes first, so this bounds the extra wait a slow
   * subscriber can cause.
   */
  inflightWriteDelayMs: number;
  /**
   * A graceful stop's bound, in milliseconds: how long clients get to take and acknowledge what was
   * routed to them before their connections are cut. Short, because a persistent session keeps the
   * rest in the store anyway, and Ctrl+C must not wait long for a client that never acknowledges.
   */
  shutdownGraceMs: number;
}

export const defaultBrokerOptions: Omit<
  BrokerOptions,
  'authenticator' | 'authorizer' | 'persistence' | 'messageBus'
> = {
  maxKeepalive: 65535,
  maxPacketSize: 0,
  messageSizeLimit: 0,
  maxInflightMessages: 20,
  maxQueuedMessages: 1000,
  queueWindow: 256,
  queueQos0Messages: false,
  retainAvailable: true,
  persistentClientExpiration: undefined,
  sysInterval: 10,
  connectTimeout: 10_000,
  allowZeroLengthClientId: true,
  maxClientBufferBytes: 8 * 1024 * 1024,
  version: `mothership ${VERSION}`,
  inflightWriteDelayMs: 20,
  shutdownGraceMs: 2000,
};
