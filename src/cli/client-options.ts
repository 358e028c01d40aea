/**
 * The options of `mothership pub` and `mothership sub`: mosquitto_pub/mosquitto_sub's flags parsed as
 * mosquitto's client_shared.c parses them (same checks, same error text, same order), because scripts
 * written for mosquitto's tools must behave the same with ours; and those options turned into an
 * MQTT.js client.
 */
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { type IClientOptions, MqttClient, type Packet } from 'mqtt';
import { checkFormat } from './client-output/format-string.js';
import { discoverBroker } from './discover-broker.js';

export type ClientKind = 'pub' | 'sub';
export type PubMode = 'none' | 'message' | 'file' | 'stdin-file' | 'stdin-line' | 'null';
/** The packet a `-D command identifier value` property belongs to. */
export type PropertyCommand = 'connect' | 'publish' | 'subscribe' | 'unsubscribe' | 'disconnect' | 'will';
/** Properties in MQTT.js's shape (camelCase keys, userProperties as an object of string or string[]). */
export type Properties = Record<string, unknown>;

export interface ClientOptions {
  kind: ClientKind;
  host?: string;
  port?: number;
  /** --unix socket path */
  unixPath?: string;
  topic?: string;
  topics: string[];
  pubMode: PubMode;
  message?: Buffer;
  file?: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  id?: string;
  idPrefix?: string;
  username?: string;
  password?: string;
  keepalive: number;
  protocolVersion: 3 | 4 | 5;
  clean: boolean;
  /** -1 means not given; UINT32_MAX means never expire */
  sessionExpiry: number;
  debug: boolean;
  quiet: boolean;
  bindAddress?: string;
  noDelay: boolean;
  maxInflight: number;
  willTopic?: string;
  willPayload?: string;
  willQos: 0 | 1 | 2;
  willRetain: boolean;
  cafile?: string;
  capath?: string;
  cert?: string;
  key?: string;
  keyform?: string;
  ciphers?: string;
  tlsVersion?: string;
  tlsAlpn?: string;
  tlsUseOsCerts: boolean;
  insecure: boolean;
  properties: Record<PropertyCommand, Properties>;
  haveTopicAlias: boolean;
  repeatCount: number;
  repeatDelayMs: number;
  // sub only
  verbose: boolean;
  eol: boolean;
  msgCount: number;
  filterOuts: string[];
  unsubTopics: string[];
  noRetain: boolean;
  retainedOnly: boolean;
  removeRetained: boolean;
  retainAsPublished: boolean;
  exitAfterSub: boolean;
  timeoutSec: number;
  format?: string;
  pretty: boolean;
  /** per-10000 chance of printing a message (--random-filter) */
  randomFilter: number;
  /** Ours, not mosquitto's: one JSON object per line. */
  json: boolean;
}

export type ParseResult =
  | { kind: 'ok'; options: ClientOptions }
  | { kind: 'help' }
  | { kind: 'version' }
  /** `stderr` already ends with mosquitto's blank lines; the caller appends the "Use ... --help" line. */
  | { kind: 'error'; stderr: string };

const UINT32_MAX = 4294967295;

function defaults(kind: ClientKind): ClientOptions {
  return {
    kind,
    topics: [],
    pubMode: 'none',
    qos: 0,
    retain: false,
    keepalive: 60,
    protocolVersion: 4,
    clean: true,
    sessionExpiry: -1,
    debug: false,
    quiet: false,
    noDelay: false,
    maxInflight: 20,
    willQos: 0,
    willRetain: false,
    tlsUseOsCerts: false,
    insecure: false,
    properties: { connect: {}, publish: {}, subscribe: {}, unsubscribe: {}, disconnect: {}, will: {} },
    haveTopicAlias: false,
    repeatCount: 1,
    repeatDelayMs: 0,
    verbose: false,
    eol: true,
    msgCount: 0,
    filterOuts: [],
    unsubTopics: [],
    noRetain: false,
    retainedOnly: false,
    removeRetained: false,
    retainAsPublished: false,
    exitAfterSub: false,
    timeoutSec: 0,
    pretty: false,
    randomFilter: 10000,
    json: false,
  };
}

/** C's atoi: leading whitespace, optional sign, digits; anything else stops it (so "abc" is 0). */
export function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const n = Number.parseInt(m[1]!, 10);
  // atoi wraps into a C int; keep it in range so comparisons behave like mosquitto's.
  return n > 2147483647 || n < -2147483648 ? n | 0 : n;
}

function atof(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(s);
  return m ? Number.parseFloat(m[0]) : 0;
}

/** mosquitto_pub_topic_check: no wildcards, not empty, at most 65535 bytes. */
export function isValidPublishTopic(topic: string): boolean {
  if (topic.length === 0 || Buffer.byteLength(topic) > 65535) return false;
  return !topic.includes('+') && !topic.includes('#');
}

/** mosquitto_sub_topic_check: '+' alone in its level, '#' alone and last. */
export function isValidSubscribeTopic(topic: string): boolean {
  if (topic.length === 0 || Buffer.byteLength(topic) > 65535) return false;
  const levels = topic.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('+') && level !== '+') return false;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
  }
  return true;
}

