/** The long-only flags of `mothership pub`/`sub`: general, will, then TLS, as the help lists them. */
import { atof, atoi } from './c-numbers.js';
import { BOTH, count, type Flag, keep, PUB, SUB, set, unsupported } from './flag.js';
import { parseQos, topicNameError } from './flag-values.js';

export const LONG_FLAGS: readonly Flag[] = [
  { names: ['--help'], tools: BOTH, apply: () => ({ answer: 'help' }), help: ['display this message.'] },
  {
    names: ['--version'],
    tools: BOTH,
    apply: () => ({ answer: 'version' }),
    help: ['print the version and exit.'],
  },
  {
    names: ['--json'],
    tools: BOTH,
    apply: set('json'),
    help: {
      pub: ['print one JSON object per message sent (topic, payload, qos, retain, properties, time).'],
      sub: ['print one JSON object per message (topic, payload, qos, retain, properties, time).'],
    },
  },
  {
    names: ['--nodelay'],
    tools: BOTH,
    apply: set('noDelay'),
    help: [
      "disable Nagle's algorithm, to reduce socket sending latency at the possible",
      'expense of more packets being sent.',
    ],
  },
  {
    names: ['--pretty'],
    tools: SUB,
    apply: set('pretty'),
    help: [
      'print formatted output rather than minimised output when using the',
      'JSON output format option.',
    ],
  },
  { names: ['--quiet'], tools: BOTH, apply: set('quiet'), help: ["don't print error messages."] },
  {
    names: ['--random-filter'],
    tools: SUB,
    value: 'no chance',
    apply: (o, v) => {
      o.randomFilter = Math.trunc(10 * atof(v));
      return o.randomFilter > 10000 || o.randomFilter < 1
        ? 'Error: --random-filter chance must be between 0.1-100.0\n\n'
        : undefined;
    },
    help: [
      'only print a percentage of received messages. Set to 100 to have all',
      'messages printed, 50.0 to have half of the messages received on average',
      'printed, and so on.',
    ],
  },
  {
    names: ['--repeat'],
    tools: PUB,
    value: 'no count',
    apply: count('repeatCount', () => 'Error: --repeat argument must be >0.\n\n'),
    help: ['if publish mode is -f, -m, or -s, then repeat the publish N times.'],
  },
  {
    names: ['--repeat-delay'],
    tools: PUB,
    value: 'no time',
    apply: (o, v) => {
      const f = atof(v);
      if (f < 0) return 'Error: --repeat-delay argument must be >=0.0.\n\n';
      o.repeatDelayMs = f * 1000;
      return undefined;
    },
    help: ['if using --repeat, wait time seconds between publishes. Defaults to 0.'],
  },
  {
    names: ['--retained-only'],
    tools: SUB,
    apply: set('retainedOnly'),
    help: [
      'only handle messages with the retained flag set, and exit when the',
      'first non-retained message is received.',
    ],
  },
  {
    names: ['--remove-retained'],
    tools: SUB,
    apply: set('removeRetained'),
    help: [
      'send a message to the server to clear any received retained messages',
      'Use -T to filter out messages you do not want to be cleared.',
    ],
  },
  {
    names: ['--retain-as-published'],
    tools: SUB,
    apply: set('retainAsPublished'),
    help: [
      'MQTT v5: ask the broker to keep the retain flag of messages as published',
      '(the Retain As Published subscription option).',
    ],
  },
  {
    names: ['--unix'],
    tools: BOTH,
    value: 'no socket path',
    apply: (o, v) => {
      o.unixPath = v;
      o.host = v;
      o.port = 0;
      return undefined;
    },
    help: [
      'connect to a broker through a unix domain socket instead of a TCP socket,',
      'e.g. /tmp/mosquitto.sock',
    ],
  },
  {
    names: ['--will-payload'],
    tools: BOTH,
    value: 'no will payload',
    apply: keep('willPayload'),
    help: [
      'payload for the client Will, which is sent by the broker in case of',
      'unexpected disconnection. If not given and will-topic is set, a zero',
      'length message will be sent.',
    ],
  },
  {
    names: ['--will-qos'],
    tools: BOTH,
    value: 'no will QoS',
    apply: (o, v) => {
      const q = parseQos(v);
      if (q === undefined) return `Error: Invalid will QoS ${atoi(v)}.\n\n`;
      o.willQos = q;
      return undefined;
    },
    help: ['QoS level for the client Will.'],
  },
  {
    names: ['--will-retain'],
    tools: BOTH,
    apply: set('willRetain'),
    help: ['if given, make the client Will retained.'],
  },
  {
    names: ['--will-topic'],
    tools: BOTH,
    value: 'no will topic',
    apply: (o, v) => topicNameError(v, '--will-topic', 'will topic') ?? keep('willTopic')(o, v),
    help: ['the topic on which to publish the client Will.'],
  },
  {
    names: ['--cafile'],
    tools: BOTH,
    value: 'no file',
    apply: keep('cafile'),
    help: {
      pub: ['path to a file containing trusted CA certificates to enable encrypted', 'communication.'],
      sub: [
        'path to a file containing trusted CA certificates to enable encrypted',
        'certificate based communication.',
      ],
    },
  },
  {
    names: ['--capath'],
    tools: BOTH,
    value: 'no directory',
    apply: keep('capath'),
    help: ['path to a directory containing trusted CA certificates to enable encrypted', 'communication.'],
  },
  {
    names: ['--cert'],
    tools: BOTH,
    value: 'no file',
    apply: keep('cert'),
    help: ['client certificate for authentication, if required by server.'],
  },
  {
    names: ['--key'],
    tools: BOTH,
    value: 'no file',
    apply: keep('key'),
    help: ['client private key for authentication, if required by server.'],
  },
  {
    names: ['--keyform'],
    tools: BOTH,
    value: 'no keyform',
    apply: keep('keyform'),
    help: ['keyfile type, "pem" or "engine" for mosquitto; mothership reads PEM keys.'],
  },
  {
    names: ['--ciphers'],
    tools: BOTH,
    value: 'no ciphers',
    apply: keep('ciphers'),
    help: ['openssl compatible list of TLS ciphers to support.'],
  },
  {
    names: ['--tls-version'],
    tools: BOTH,
    value: 'no version',
    apply: keep('tlsVersion'),
    help: [
      'TLS protocol version, can be one of tlsv1.3 tlsv1.2 or tlsv1.1.',
      'Defaults to tlsv1.2 if available.',
    ],
  },
  {
    names: ['--tls-alpn'],
    tools: BOTH,
    value: 'no protocol',
    apply: keep('tlsAlpn'),
    help: ['the TLS ALPN protocol to ask the broker for.'],
  },
  {
    names: ['--insecure'],
    tools: BOTH,
    apply: set('insecure'),
    help: [
      'do not check that the server certificate hostname matches the remote',
      'hostname. Using this option means that you cannot be sure that the',
      'remote host is the server you wish to connect to and so is insecure.',
      'Do not use this option in a production environment.',
    ],
  },
  {
    names: ['--tls-engine'],
    tools: BOTH,
    value: 'no engine_id',
    apply: unsupported('--tls-engine'),
    help: ['a TLS engine device: not supported by mothership.'],
  },
  {
    names: ['--tls-engine-kpass-sha1'],
    tools: BOTH,
    value: 'no kpass sha1',
    apply: unsupported('--tls-engine-kpass-sha1'),
    help: ['SHA1 of the key password for a TLS engine: not supported by mothership.'],
  },
  {
    names: ['--tls-use-os-certs'],
    tools: BOTH,
    apply: set('tlsUseOsCerts'),
    help: ['Load and trust OS provided CA certificates.'],
  },
  {
    names: ['--proxy'],
    tools: BOTH,
    value: 'no proxy url',
    apply: () => 'Error: --proxy (SOCKS5) is not supported by mothership.\n\n',
    help: ['a SOCKS5 proxy URL: not supported by mothership.'],
  },
];
