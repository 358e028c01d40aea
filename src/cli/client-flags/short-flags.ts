/** The one-letter flags of `mothership pub`/`sub` (and their long spellings), as the help lists them. */
import { checkFormat } from '../client-output/format-string.js';
import { atoi } from './c-numbers.js';
import { BOTH, count, type Flag, filters, keep, PUB, SUB, set, source } from './flag.js';
import { addTopic, parseQos, parseSessionExpiry, parseUrl } from './flag-values.js';
import { parseProperty } from './properties.js';

export const SHORT_FLAGS: readonly Flag[] = [
  {
    names: ['-A'],
    tools: BOTH,
    value: 'no address',
    apply: keep('bindAddress'),
    help: [
      'bind the outgoing socket to this host/ip address. Use to control which interface',
      'the client communicates over.',
    ],
  },
  {
    names: ['-c', '--disable-clean-session'],
    tools: BOTH,
    apply: set('clean', false),
    help: [
      'disable clean session/enable persistent client mode',
      'When this argument is used, the broker will be instructed not to clean existing sessions',
      'for the same client id when the client connects, and sessions will never expire when the',
      'client disconnects. MQTT v5 clients can change their session expiry interval with the -x',
      'argument.',
    ],
    // mosquitto_pub's help has -d first.
    listedAfter: { pub: '-d' },
  },
  {
    names: ['-C'],
    tools: SUB,
    value: 'no count',
    apply: count('msgCount', (n) => `Error: Invalid message count "${n}".\n\n`),
    help: ["disconnect and exit after receiving the 'msg_count' messages."],
  },
  { names: ['-d', '--debug'], tools: BOTH, apply: set('debug'), help: ['enable debug messages.'] },
  {
    names: ['-D', '--property'],
    tools: BOTH,
    apply: (o, _v, args, at) => {
      const last = parseProperty(o, args, at + 1);
      if (typeof last === 'string') return last;
      o.protocolVersion = 5;
      return { last };
    },
    help: ['Define MQTT v5 properties. See the documentation for more details.'],
  },
  {
    names: ['-E'],
    tools: SUB,
    apply: set('exitAfterSub'),
    help: ['Exit once all subscriptions have been acknowledged by the broker.'],
  },
  {
    names: ['-f', '--file'],
    tools: PUB,
    value: 'no file',
    apply: source('file', keep('file')),
    help: ['send the contents of a file as the message.'],
  },
  {
    names: ['-F'],
    tools: SUB,
    value: 'no format',
    apply: (o, v) => checkFormat(v) ?? keep('format')(o, v),
    help: ['output format.'],
  },
  {
    names: ['-h', '--host'],
    tools: BOTH,
    value: 'no host',
    apply: keep('host'),
    help: ['mqtt host to connect to. Defaults to a broker found over mDNS (_mqtt._tcp), else localhost.'],
  },
  {
    names: ['-i', '--id'],
    tools: BOTH,
    value: 'no id',
    apply: (o, v) =>
      o.idPrefix !== undefined ? 'Error: -i and -I argument cannot be used together.\n\n' : keep('id')(o, v),
    help: ['id to use for this client. Defaults to an id assigned by the broker.'],
  },
  {
    names: ['-I', '--id-prefix'],
    tools: BOTH,
    value: 'no id prefix',
    apply: (o, v) =>
      o.id !== undefined ? 'Error: -i and -I argument cannot be used together.\n\n' : keep('idPrefix')(o, v),
    help: [
      'define the client id as id_prefix appended with the process id. Useful for when the',
      'broker is using the clientid_prefixes option.',
    ],
  },
  {
    names: ['-k', '--keepalive'],
    tools: BOTH,
    value: 'no keepalive',
    apply: (o, v) => {
      o.keepalive = atoi(v);
      return o.keepalive < 5 || o.keepalive > 65535
        ? 'Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n'
        : undefined;
    },
    help: ['keep alive in seconds for this client. Defaults to 60.'],
  },
  {
    names: ['-L', '--url'],
    tools: BOTH,
    value: 'no URL',
    apply: parseUrl,
    help: [
      'specify user, password, hostname, port and topic as a URL in the form:',
      'mqtt(s)://[username[:password]@]host[:port]/topic',
    ],
  },
  {
    names: ['-l', '--stdin-line'],
    tools: PUB,
    apply: source('stdin-line'),
    help: ['read messages from stdin, sending a separate message for each line.'],
  },
  {
    names: ['-m', '--message'],
    tools: PUB,
    value: 'no message',
    apply: source('message', (o, v) => {
      o.message = Buffer.from(v);
      return o.message.length > 268435455
        ? 'Error: Message length must be less than 268435455 bytes.\n\n'
        : undefined;
    }),
    help: ['message payload to send.'],
  },
  {
    names: ['-M'],
    tools: BOTH,
    value: 'max_inflight not',
    apply: (o, v) => {
      if (atoi(v) < 1) return 'Error: Maximum inflight messages must be greater than 0.\n\n';
      o.maxInflight = atoi(v);
      return undefined;
    },
    help: ['the maximum inflight messages for QoS 1/2..'],
  },
  {
    names: ['-n', '--null-message'],
    tools: PUB,
    apply: source('null'),
    help: ['send a null (zero length) message.'],
  },
  {
    names: ['-N'],
    tools: SUB,
    apply: set('eol', false),
    help: ['do not add an end of line character when printing the payload.'],
  },
  {
    names: ['-p', '--port'],
    tools: BOTH,
    value: 'no port',
    apply: (o, v) => {
      o.port = atoi(v);
      return o.port < 0 || o.port > 65535 ? `Error: Invalid port given: ${o.port}\n` : undefined;
    },
    help: ['network port to connect to. Defaults to 1883 for plain MQTT and 8883 for MQTT over TLS.'],
  },
  {
    names: ['-P', '--pw'],
    tools: BOTH,
    value: 'no password',
    apply: keep('password'),
    help: ['provide a password'],
  },
  {
    names: ['-q', '--qos'],
    tools: BOTH,
    value: 'no QoS',
    apply: (o, v) => {
      const q = parseQos(v);
      if (q === undefined) return `Error: Invalid QoS given: ${atoi(v)}\n`;
      o.qos = q;
      return undefined;
    },
    help: {
      pub: ['quality of service level to use for all messages. Defaults to 0.'],
      sub: ['quality of service level to use for the subscription. Defaults to 0.'],
    },
  },
  { names: ['-r', '--retain'], tools: PUB, apply: set('retain'), help: ['message should be retained.'] },
  {
    names: ['-R'],
    tools: SUB,
    apply: set('noRetain'),
    help: ['do not print stale messages (those with retain set).'],
  },
  {
    names: ['-s', '--stdin-file'],
    tools: PUB,
    apply: source('stdin-file'),
    help: ['read message from stdin, sending the entire input as a message.'],
  },
  {
    names: ['-t', '--topic'],
    tools: BOTH,
    value: 'no topic',
    apply: (o, v) => addTopic(o, v, '-t'),
    help: {
      pub: ['mqtt topic to publish to.'],
      sub: ['mqtt topic to subscribe to. May be repeated multiple times.'],
    },
  },
  {
    names: ['-T', '--filter-out'],
    tools: SUB,
    value: 'no topic filter',
    apply: filters('filterOuts', '-T', 'filter topic'),
    help: ['topic string to filter out of results. May be repeated.'],
  },
  {
    names: ['-u', '--username'],
    tools: BOTH,
    value: 'no username',
    apply: keep('username'),
    help: ['provide a username'],
  },
  {
    names: ['-U', '--unsubscribe'],
    tools: SUB,
    value: 'no unsubscribe topic',
    apply: filters('unsubTopics', '-U', 'unsubscribe topic'),
    help: ['unsubscribe from a topic. May be repeated.'],
  },
  {
    names: ['-v', '--verbose'],
    tools: SUB,
    apply: set('verbose'),
    help: ['print published messages verbosely.'],
  },
  {
    names: ['-V', '--protocol-version'],
    tools: BOTH,
    value: 'no version',
    reportedAs: '--protocol-version',
    apply: (o, v) => {
      const version = { mqttv31: 3, 31: 3, mqttv311: 4, 311: 4, mqttv5: 5, 5: 5 } as const;
      if (!Object.hasOwn(version, v)) return 'Error: Invalid protocol version argument given.\n\n';
      o.protocolVersion = version[v as keyof typeof version];
      return undefined;
    },
    help: [
      'specify the version of the MQTT protocol to use when connecting.',
      'Can be mqttv5, mqttv311 or mqttv31. Defaults to mqttv311.',
    ],
  },
  {
    names: ['-W'],
    tools: SUB,
    value: 'no timeout',
    apply: count('timeoutSec', (n) => `Error: Invalid timeout "${n}".\n\n`),
    help: ['Specifies a timeout in seconds how long to process incoming MQTT messages.'],
  },
  {
    names: ['-x'],
    tools: BOTH,
    value: 'no session expiry interval',
    apply: (o, v) => {
      const expiry = parseSessionExpiry(v);
      if (typeof expiry === 'string') return expiry;
      o.sessionExpiry = expiry;
      return undefined;
    },
    help: [
      'Set the session-expiry-interval property on the CONNECT packet. Applies to MQTT v5',
      'clients only. Set to 0-4294967294 to specify the session will expire in that many',
      'seconds after the client disconnects, or use -1, 4294967295, or ∞ for a session',
      'that does not expire. Defaults to -1 if -c is also given, or 0 if -c not given.',
    ],
  },
];