/** mosquitto_topic_matches_sub, for -T filters. */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') !== filter.startsWith('$')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

type PropType = 'byte' | 'int16' | 'int32' | 'varint' | 'binary' | 'string' | 'pair';
/** mosquitto's property names, their wire type and MQTT.js's key for them. */
const PROPERTY_INFO: Record<string, { id: number; type: PropType; key: string }> = {
  'payload-format-indicator': { id: 1, type: 'byte', key: 'payloadFormatIndicator' },
  'message-expiry-interval': { id: 2, type: 'int32', key: 'messageExpiryInterval' },
  'content-type': { id: 3, type: 'string', key: 'contentType' },
  'response-topic': { id: 8, type: 'string', key: 'responseTopic' },
  'correlation-data': { id: 9, type: 'binary', key: 'correlationData' },
  'subscription-identifier': { id: 11, type: 'varint', key: 'subscriptionIdentifier' },
  'session-expiry-interval': { id: 17, type: 'int32', key: 'sessionExpiryInterval' },
  'assigned-client-identifier': { id: 18, type: 'string', key: 'assignedClientIdentifier' },
  'server-keep-alive': { id: 19, type: 'int16', key: 'serverKeepAlive' },
  'authentication-method': { id: 21, type: 'string', key: 'authenticationMethod' },
  'authentication-data': { id: 22, type: 'binary', key: 'authenticationData' },
  'request-problem-information': { id: 23, type: 'byte', key: 'requestProblemInformation' },
  'will-delay-interval': { id: 24, type: 'int32', key: 'willDelayInterval' },
  'request-response-information': { id: 25, type: 'byte', key: 'requestResponseInformation' },
  'response-information': { id: 26, type: 'string', key: 'responseInformation' },
  'server-reference': { id: 28, type: 'string', key: 'serverReference' },
  'reason-string': { id: 31, type: 'string', key: 'reasonString' },
  'receive-maximum': { id: 33, type: 'int16', key: 'receiveMaximum' },
  'topic-alias-maximum': { id: 34, type: 'int16', key: 'topicAliasMaximum' },
  'topic-alias': { id: 35, type: 'int16', key: 'topicAlias' },
  'maximum-qos': { id: 36, type: 'byte', key: 'maximumQoS' },
  'retain-available': { id: 37, type: 'byte', key: 'retainAvailable' },
  'user-property': { id: 38, type: 'pair', key: 'userProperties' },
  'maximum-packet-size': { id: 39, type: 'int32', key: 'maximumPacketSize' },
  'wildcard-subscription-available': { id: 40, type: 'byte', key: 'wildcardSubscriptionAvailable' },
  'subscription-identifier-available': { id: 41, type: 'byte', key: 'subscriptionIdentifiersAvailable' },
  'shared-subscription-available': { id: 42, type: 'byte', key: 'sharedSubscriptionAvailable' },
};

const COMMANDS = [
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
] as const;

/** mosquitto_property_check_command: is this property allowed on this packet? */
function propertyAllowed(command: string, id: number): boolean {
  switch (id) {
    case 1:
    case 2:
    case 3:
    case 8:
    case 9:
      return command === 'publish' || command === 'will';
    case 11:
      return command === 'publish' || command === 'subscribe';
    case 17:
      return command === 'connect' || command === 'connack' || command === 'disconnect';
    case 21:
    case 22:
      return command === 'connect' || command === 'connack' || command === 'auth';
    case 18:
    case 19:
    case 26:
    case 36:
    case 37:
    case 40:
    case 41:
    case 42:
      return command === 'connack';
    case 24:
      return command === 'will';
    case 23:
    case 25:
      return command === 'connect';
    case 28:
      return command === 'connack' || command === 'disconnect';
    case 31:
      return !['connect', 'publish', 'subscribe', 'unsubscribe'].includes(command);
    case 33:
    case 34:
    case 39:
      return command === 'connect' || command === 'connack';
    case 35:
      return command === 'publish';
    default:
      return true;
  }
}

