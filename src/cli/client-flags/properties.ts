/**
 * `-D command identifier value`: an MQTT v5 property for one packet, checked and worded as mosquitto's
 * client_shared.c does, read from src/protocol's property catalogue.
 */
import { PROPERTY_PACKETS, type PropertyPacket, propertyByName } from '../../protocol/properties.js';
import { atoi } from './c-numbers.js';
import { type ClientOptions, type PropertyCommand, UINT32_MAX } from './options.js';

/** The command names mosquitto_string_to_command knows: libmosquitto 2.0 has no suback or unsuback. */
const COMMANDS = PROPERTY_PACKETS.filter((p) => p !== 'suback' && p !== 'unsuback');

/** A -D command name as mosquitto reads it (any case); undefined for one it does not know. */
export function commandNamed(name: string): PropertyPacket | undefined {
  return COMMANDS.find((c) => c === name.toLowerCase());
}

/** mosquitto_property_check_command: the spec's table, plus mosquitto's leniency of a reason-string on a will. */
export function propertyAllowed(command: PropertyPacket, name: string): boolean {
  const info = propertyByName(name);
  if (!info) return false;
  return info.packets.includes(command) || (command === 'will' && info.key === 'reasonString');
}

const MAX = { byte: 255, int16: 65535, int32: UINT32_MAX, varint: UINT32_MAX } as const;

/**
 * Reads one -D at `args[i]` (the command), sets the property on `opts`, and returns the index of its
 * last argument, or mosquitto's error text.
 */
export function parseProperty(opts: ClientOptions, args: readonly string[], i: number): number | string {
  const notEnough = 'Error: --property argument given but not enough arguments specified.\n\n';
  // args has no program name, so mosquitto's `idx+2 > argc-1` becomes `i+2 > length-1`.
  if (i + 2 > args.length - 1) return notEnough;
  const cmdName = args[i]!;
  const cmd = commandNamed(cmdName);
  if (!cmd) return 'Error: Invalid command given in --property argument.\n\n';
  const propName = args[i + 1]!;
  const info = propertyByName(propName);
  if (!info) return 'Error: Invalid property name given in --property argument.\n\n';
  if (!propertyAllowed(cmd, info.name)) {
    return `Error: ${propName} property not allowed for ${cmdName} in --property argument.\n\n`;
  }
  let key: string | undefined;
  let value: string;
  let last: number;
  if (info.type === 'pair') {
    if (i + 3 > args.length - 1) return notEnough;
    key = args[i + 2]!;
    value = args[i + 3]!;
    last = i + 3;
  } else {
    value = args[i + 2]!;
    last = i + 2;
  }
  const target = packetFor(cmd, info.key);
  if (target === 'unsupported') {
    return `Error: ${propName} property not supported for ${cmdName} in --property argument.\n\n`;
  }
  // mosquitto refuses a CONNACK property without a word of its own (its switch's default case).
  if (target === 'refused') return '';
  if (target === 'publish' && info.key === 'topicAlias') opts.haveTopicAlias = true;
  const props = opts.properties[target];
  switch (info.type) {
    case 'byte':
    case 'int16':
    case 'int32':
    case 'varint': {
      const n = atoi(value);
      if (n < 0 || n > MAX[info.type]) {
        return `Error: Property value (${n}) out of range for property ${propName}.\n\n`;
      }
      // MQTT.js models these three single-byte flags as booleans.
      const flag = ['payloadFormatIndicator', 'requestProblemInformation', 'requestResponseInformation'];
      props[info.key] = flag.includes(info.key) ? n !== 0 : n;
      break;
    }
    case 'binary':
      if (Buffer.byteLength(value) > 65535)
        return `Error: Property value too long for property ${propName}.\n\n`;
      props[info.key] = Buffer.from(value);
      break;
    case 'string':
      props[info.key] = value;
      break;
    case 'pair': {
      const users = (props.userProperties ?? {}) as Record<string, string | string[]>;
      const prev = users[key!];
      users[key!] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      props.userProperties = users;
      break;
    }
  }
  return last;
}

/** The packet a -D property goes on: mosquitto's "not supported" for those the tools never send. */
function packetFor(cmd: PropertyPacket, key: string): PropertyCommand | 'unsupported' | 'refused' {
  switch (cmd) {
    case 'connect':
    case 'unsubscribe':
    case 'disconnect':
    case 'will':
      return cmd;
    case 'publish':
      return key === 'subscriptionIdentifier' ? 'unsupported' : 'publish';
    case 'subscribe':
      return key === 'subscriptionIdentifier' || key === 'userProperties' ? 'subscribe' : 'unsupported';
    case 'connack':
      return 'refused';
    default:
      return 'unsupported';
  }
}
