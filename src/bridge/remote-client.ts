/**
 * The MQTT.js client of one attempt to reach the remote: its packet ids are the local session's
 * (RemotePacketIds), a PUBREC is reported so the session records it, an incoming PUBLISH is
 * acknowledged only once this broker has it safe, and mosquitto's bridge bit goes on a v3 CONNECT.
 * The bridge decides what each event means; this file only wires them.
 */
import {
  connect,
  type IClientOptions,
  type IConnackPacket,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt';
import type { QoS } from '../broker/types.js';
import { type BridgeConfig, notificationTopicOf } from './bridge-config.js';
import { useBridgeBit } from './remote-options.js';
import { RemotePacketIds } from './remote-packet-ids.js';
import type { RemoteRules } from './remote-rules.js';
import { carriesIn } from './topic-rule.js';

export interface RemoteEvents {
  connected(client: MqttClient, connack: IConnackPacket): void;
  error(client: MqttClient, err: Error): void;
  closed(client: MqttClient): void;
  /** The remote sent DISCONNECT; `why` says its reason. */
  disconnected(client: MqttClient, why: string): void;
  /** A PUBLISH from the remote; `done(failed)` once this broker has it (or could not keep it). */
  message(client: MqttClient, packet: IPublishPacket, done: (failed: boolean) => void): void;
  /** The remote has the QoS 2 message of this local packet id (PUBREC). */
  received(client: MqttClient, localPacketId: number): void;
}

export interface RemoteClient {
  client: MqttClient;
  ids: RemotePacketIds;
}

/** A client not yet connecting: the caller keeps it, then calls `client.connect()`. */
export function remoteClient(
  options: IClientOptions,
  bridgeBit: boolean,
  localInFlight: (packetId: number) => boolean,
  on: RemoteEvents,
): RemoteClient {
  const ids = new RemotePacketIds(localInFlight);
  const client = connect({ ...options, messageIdProvider: ids, manualConnect: true });
  client.on('packetreceive', (packet) => {
    if (packet.cmd !== 'pubrec' || (packet.reasonCode ?? 0) >= 0x80) return;
    const local = ids.localOf(packet.messageId!);
    if (local !== undefined) on.received(client, local);
  });
  // Acknowledged to the remote (PUBACK, PUBCOMP) only once this broker has the message safe; one it
  // could not keep ends the link, so the remote sends it again after the reconnect.
  client.handleMessage = (packet, callback) =>
    on.message(client, packet, (failed) => {
      if (!failed) return callback();
      callback(new Error('this broker could not keep the message'));
      client.stream?.destroy();
    });
  if (bridgeBit) useBridgeBit(client);
  client.on('connect', (connack) => on.connected(client, connack));
  client.on('error', (err) => on.error(client, err));
  client.on('close', () => on.closed(client));
  client.on('disconnect', (packet) => {
    const why = packet.properties?.reasonString;
    on.disconnected(
      client,
      `the remote disconnected the bridge: reason 0x${(packet.reasonCode ?? 0).toString(16)}${why ? ` (${why})` : ''}`,
    );
  });
  return { client, ids };
}

/**
 * A new link: the `in` topics are subscribed (No Local and Retain As Published on v5; at most the
 * QoS the remote grants, as mosquitto asks), and the retained state 1 published (at the QoS and with
 * the retain flag the remote allows). True when the state went out: one more message in flight.
 */
export function greetRemote(
  client: MqttClient,
  c: BridgeConfig,
  version: 3 | 4 | 5,
  rules: RemoteRules,
  failed: (why: string) => void,
): boolean {
  const incoming = c.topics.filter(carriesIn);
  if (incoming.length > 0) {
    const subs: Record<string, { qos: QoS; nl?: boolean; rap?: boolean; rh?: number }> = {};
    for (const r of incoming) {
      const qos = Math.min(r.qos, rules.maximumQoS) as QoS;
      subs[r.remoteFilter] = version === 5 ? { qos, nl: true, rap: true, rh: 0 } : { qos };
    }
    client.subscribe(subs, (err) => {
      if (err) failed(`subscribing on the remote failed: ${err.message}`);
    });
  }
  if (!c.notifications || c.notificationsLocalOnly) return false;
  const qos = Math.min(1, rules.maximumQoS) as QoS;
  client.publish(notificationTopicOf(c), '1', { qos, retain: rules.retainAvailable });
  return true;
}