/** Parses one `-D command identifier value` (args[i] is the command); returns the next index or an error. */
function parseProperty(opts: ClientOptions, args: string[], i: number): { next: number } | { error: string } {
  const notEnough = 'Error: --property argument given but not enough arguments specified.\n\n';
  // args has no program name, so mosquitto's `idx+2 > argc-1` becomes `i+2 > length-1`.
  if (i + 2 > args.length - 1) return { error: notEnough };
  const cmdName = args[i]!;
  const cmd = COMMANDS.find((c) => c === cmdName.toLowerCase());
  if (!cmd) return { error: 'Error: Invalid command given in --property argument.\n\n' };
  const propName = args[i + 1]!;
  const info = PROPERTY_INFO[propName.toLowerCase()];
  if (!info) return { error: 'Error: Invalid property name given in --property argument.\n\n' };
  if (!propertyAllowed(cmd, info.id)) {
    return { error: `Error: ${propName} property not allowed for ${cmdName} in --property argument.\n\n` };
  }
  let key: string | undefined;
  let value: string;
  let next: number;
  if (info.type === 'pair') {
    if (i + 3 > args.length - 1) return { error: notEnough };
    key = args[i + 2]!;
    value = args[i + 3]!;
    next = i + 3;
  } else {
    value = args[i + 2]!;
    next = i + 2;
  }
  const unsupported = `Error: ${propName} property not supported for ${cmdName} in --property argument.\n\n`;
  let target: PropertyCommand;
  switch (cmd) {
    case 'connect':
    case 'unsubscribe':
    case 'disconnect':
    case 'will':
      target = cmd;
      break;
    case 'publish':
      if (info.id === 35) opts.haveTopicAlias = true;
      if (info.id === 11) return { error: unsupported };
      target = 'publish';
      break;
    case 'subscribe':
      if (info.id !== 11 && info.id !== 38) return { error: unsupported };
      target = 'subscribe';
      break;
    default:
      return { error: unsupported };
  }
  const props = opts.properties[target];
  const max = { byte: 255, int16: 65535, int32: UINT32_MAX, varint: UINT32_MAX } as const;
  switch (info.type) {
    case 'byte':
    case 'int16':
    case 'int32':
    case 'varint': {
      const n = atoi(value);
      if (n < 0 || n > max[info.type]) {
        return { error: `Error: Property value (${n}) out of range for property ${propName}.\n\n` };
      }
      // MQTT.js models these three single-byte flags as booleans.
      props[info.key] = info.id === 1 || info.id === 23 || info.id === 25 ? n !== 0 : n;
      break;
    }
    case 'binary':
      if (Buffer.byteLength(value) > 65535) {
        return { error: `Error: Property value too long for property ${propName}.\n\n` };
      }
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
  return { next };
}

/** Flags that take one value, with mosquitto's "no value" message; null means the flag is unknown here. */
function missingValue(flag: string): string {
  const what: Record<string, string> = {
    '-A': 'no address',
    '--cafile': 'no file',
    '--capath': 'no directory',
    '--cert': 'no file',
    '--ciphers': 'no ciphers',
    '-C': 'no count',
    '-f': 'no file',
    '-F': 'no format',
    '-h': 'no host',
    '-i': 'no id',
    '-I': 'no id prefix',
    '-k': 'no keepalive',
    '--key': 'no file',
    '--keyform': 'no keyform',
    '-L': 'no URL',
    '-m': 'no message',
    '-M': 'max_inflight not',
    '-p': 'no port',
    '-P': 'no password',
    '--proxy': 'no proxy url',
    '-q': 'no QoS',
    '--random-filter': 'no chance',
    '--repeat': 'no count',
    '--repeat-delay': 'no time',
    '-t': 'no topic',
    '-T': 'no topic filter',
    '--tls-alpn': 'no protocol',
    '--tls-engine': 'no engine_id',
    '--tls-engine-kpass-sha1': 'no kpass sha1',
    '--tls-version': 'no version',
    '-U': 'no unsubscribe topic',
    '-u': 'no username',
    '--unix': 'no socket path',
    '-V': 'no version',
    '-W': 'no timeout',
    '--will-payload': 'no will payload',
    '--will-qos': 'no will QoS',
    '--will-topic': 'no will topic',
    '-x': 'no session expiry interval',
  };
  const name = flag === '-V' ? '--protocol-version' : flag;
  return `Error: ${name} argument given but ${what[flag]} specified.\n\n`;
}

/** Long aliases mosquitto accepts for its short flags. */
const ALIASES: Record<string, string> = {
  '--disable-clean-session': '-c',
  '--debug': '-d',
  '--property': '-D',
  '--file': '-f',
  '--host': '-h',
  '--id': '-i',
  '--id-prefix': '-I',
  '--keepalive': '-k',
  '--url': '-L',
  '--stdin-line': '-l',
  '--message': '-m',
  '--null-message': '-n',
  '--port': '-p',
  '--pw': '-P',
  '--qos': '-q',
  '--retain': '-r',
  '--stdin-file': '-s',
  '--topic': '-t',
  '--filter-out': '-T',
  '--unsubscribe': '-U',
  '--username': '-u',
  '--protocol-version': '-V',
  '--verbose': '-v',
};

/** Flags only one of the two tools knows; the other reports them as unknown, as mosquitto does. */
const PUB_ONLY = new Set(['-f', '-l', '-m', '-n', '-r', '-s', '--repeat', '--repeat-delay']);
const SUB_ONLY = new Set([
  '-C',
  '-E',
  '-F',
  '-N',
  '-R',
  '-T',
  '-U',
  '-v',
  '-W',
  '--pretty',
  '--random-filter',
  '--remove-retained',
  '--retain-as-published',
  '--retained-only',
]);

const TAKES_VALUE = new Set([
  '-A',
  '--cafile',
  '--capath',
  '--cert',
  '--ciphers',
  '-C',
  '-f',
  '-F',
  '-h',
  '-i',
  '-I',
  '-k',
  '--key',
  '--keyform',
  '-L',
  '-m',
  '-M',
  '-p',
  '-P',
  '--proxy',
  '-q',
  '--random-filter',
  '--repeat',
  '--repeat-delay',
  '-t',
  '-T',
  '--tls-alpn',
  '--tls-engine',
  '--tls-engine-kpass-sha1',
  '--tls-version',
  '-U',
  '-u',
  '--unix',
  '-V',
  '-W',
  '--will-payload',
  '--will-qos',
  '--will-topic',
  '-x',
]);

function isValidUtf8(s: string): boolean {
  // Node decodes argv as UTF-8, turning malformed bytes into U+FFFD.
  return !s.includes('\uFFFD');
}

function addTopic(opts: ClientOptions, topic: string, arg: string): string | undefined {
  if (!isValidUtf8(topic)) return `Error: Malformed UTF-8 in ${arg} argument.\n\n`;
  if (opts.kind === 'pub') {
    if (!isValidPublishTopic(topic))
      return `Error: Invalid publish topic '${topic}', does it contain '+' or '#'?\n`;
    opts.topic = topic;
  } else {
    if (!isValidSubscribeTopic(topic)) {
      return `Error: Invalid subscription topic '${topic}', are all '+' and '#' wildcards correct?\n`;
    }
    opts.topics.push(topic);
  }
  return undefined;
}

function parseUrl(opts: ClientOptions, raw: string): string | undefined {
  let url = raw;
  if (url.slice(0, 7).toLowerCase() === 'mqtt://') {
    url = url.slice(7);
    opts.port = 1883;
  } else if (url.slice(0, 8).toLowerCase() === 'mqtts://') {
    url = url.slice(8);
    opts.port = 8883;
    opts.tlsUseOsCerts = true;
  } else {
    return 'Error: unsupported URL scheme.\n\n';
  }
  const slash = url.indexOf('/');
  if (slash < 0) return 'Error: Invalid URL for -L argument specified - topic missing.\n';
  const err = addTopic(opts, url.slice(slash + 1), '-L topic');
  if (err) return err;
  let hostPart = url.slice(0, slash);
  const at = hostPart.indexOf('@');
  if (at >= 0) {
    const auth = hostPart.slice(0, at);
    hostPart = hostPart.slice(at + 1);
    const colon = auth.indexOf(':');
    if (colon >= 0) {
      opts.password = auth.slice(colon + 1);
      opts.username = auth.slice(0, colon);
    } else {
      opts.username = auth;
    }
  }
  const colon = hostPart.indexOf(':');
  if (colon >= 0) {
    opts.port = atoi(hostPart.slice(colon + 1));
    hostPart = hostPart.slice(0, colon);
  }
  opts.host = hostPart;
  return undefined;
}

function parseQos(v: string): 0 | 1 | 2 | undefined {
  const q = atoi(v);
  return q === 0 || q === 1 || q === 2 ? q : undefined;
}

/** Parses argv (without the command name) the way mosquitto_pub/mosquitto_sub do. */
/**
 * The prologue both commands share: parse, and answer --help, --version and usage errors as
 * mosquitto's tools do (exit code 1 for all three). Returns the options, or the exit code.
 */
export function parseOrAnswer(
  kind: ClientKind,
  args: string[],
  usage: string,
  version: string,
): ClientOptions | number {
  const parsed = parseClientArgs(kind, args);
  const tool = `mothership ${kind}`;
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(usage);
      return 1;
    case 'version':
      process.stdout.write(`${tool} version ${version} (mosquitto_${kind} compatible).\n`);
      return 1;
    case 'error':
      process.stderr.write(`${parsed.stderr}\nUse '${tool} --help' to see usage.\n`);
      return 1;
    default:
      return parsed.options;
  }
}

