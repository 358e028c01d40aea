/**
 * The MQTT 5.0 properties (section 2.2.2.2, table 2-4): identifier, name, wire type, the key mqtt-packet
 * and MQTT.js give it, and the packets it may appear on. The one catalogue: the broker's checks on what a
 * client sends and the CLI's `-D command name value` both read it.
 */

export type PropertyType = 'byte' | 'int16' | 'int32' | 'varint' | 'binary' | 'string' | 'pair';

/** The packets carrying properties, plus the Will Properties of a CONNECT ('will'). */
export type PropertyPacket =
  | 'connect'
  | 'connack'
  | 'publish'
  | 'puback'
  | 'pubrec'
  | 'pubrel'
  | 'pubcomp'
  | 'subscribe'
  | 'suback'
  | 'unsubscribe'
  | 'unsuback'
  | 'disconnect'
  | 'auth'
  | 'will';

export const PROPERTY_PACKETS: readonly PropertyPacket[] = [
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'disconnect',
  'auth',
  'will',
];

export interface PropertyInfo {
  id: number;
  /** The spec's name in lower case with hyphens, as mosquitto's tools take it: 'content-type'. */
  name: string;
  type: PropertyType;
  /** mqtt-packet's key: 'contentType'. */
  key: string;
  packets: readonly PropertyPacket[];
}

const PUBLISH_AND_WILL: readonly PropertyPacket[] = ['publish', 'will'];
const CONNECT_AND_CONNACK: readonly PropertyPacket[] = ['connect', 'connack'];
const AUTHENTICATION: readonly PropertyPacket[] = ['connect', 'connack', 'auth'];
const CONNACK: readonly PropertyPacket[] = ['connack'];

const prop = (
  id: number,
  name: string,
  type: PropertyType,
  key: string,
  packets: readonly PropertyPacket[],
): PropertyInfo => ({ id, name, type, key, packets });

export const PROPERTIES: readonly PropertyInfo[] = [
  prop(0x01, 'payload-format-indicator', 'byte', 'payloadFormatIndicator', PUBLISH_AND_WILL),
  prop(0x02, 'message-expiry-interval', 'int32', 'messageExpiryInterval', PUBLISH_AND_WILL),
  prop(0x03, 'content-type', 'string', 'contentType', PUBLISH_AND_WILL),
  prop(0x08, 'response-topic', 'string', 'responseTopic', PUBLISH_AND_WILL),
  prop(0x09, 'correlation-data', 'binary', 'correlationData', PUBLISH_AND_WILL),
  prop(0x0b, 'subscription-identifier', 'varint', 'subscriptionIdentifier', ['publish', 'subscribe']),
  prop(0x11, 'session-expiry-interval', 'int32', 'sessionExpiryInterval', [
    'connect',
    'connack',
    'disconnect',
  ]),
  prop(0x12, 'assigned-client-identifier', 'string', 'assignedClientIdentifier', CONNACK),
  prop(0x13, 'server-keep-alive', 'int16', 'serverKeepAlive', CONNACK),
  prop(0x15, 'authentication-method', 'string', 'authenticationMethod', AUTHENTICATION),
  prop(0x16, 'authentication-data', 'binary', 'authenticationData', AUTHENTICATION),
  prop(0x17, 'request-problem-information', 'byte', 'requestProblemInformation', ['connect']),
  prop(0x18, 'will-delay-interval', 'int32', 'willDelayInterval', ['will']),
  prop(0x19, 'request-response-information', 'byte', 'requestResponseInformation', ['connect']),
  prop(0x1a, 'response-information', 'string', 'responseInformation', CONNACK),
  prop(0x1c, 'server-reference', 'string', 'serverReference', ['connack', 'disconnect']),
  prop(0x1f, 'reason-string', 'string', 'reasonString', [
    'connack',
    'puback',
    'pubrec',
    'pubrel',
    'pubcomp',
    'suback',
    'unsuback',
    'disconnect',
    'auth',
  ]),
  prop(0x21, 'receive-maximum', 'int16', 'receiveMaximum', CONNECT_AND_CONNACK),
  prop(0x22, 'topic-alias-maximum', 'int16', 'topicAliasMaximum', CONNECT_AND_CONNACK),
  prop(0x23, 'topic-alias', 'int16', 'topicAlias', ['publish']),
  prop(0x24, 'maximum-qos', 'byte', 'maximumQoS', CONNACK),
  prop(0x25, 'retain-available', 'byte', 'retainAvailable', CONNACK),
  prop(0x26, 'user-property', 'pair', 'userProperties', PROPERTY_PACKETS),
  prop(0x27, 'maximum-packet-size', 'int32', 'maximumPacketSize', CONNECT_AND_CONNACK),
  prop(0x28, 'wildcard-subscription-available', 'byte', 'wildcardSubscriptionAvailable', CONNACK),
  prop(0x29, 'subscription-identifier-available', 'byte', 'subscriptionIdentifiersAvailable', CONNACK),
  prop(0x2a, 'shared-subscription-available', 'byte', 'sharedSubscriptionAvailable', CONNACK),
];

const byName = new Map(PROPERTIES.map((p) => [p.name, p]));

/** A property by its hyphenated name, case-insensitive ('Content-Type' too); undefined when none. */
export function propertyByName(name: string): PropertyInfo | undefined {
  return byName.get(name.toLowerCase());
}
