/** One bridge as a `connection` block of the config describes it (defaults are mosquitto 2's). */
import { hostname } from 'node:os';
import type { Where } from '../config/lexer.js';
import type { QueueLimits } from './bridge-queue.js';
import type { TopicRule } from './topic-rule.js';

export interface BridgeAddress {
  host: string;
  port: number;
}

/** `restart_timeout`: a constant delay, or decorrelated jitter from base to cap (seconds). */
export type RestartTimeout = { constant: number } | { base: number; cap: number };

export interface BridgeTls {
  cafile?: string;
  capath?: string;
  certfile?: string;
  keyfile?: string;
  /** Skip the remote certificate's host name check (bridge_insecure). */
  insecure: boolean;
}

export interface BridgeConfig {
  name: string;
  /** The `connection` line. */
  where: Where;
  addresses: BridgeAddress[];
  roundRobin: boolean;
  remoteClientId: string | undefined;
  localClientId: string | undefined;
  remoteUsername: string | undefined;
  remotePassword: string | undefined;
  /** The bridge's login on this broker (local_username): its ACL applies; unset, the bridge is trusted. */
  localUsername: string | undefined;
  localPassword: string | undefined;
  cleanSession: boolean;
  localCleanSession: boolean | undefined;
  /** Seconds. */
  keepalive: number;
  restartTimeout: RestartTimeout;
  startType: 'automatic' | 'lazy' | 'once';
  threshold: number;
  /** Seconds. */
  idleTimeout: number;
  notifications: boolean;
  notificationsLocalOnly: boolean;
  notificationTopic: string | undefined;
  tryPrivate: boolean;
  /** undefined: MQTT v5 first, 3.1.1 when the remote refuses v5. */
  protocolVersion: 3 | 4 | 5 | undefined;
  outgoingRetain: boolean;
  /** Set when bridge_cafile or bridge_capath is: the link uses TLS. */
  tls: BridgeTls | undefined;
  /** Bytes (0: the remote's own limit only). */
  maxPacketSize: number;
  /** The store-and-forward queue's bounds (Mothership's bridge_queue_* directives). */
  queue: QueueLimits;
  topics: TopicRule[];
}

export function newBridgeConfig(name: string, where: Where): BridgeConfig {
  return {
    name,
    where,
    addresses: [],
    roundRobin: false,
    remoteClientId: undefined,
    localClientId: undefined,
    remoteUsername: undefined,
    remotePassword: undefined,
    localUsername: undefined,
    localPassword: undefined,
    cleanSession: false,
    localCleanSession: undefined,
    keepalive: 60,
    restartTimeout: { base: 5, cap: 30 },
    startType: 'automatic',
    threshold: 10,
    idleTimeout: 60,
    notifications: true,
    notificationsLocalOnly: false,
    notificationTopic: undefined,
    tryPrivate: true,
    protocolVersion: undefined,
    outgoingRetain: true,
    tls: undefined,
    maxPacketSize: 0,
    queue: { maxMessages: 1_000_000, maxBytes: 0, maxAgeMs: 0 },
    topics: [],
  };
}

/** The client id on the remote broker: mosquitto's default is `<hostname>.<connection name>`. */
export function remoteClientIdOf(b: BridgeConfig): string {
  return b.remoteClientId ?? `${hostname()}.${b.name}`;
}

/** The bridge's session on this broker: mosquitto's `local.<remote_clientid>`. */
export function localClientIdOf(b: BridgeConfig): string {
  return b.localClientId ?? `local.${remoteClientIdOf(b)}`;
}

/** Where the bridge's state (1 connected, 0 not) is published, retained. */
export function notificationTopicOf(b: BridgeConfig): string {
  return b.notificationTopic ?? `$SYS/broker/connection/${remoteClientIdOf(b)}/state`;
}