export function parseClientArgs(kind: ClientKind, args: string[]): ParseResult {
  const opts = defaults(kind);
  const fail = (stderr: string): ParseResult => ({ kind: 'error', stderr });
  const unknown = (arg: string) => fail(`Error: Unknown option '${arg}'.\n`);
  const onlyOneMessage = 'Error: Only one type of message can be sent at once.\n\n';

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const flag = ALIASES[arg] ?? arg;
    if (kind === 'pub' && SUB_ONLY.has(flag)) return unknown(arg);
    if (kind === 'sub' && PUB_ONLY.has(flag)) return unknown(arg);
    if (TAKES_VALUE.has(flag) && i === args.length - 1) return fail(missingValue(flag));
    const value = args[i + 1] ?? '';
    switch (flag) {
      case '-A':
        opts.bindAddress = value;
        i++;
        break;
      case '--cafile':
        opts.cafile = value;
        i++;
        break;
      case '--capath':
        opts.capath = value;
        i++;
        break;
      case '--cert':
        opts.cert = value;
        i++;
        break;
      case '--ciphers':
        opts.ciphers = value;
        i++;
        break;
      case '-C':
        opts.msgCount = atoi(value);
        if (opts.msgCount < 1) return fail(`Error: Invalid message count "${opts.msgCount}".\n\n`);
        i++;
        break;
      case '-c':
        opts.clean = false;
        break;
      case '-d':
        opts.debug = true;
        break;
      case '-D': {
        const r = parseProperty(opts, args, i + 1);
        if ('error' in r) return fail(r.error);
        i = r.next;
        opts.protocolVersion = 5;
        break;
      }
      case '-E':
        opts.exitAfterSub = true;
        break;
      case '-f':
        if (opts.pubMode !== 'none') return fail(onlyOneMessage);
        opts.pubMode = 'file';
        opts.file = value;
        i++;
        break;
      case '-F': {
        const err = checkFormat(value);
        if (err) return fail(err);
        opts.format = value;
        i++;
        break;
      }
      case '--help':
        return { kind: 'help' };
      case '-h':
        opts.host = value;
        i++;
        break;
      case '--insecure':
        opts.insecure = true;
        break;
      case '-i':
        if (opts.idPrefix !== undefined)
          return fail('Error: -i and -I argument cannot be used together.\n\n');
        opts.id = value;
        i++;
        break;
      case '-I':
        if (opts.id !== undefined) return fail('Error: -i and -I argument cannot be used together.\n\n');
        opts.idPrefix = value;
        i++;
        break;
      case '--json':
        opts.json = true;
        break;
      case '-k':
        opts.keepalive = atoi(value);
        if (opts.keepalive < 5 || opts.keepalive > 65535) {
          return fail('Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n');
        }
        i++;
        break;
      case '--key':
        opts.key = value;
        i++;
        break;
      case '--keyform':
        opts.keyform = value;
        i++;
        break;
      case '-L': {
        const err = parseUrl(opts, value);
        if (err) return fail(err);
        i++;
        break;
      }
      case '-l':
        if (opts.pubMode !== 'none') return fail(onlyOneMessage);
        opts.pubMode = 'stdin-line';
        break;
      case '-m':
        if (opts.pubMode !== 'none') return fail(onlyOneMessage);
        opts.message = Buffer.from(value);
        if (opts.message.length > 268435455) {
          return fail('Error: Message length must be less than 268435455 bytes.\n\n');
        }
        opts.pubMode = 'message';
        i++;
        break;
      case '-M':
        if (atoi(value) < 1) return fail('Error: Maximum inflight messages must be greater than 0.\n\n');
        opts.maxInflight = atoi(value);
        i++;
        break;
      case '--nodelay':
        opts.noDelay = true;
        break;
      case '-n':
        if (opts.pubMode !== 'none') return fail(onlyOneMessage);
        opts.pubMode = 'null';
        break;
      case '-N':
        opts.eol = false;
        break;
      case '-p':
        opts.port = atoi(value);
        if (opts.port < 0 || opts.port > 65535) return fail(`Error: Invalid port given: ${opts.port}\n`);
        i++;
        break;
      case '--pretty':
        opts.pretty = true;
        break;
      case '-P':
        opts.password = value;
        i++;
        break;
      case '--proxy':
        return fail('Error: --proxy (SOCKS5) is not supported by mothership.\n\n');
      case '-q': {
        const q = parseQos(value);
        if (q === undefined) return fail(`Error: Invalid QoS given: ${atoi(value)}\n`);
        opts.qos = q;
        i++;
        break;
      }
      case '--quiet':
        opts.quiet = true;
        break;
      case '-r':
        opts.retain = true;
        break;
      case '-R':
        opts.noRetain = true;
        break;
      case '--random-filter':
        opts.randomFilter = Math.trunc(10 * atof(value));
        if (opts.randomFilter > 10000 || opts.randomFilter < 1) {
          return fail('Error: --random-filter chance must be between 0.1-100.0\n\n');
        }
        i++;
        break;
      case '--remove-retained':
        opts.removeRetained = true;
        break;
      case '--repeat':
        opts.repeatCount = atoi(value);
        if (opts.repeatCount < 1) return fail('Error: --repeat argument must be >0.\n\n');
        i++;
        break;
      case '--repeat-delay': {
        const f = atof(value);
        if (f < 0) return fail('Error: --repeat-delay argument must be >=0.0.\n\n');
        opts.repeatDelayMs = f * 1000;
        i++;
        break;
      }
      case '--retain-as-published':
        opts.retainAsPublished = true;
        break;
      case '--retained-only':
        opts.retainedOnly = true;
        break;
      case '-s':
        if (opts.pubMode !== 'none') return fail(onlyOneMessage);
        opts.pubMode = 'stdin-file';
        break;
      case '-t': {
        const err = addTopic(opts, value, '-t');
        if (err) return fail(err);
        i++;
        break;
      }
      case '-T':
        if (!isValidUtf8(value)) return fail('Error: Malformed UTF-8 in -T argument.\n\n');
        if (!isValidSubscribeTopic(value)) {
          return fail(`Error: Invalid filter topic '${value}', are all '+' and '#' wildcards correct?\n`);
        }
        opts.filterOuts.push(value);
        i++;
        break;
      case '--tls-alpn':
        opts.tlsAlpn = value;
        i++;
        break;
      case '--tls-engine':
      case '--tls-engine-kpass-sha1':
        return fail(`Error: ${flag} is not supported by mothership.\n\n`);
      case '--tls-use-os-certs':
        opts.tlsUseOsCerts = true;
        break;
      case '--tls-version':
        opts.tlsVersion = value;
        i++;
        break;
      case '-U':
        if (!isValidUtf8(value)) return fail('Error: Malformed UTF-8 in -U argument.\n\n');
        if (!isValidSubscribeTopic(value)) {
          return fail(
            `Error: Invalid unsubscribe topic '${value}', are all '+' and '#' wildcards correct?\n`,
          );
        }
        opts.unsubTopics.push(value);
        i++;
        break;
      case '-u':
        opts.username = value;
        i++;
        break;
      case '--unix':
        opts.unixPath = value;
        opts.host = value;
        opts.port = 0;
        i++;
        break;
      case '-V':
        if (value === 'mqttv31' || value === '31') opts.protocolVersion = 3;
        else if (value === 'mqttv311' || value === '311') opts.protocolVersion = 4;
        else if (value === 'mqttv5' || value === '5') opts.protocolVersion = 5;
        else return fail('Error: Invalid protocol version argument given.\n\n');
        i++;
        break;
      case '-v':
        opts.verbose = true;
        break;
      case '--version':
        return { kind: 'version' };
      case '-W':
        opts.timeoutSec = atoi(value);
        if (opts.timeoutSec < 1) return fail(`Error: Invalid timeout "${opts.timeoutSec}".\n\n`);
        i++;
        break;
      case '--will-payload':
        opts.willPayload = value;
        i++;
        break;
      case '--will-qos': {
        const q = parseQos(value);
        if (q === undefined) return fail(`Error: Invalid will QoS ${atoi(value)}.\n\n`);
        opts.willQos = q;
        i++;
        break;
      }
      case '--will-retain':
        opts.willRetain = true;
        break;
      case '--will-topic':
        if (!isValidUtf8(value)) return fail('Error: Malformed UTF-8 in --will-topic argument.\n\n');
        if (!isValidPublishTopic(value)) {
          return fail(`Error: Invalid will topic '${value}', does it contain '+' or '#'?\n`);
        }
        opts.willTopic = value;
        i++;
        break;
      case '-x': {
        if (value === '∞') {
          opts.sessionExpiry = UINT32_MAX;
        } else {
          const n = parseCInteger(value);
          if (n === undefined) return fail('Error: session-expiry-interval not a number.\n\n');
          if (n > UINT32_MAX || n < -1) return fail('Error: session-expiry-interval out of range.\n\n');
          opts.sessionExpiry = n === -1 ? UINT32_MAX : n;
        }
        i++;
        break;
      }
      default:
        return unknown(arg);
    }
  }
  return finish(opts);
}

