/** The -d lines of `mothership pub`/`sub`: libmosquitto's log line for each packet sent or received. */

/** The fields of an MQTT.js/mqtt-packet packet that the debug lines read. */
export interface DebugPacket {
  cmd: string;
  messageId?: number;
  reasonCode?: number;
  returnCode?: number;
  qos?: number;
  dup?: boolean;
  retain?: boolean;
  topic?: string;
  payload?: Buffer | string;
  granted?: Array<number | { qos: number }>;
  subscriptions?: Array<{ topic: string; qos: number; nl?: boolean; rap?: boolean; rh?: number }>;
  unsubscriptions?: string[];
}

/**
 * libmosquitto's debug log line for a packet sent or received, e.g.
 * "Client mosq-x sending PUBLISH (d0, q1, r0, m1, 'output', ... (2 bytes))". Returns one string per
 * line (SUBSCRIBE logs a line per topic) or none for packets mosquitto does not log.
 * `qos0Mid` stands in for the message id libmosquitto gives even QoS 0 publishes.
 */
export function debugLines(
  direction: 'send' | 'receive',
  packet: DebugPacket,
  id: string,
  qos0Mid = 0,
): string[] {
  const who = `Client ${id}`;
  const mid = packet.messageId ?? 0;
  const rc = packet.reasonCode ?? 0;
  const bytes = (p: Buffer | string | undefined) => (p === undefined ? 0 : Buffer.byteLength(p));
  if (direction === 'send') {
    switch (packet.cmd) {
      case 'connect':
        return [`${who} sending CONNECT`];
      case 'publish': {
        const m = packet.qos ? mid : qos0Mid;
        return [
          `${who} sending PUBLISH (d${packet.dup ? 1 : 0}, q${packet.qos ?? 0}, r${packet.retain ? 1 : 0}, m${m}, '${packet.topic}', ... (${bytes(packet.payload)} bytes))`,
        ];
      }
      case 'puback':
        return [`${who} sending PUBACK (m${mid}, rc${rc})`];
      case 'pubrec':
        return [`${who} sending PUBREC (m${mid}, rc${rc})`];
      case 'pubrel':
        return [`${who} sending PUBREL (m${mid})`];
      case 'pubcomp':
        return [`${who} sending PUBCOMP (m${mid})`];
      case 'subscribe':
        return (packet.subscriptions ?? []).map((s) => {
          const options = (s.nl ? 0x04 : 0) | (s.rap ? 0x08 : 0) | ((s.rh ?? 0) << 4);
          return `${who} sending SUBSCRIBE (Mid: ${mid}, Topic: ${s.topic}, QoS: ${s.qos}, Options: 0x${options.toString(16).padStart(2, '0')})`;
        });
      case 'unsubscribe':
        return (packet.unsubscriptions ?? []).map(
          (t) => `${who} sending UNSUBSCRIBE (Mid: ${mid}, Topic: ${t})`,
        );
      case 'pingreq':
        return [`${who} sending PINGREQ`];
      case 'disconnect':
        return [`${who} sending DISCONNECT`];
      default:
        return [];
    }
  }
  switch (packet.cmd) {
    case 'connack':
      return [`${who} received CONNACK (${packet.reasonCode ?? packet.returnCode ?? 0})`];
    case 'publish':
      return [
        `${who} received PUBLISH (d${packet.dup ? 1 : 0}, q${packet.qos ?? 0}, r${packet.retain ? 1 : 0}, m${mid}, '${packet.topic}', ... (${bytes(packet.payload)} bytes))`,
      ];
    case 'puback':
      return [`${who} received PUBACK (Mid: ${mid}, RC:${rc})`];
    case 'pubcomp':
      return [`${who} received PUBCOMP (Mid: ${mid}, RC:${rc})`];
    case 'pubrec':
      return [`${who} received PUBREC (Mid: ${mid})`];
    case 'pubrel':
      return [`${who} received PUBREL (Mid: ${mid})`];
    case 'suback':
      return [`${who} received SUBACK`];
    case 'unsuback':
      return [`${who} received UNSUBACK`];
    case 'pingresp':
      return [`${who} received PINGRESP`];
    case 'disconnect':
      return [`Received DISCONNECT (${rc})`];
    case 'auth':
      return [`${who} received AUTH`];
    default:
      return [];
  }
}
