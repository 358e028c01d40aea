/**
 * What the remote's CONNACK allows (MQTT 5: Receive Maximum, Maximum QoS, Retain Available, Maximum
 * Packet Size; a v3 remote states none, so everything is allowed), combined with bridge_max_packet_size.
 */
import type { IConnackPacket } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { MessageProperties, QoS } from '../broker/types.js';

export interface RemoteRules {
  receiveMaximum: number;
  maximumQoS: QoS;
  retainAvailable: boolean;
  /** 0: no limit. */
  maximumPacketSize: number;
}

export const NO_RULES: RemoteRules = {
  receiveMaximum: 65535,
  maximumQoS: 2,
  retainAvailable: true,
  maximumPacketSize: 0,
};

/** The smaller of two size limits where 0 means none. */
function minLimit(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

export function remoteRulesOf(connack: IConnackPacket, maxPacketSize: number): RemoteRules {
  const p = connack.properties;
  return {
    receiveMaximum: p?.receiveMaximum ?? 65535,
    maximumQoS: (p?.maximumQoS ?? 2) as QoS,
    retainAvailable: p?.retainAvailable ?? true,
    maximumPacketSize: minLimit(p?.maximumPacketSize ?? 0, maxPacketSize),
  };
}

/** The PUBLISH's size on the wire, for the remote's Maximum Packet Size. */
export function publishSize(
  topic: string,
  payload: Buffer,
  qos: QoS,
  properties: MessageProperties | undefined,
  version: 3 | 4 | 5,
): number {
  const packet = { cmd: 'publish', topic, payload, qos, retain: false, dup: false, messageId: 1, properties };
  return mqttPacket.generate(packet as never, { protocolVersion: version } as never).length;
}