/** strtol(s, &end, 0) that must consume the whole string: decimal, 0x hex or 0 octal. */
function parseCInteger(s: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2]!;
  const n = /^0[xX]/.test(body)
    ? Number.parseInt(body.slice(2), 16)
    : body.length > 1 && body.startsWith('0')
      ? Number.parseInt(body, 8)
      : Number.parseInt(body, 10);
  return m[1] === '-' ? -n : n;
}

/** The cross-flag checks mosquitto makes once every flag is read. */
function finish(opts: ClientOptions): ParseResult {
  const fail = (stderr: string): ParseResult => ({ kind: 'error', stderr });
  if (opts.willPayload !== undefined && !opts.willTopic) {
    return fail('Error: Will payload given, but no will topic given.\n');
  }
  if (opts.willRetain && !opts.willTopic) return fail('Error: Will retain given, but no will topic given.\n');
  if ((opts.cert && !opts.key) || (opts.key && !opts.cert)) {
    return fail('Error: Both certfile and keyfile must be provided if one of them is set.\n');
  }
  if (opts.keyform && !opts.key) return fail('Error: If keyform is set, keyfile must be also specified.\n');
  if (opts.protocolVersion === 5) {
    if (!opts.clean && opts.sessionExpiry === -1) opts.sessionExpiry = UINT32_MAX;
    if (opts.sessionExpiry > 0) {
      if (opts.sessionExpiry === UINT32_MAX && (opts.idPrefix !== undefined || opts.id === undefined)) {
        return fail(
          'Error: You must provide a client id if you are using an infinite session expiry interval.\n',
        );
      }
      opts.properties.connect.sessionExpiryInterval = opts.sessionExpiry;
    }
  } else if (!opts.clean && (opts.idPrefix !== undefined || opts.id === undefined)) {
    return fail('Error: You must provide a client id if you are using the -c option.\n');
  }
  if (opts.kind === 'sub' && opts.topics.length === 0) {
    return fail('Error: You must specify a topic to subscribe to.\n');
  }
  return { kind: 'ok', options: opts };
}

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The client id mosquitto's tools connect with: -i as given, -I prefix + pid, otherwise empty so the
 * broker assigns one, except MQTT 3.1, which forbids that, where libmosquitto makes up `mosq-` + 18.
 */
