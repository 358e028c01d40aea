/**
 * Which v5 properties a client may put on each packet (MQTT 5.0 section 2.2.2.2 and each packet's
 * Properties section). mqtt-packet decodes whatever it finds; the broker refuses what does not belong.
 */
import { PROPERTIES, PROPERTY_PACKETS, type PropertyPacket } from './properties.js';

/** Unchecked: packets only the server sends, and CONNECT and AUTH (their properties are read, not refused). */
const UNCHECKED: ReadonlySet<PropertyPacket> = new Set([
  'connect',
  'connack',
  'suback',
  'unsuback',
  'auth',
  'will',
]);

const allowedFromClient: Record<string, ReadonlySet<string>> = Object.fromEntries(
  PROPERTY_PACKETS.filter((cmd) => !UNCHECKED.has(cmd)).map((cmd) => [
    cmd,
    new Set(PROPERTIES.filter((p) => p.packets.includes(cmd)).map((p) => p.key)),
  ]),
);

/** Properties that may appear more than once (mqtt-packet then gives an array). */
const repeatable = new Set(['userProperties', 'subscriptionIdentifier']);

export type PropertyProblem = { kind: 'malformed' | 'protocol-error'; message: string };

export function propertyProblem(
  cmd: string,
  properties: Record<string, unknown> | undefined,
): PropertyProblem | undefined {
  if (!properties) return undefined;
  const allowed = allowedFromClient[cmd];
  for (const [name, value] of Object.entries(properties)) {
    // [MQTT-3.3.4-6]: a PUBLISH may carry a Subscription Identifier, but only from the server.
    if (cmd === 'publish' && name === 'subscriptionIdentifier')
      return {
        kind: 'protocol-error',
        message: 'a client PUBLISH must not carry a Subscription Identifier',
      };
    if (allowed && !allowed.has(name)) {
      return { kind: 'malformed', message: `property ${name} is not allowed on ${cmd.toUpperCase()}` };
    }
    // [MQTT-2.2.2-?]: including a property more than once is a Protocol Error, except the repeatable ones.
    if (Array.isArray(value) && !repeatable.has(name))
      return { kind: 'protocol-error', message: `property ${name} appears more than once` };
    // MQTT 5.0 3.8.2.1.2: a Subscription Identifier of 0 is a Protocol Error.
    if (name === 'subscriptionIdentifier' && value === 0)
      return { kind: 'protocol-error', message: 'Subscription Identifier 0' };
  }
  return undefined;
}
