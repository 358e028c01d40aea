/**
 * What the remote's CONNACK allows (MQTT 5: Receive Maximum, Maximum QoS, Retain Available, Maximum
 * Packet Size; a v3 remote states none, so everything is allowed), combined with bridge_max_packet_size,
 * and what it refused in a CONNACK.
 */
import type { IConnackPacket } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { MessageProperties, QoS } from '../broker/types.js';
import type { BridgeConfig } from './bridge-config.js';

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

/**
 * What the remote refused in a CONNACK, left out of the next attempts while the bridge runs: MQTT 5
 * (0x84: an older remote), mosquitto's bridge bit (1 on v3), and a will it cannot take: the state
 * notification as a QoS 1 (0x9B, a remote granting QoS 0 only) or retained (0x9A) message.
 */
export class Refusals {
  private v5 = false;
  private bridgeBit = false;
  private willQos1 = false;
  private willRetain = false;

  constructor(private readonly config: Pick<BridgeConfig, 'protocolVersion' | 'tryPrivate'>) {}

  /** bridge_protocol_version, else MQTT 5 unless the remote refused it. */
  get version(): 3 | 4 | 5 {
    return this.config.protocolVersion ?? (this.v5 ? 4 : 5);
  }

  useBridgeBit(version: 3 | 4 | 5): boolean {
    return version < 5 && this.config.tryPrivate && !this.bridgeBit;
  }

  get will(): { qos: 0 | 1; retain: boolean } {
    return { qos: this.willQos1 ? 0 : 1, retain: !this.willRetain };
  }

  /** A connection refused with `code`: what to leave out next time. */
  learn(code: unknown, version: 3 | 4 | 5): void {
    if (code === 0x84 && version === 5 && this.config.protocolVersion === undefined) this.v5 = true;
    else if (code === 1 && version < 5 && this.config.tryPrivate) this.bridgeBit = true;
    else if (code === 0x9b && version === 5) this.willQos1 = true;
    else if (code === 0x9a && version === 5) this.willRetain = true;
  }
}