export function clientIdFor(opts: ClientOptions): string {
  if (opts.id !== undefined) return opts.id;
  if (opts.idPrefix !== undefined) return `${opts.idPrefix}${process.pid}`;
  if (opts.protocolVersion === 3) {
    let id = 'mosq-';
    for (let i = 0; i < 18; i++) id += ID_CHARS[randomInt(ID_CHARS.length)];
    return id;
  }
  return '';
}

export interface BrokerAddress {
  host: string;
  port: number;
  tls: boolean;
}

/** -h/-p/-L as given; with neither -h nor -L, a broker found over mDNS, else localhost like mosquitto. */
export async function resolveBroker(opts: ClientOptions): Promise<BrokerAddress> {
  const useTls =
    opts.cafile !== undefined || opts.capath !== undefined || opts.tlsUseOsCerts || opts.port === 8883;
  const defaultPort = opts.cafile !== undefined || opts.capath !== undefined ? 8883 : 1883;
  if (opts.host === undefined) {
    const found = await discoverBroker(opts.port ?? defaultPort);
    if (found) return { host: found.host, port: opts.port ?? found.port, tls: useTls };
  }
  return { host: opts.host ?? 'localhost', port: opts.port ?? defaultPort, tls: useTls };
}

/** Reads --cafile/--capath/--cert/--key; undefined (after mosquitto's message) when one is missing. */
function loadTlsFiles(opts: ClientOptions): tls.ConnectionOptions | string {
  try {
    const ca: Buffer[] = [];
    if (opts.cafile) ca.push(readFileSync(opts.cafile));
    if (opts.capath) {
      for (const name of readdirSync(opts.capath)) {
        if (/\.(pem|crt|cer)$/i.test(name)) ca.push(readFileSync(join(opts.capath, name)));
      }
    }
    const versions: Record<string, tls.SecureVersion> = {
      'tlsv1.3': 'TLSv1.3',
      'tlsv1.2': 'TLSv1.2',
      'tlsv1.1': 'TLSv1.1',
    };
    if (opts.tlsVersion !== undefined && !versions[opts.tlsVersion]) {
      return 'Error: Problem setting TLS options, check the options are valid.\n';
    }
    const version = opts.tlsVersion ? versions[opts.tlsVersion] : undefined;
    return {
      ...(ca.length > 0 ? { ca } : {}),
      ...(opts.cert ? { cert: readFileSync(opts.cert) } : {}),
      ...(opts.key ? { key: readFileSync(opts.key) } : {}),
      ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
      ...(version ? { minVersion: version, maxVersion: version } : {}),
      ...(opts.tlsAlpn ? { ALPNProtocols: [opts.tlsAlpn] } : {}),
      rejectUnauthorized: true,
      // --insecure skips only the host name check; the chain is still verified, as with mosquitto.
      ...(opts.insecure ? { checkServerIdentity: () => undefined } : {}),
    };
  } catch {
    return 'Error: Problem setting TLS options: File not found.\n';
  }
}

/** An unstarted-socket failure as mosquitto reports it (strerror text, or its own lookup error). */
export function socketErrorText(err: NodeJS.ErrnoException): string {
  const strerror: Record<string, string> = {
    ECONNREFUSED: 'Connection refused',
    ECONNRESET: 'Connection reset by peer',
    EHOSTUNREACH: 'No route to host',
    ENETUNREACH: 'Network is unreachable',
    ETIMEDOUT: 'Connection timed out',
    EADDRNOTAVAIL: 'Cannot assign requested address',
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
  };
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EAI_FAIL') {
    return 'Unable to connect (Lookup error.).\n';
  }
  if (err.code && strerror[err.code]) return `Error: ${strerror[err.code]}\n`;
  if (isTlsError(err)) return `Error: A TLS error occurred.\n`;
  return `Error: ${err.message}\n`;
}

/** A failed TLS handshake or certificate check (Node names these ERR_TLS_*, ERR_SSL_* or by OpenSSL's reason). */
export function isTlsError(err: NodeJS.ErrnoException): boolean {
  return (
    err.code?.startsWith('ERR_TLS') === true ||
    err.code?.startsWith('ERR_SSL') === true ||
    /certificate|SSL|TLS/i.test(err.message)
  );
}

/** libmosquitto's MOSQ_ERR_TLS: mosquitto_pub/sub's exit code when the TLS handshake or verification fails. */
export const EXIT_TLS_ERROR = 8;

export interface SocketHooks {
  /** A socket failure; MQTT.js would only log it. */
  onError(err: NodeJS.ErrnoException): void;
  /** TCP (or TLS) is up: mosquitto logs "sending CONNECT" only once its blocking connect succeeded. */
  onConnect(): void;
}

/**
 * An MQTT.js client for these options; call connect() once listeners are attached (MQTT.js sends
 * CONNECT synchronously). Reconnection is off: like mosquitto_pub, a lost connection ends the command.
 */
export function createClient(
  opts: ClientOptions,
  broker: BrokerAddress,
  clientId: string,
  hooks: SocketHooks,
): MqttClient | string {
  let tlsOptions: tls.ConnectionOptions | undefined;
  if (broker.tls) {
    const loaded = loadTlsFiles(opts);
    if (typeof loaded === 'string') return loaded;
    tlsOptions = loaded;
  }
  const build = () => {
    let socket: net.Socket;
    if (opts.unixPath !== undefined) {
      socket = net.createConnection(opts.unixPath);
    } else if (tlsOptions) {
      socket = tls.connect({
        ...tlsOptions,
        host: broker.host,
        port: broker.port,
        ...(net.isIP(broker.host) ? {} : { servername: broker.host }),
        ...(opts.bindAddress ? { localAddress: opts.bindAddress } : {}),
      });
    } else {
      socket = net.createConnection({
        host: broker.host,
        port: broker.port,
        noDelay: opts.noDelay,
        ...(opts.bindAddress ? { localAddress: opts.bindAddress } : {}),
      });
    }
    socket.on('error', hooks.onError);
    socket.once(tlsOptions ? 'secureConnect' : 'connect', hooks.onConnect);
    return socket;
  };
  const v5 = opts.protocolVersion === 5;
  const will = opts.willTopic
    ? {
        topic: opts.willTopic,
        payload: Buffer.from(opts.willPayload ?? ''),
        qos: opts.willQos,
        retain: opts.willRetain,
        ...(v5 && Object.keys(opts.properties.will).length > 0 ? { properties: opts.properties.will } : {}),
      }
    : undefined;
  const connectProps = { ...opts.properties.connect };
  // As mosquitto_sub does: a small -C lowers receive-maximum so no extra messages are in flight at exit.
  if (
    opts.kind === 'sub' &&
    opts.msgCount > 0 &&
    opts.msgCount < 20 &&
    connectProps.receiveMaximum === undefined
  ) {
    connectProps.receiveMaximum = opts.msgCount;
  }
  const mqttOptions: IClientOptions = {
    protocolVersion: opts.protocolVersion,
    protocolId: opts.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    clientId,
    clean: opts.clean,
    keepalive: opts.keepalive,
    reconnectPeriod: 0,
    manualConnect: true,
    connectTimeout: 30_000,
    resubscribe: false,
    messageIdProvider: new SequentialMessageIdProvider(),
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(will ? { will } : {}),
    ...(v5 && Object.keys(connectProps).length > 0 ? { properties: connectProps } : {}),
  };
  return new MqttClient(build, mqttOptions);
}

/**
 * Packet ids 1, 2, 3… as libmosquitto hands them out, so -d lines match mosquitto's (MQTT.js's default
 * starts at a random id, its "unique" provider reuses freed ids).
 */
export class SequentialMessageIdProvider implements NonNullable<IClientOptions['messageIdProvider']> {
  private last = 0;
  private readonly inUse = new Set<number>();
  allocate(): number | null {
    for (let tries = 0; tries < 65535; tries++) {
      this.last = (this.last % 65535) + 1;
      if (!this.inUse.has(this.last)) {
        this.inUse.add(this.last);
        return this.last;
      }
    }
    return null;
  }
  getLastAllocated(): number | null {
    return this.last === 0 ? null : this.last;
  }
  register(id: number): boolean {
    if (this.inUse.has(id)) return false;
    this.inUse.add(id);
    return true;
  }
  deallocate(id: number): void {
    this.inUse.delete(id);
  }
  clear(): void {
    this.inUse.clear();
  }
  /** The id the next publish would get; QoS 0 publishes use it too in mosquitto's log. */
  skip(): number {
    this.last = (this.last % 65535) + 1;
    return this.last;
  }
}

/** One client run of `pub` or `sub`: the MQTT.js client, its exit code, and its `-d` output. */
export interface ClientRun {
  client: MqttClient;
  /** Resolves with the exit code once `finish` is called. */
  exited: Promise<number>;
  readonly finished: boolean;
  finish(code: number): void;
  /** Prints `-d` lines (nothing without -d). */
  debug(lines: string[]): void;
}

/**
 * What both commands share around the client: socket errors before the CONNACK end the run with
 * mosquitto's message and exit code 1, and the "sending CONNECT" line is held until the socket is up
 * (so a refused port prints nothing extra, as libmosquitto). `sendLines` makes the `-d` lines of each
 * packet sent; a command adds its own 'packetsend' listener for anything more.
 */
export function startClientRun(
  opts: ClientOptions,
  broker: BrokerAddress,
  clientId: string,
  errPrint: (s: string) => void,
  hooks: { connected(): boolean; sendLines(packet: Packet): string[] },
): ClientRun | string {
  let finished = false;
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => {
    resolveExit = r;
  });
  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    resolveExit(code);
  };
  const debug = (lines: string[]): void => {
    if (opts.debug) for (const line of lines) process.stdout.write(`${line}\n`);
  };
  let socketUp = false;
  let heldConnectLine: string[] = [];
  const client = createClient(opts, broker, clientId, {
    onError: (err) => {
      if (hooks.connected()) return;
      errPrint(socketErrorText(err));
      finish(isTlsError(err) ? EXIT_TLS_ERROR : 1);
    },
    onConnect: () => {
      socketUp = true;
      debug(heldConnectLine);
      heldConnectLine = [];
    },
  });
  if (typeof client === 'string') return client;
  client.on('error', () => {
    // Reported through the socket handler or the CONNACK; MQTT.js's copy would only repeat it.
  });
  client.on('packetsend', (packet: Packet) => {
    const lines = hooks.sendLines(packet);
    if (packet.cmd === 'connect' && !socketUp) heldConnectLine = lines;
    else debug(lines);
  });
  return {
    client,
    exited,
    get finished() {
      return finished;
    },
    finish,
    debug,
  };
}
