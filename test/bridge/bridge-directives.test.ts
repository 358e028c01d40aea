import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { localClientIdOf, notificationTopicOf, remoteClientIdOf } from '../../src/bridge/bridge-config.js';
import { bridgeDirectives, bridgesOf, checkBridges } from '../../src/bridge/bridge-directives.js';
import { parseTopicRule, type TopicRule, toLocal, toRemote } from '../../src/bridge/topic-rule.js';
import { brokerDirectiveTable, parseConfig } from '../../src/config/mosquitto-conf.js';
import { ErrorCodes, isMothershipError } from '../../src/errors.js';

const FILE = '/etc/mosquitto/bridge.conf';

function parse(text: string) {
  return parseConfig(text, FILE, brokerDirectiveTable().register(...bridgeDirectives));
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

function rule(...words: string[]): TopicRule {
  const r = parseTopicRule(words);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

describe('a connection block, as mosquitto’s manual writes it', () => {
  it('reads every directive verbatim, one bridge per connection line', () => {
    const c = parse(
      [
        'listener 1883',
        'connection cloud',
        'address broker.example.com:8883 backup.example.com',
        'round_robin true',
        'remote_clientid hub-1',
        'local_clientid hub-1-local',
        'remote_username u',
        'remote_password secret',
        'cleansession true',
        'local_cleansession false',
        'keepalive_interval 30',
        'restart_timeout 10 60',
        'start_type lazy',
        'threshold 5',
        'idle_timeout 120',
        'notifications false',
        'notification_topic hub/bridge/state',
        'try_private false',
        'bridge_protocol_version mqttv311',
        'bridge_outgoing_retain false',
        'bridge_cafile ca.pem',
        'bridge_certfile c.pem',
        'bridge_keyfile k.pem',
        'bridge_insecure true',
        'bridge_max_packet_size 4096',
        'topic sensors/# out 1 "" hub-1/',
        'topic cmd/# in 2 local/ remote/',
        'connection other',
        'addresses [::1]:1884',
        'restart_timeout 20',
        'topic # both',
      ].join('\n'),
    );
    expect(c.warnings).toEqual([]);
    const [cloud, other] = bridgesOf(c);
    expect(bridgesOf(c)).toHaveLength(2);
    expect(cloud).toMatchObject({
      name: 'cloud',
      where: { file: FILE, line: 2 },
      addresses: [
        { host: 'broker.example.com', port: 8883 },
        { host: 'backup.example.com', port: 1883 },
      ],
      roundRobin: true,
      remoteClientId: 'hub-1',
      localClientId: 'hub-1-local',
      remoteUsername: 'u',
      remotePassword: 'secret',
      cleanSession: true,
      localCleanSession: false,
      keepalive: 30,
      restartTimeout: { base: 10, cap: 60 },
      startType: 'lazy',
      threshold: 5,
      idleTimeout: 120,
      notifications: false,
      notificationTopic: 'hub/bridge/state',
      tryPrivate: false,
      protocolVersion: 4,
      outgoingRetain: false,
      tls: {
        cafile: '/etc/mosquitto/ca.pem',
        certfile: '/etc/mosquitto/c.pem',
        keyfile: '/etc/mosquitto/k.pem',
        insecure: true,
      },
      maxPacketSize: 4096,
    });
    expect(cloud!.topics.map((t) => [t.localFilter, t.direction, t.qos, t.remoteFilter])).toEqual([
      ['sensors/#', 'out', 1, 'hub-1/sensors/#'],
      ['local/cmd/#', 'in', 2, 'remote/cmd/#'],
    ]);
    expect(other).toMatchObject({
      addresses: [{ host: '::1', port: 1884 }],
      restartTimeout: { constant: 20 },
      cleanSession: false,
      keepalive: 60,
      startType: 'automatic',
      notifications: true,
      tryPrivate: true,
      protocolVersion: undefined,
      tls: undefined,
    });
    expect(other!.topics[0]).toMatchObject({ pattern: '#', direction: 'both', qos: 0 });
    expect(() => checkBridges(bridgesOf(c))).not.toThrow();
  });

  it('names the client ids and the state topic as mosquitto does', () => {
    const [b] = bridgesOf(parse('connection cloud\naddress h\n'));
    expect(remoteClientIdOf(b!)).toBe(`${hostname()}.cloud`);
    expect(localClientIdOf(b!)).toBe(`local.${hostname()}.cloud`);
    expect(notificationTopicOf(b!)).toBe(`$SYS/broker/connection/${hostname()}.cloud/state`);
  });

  it('keeps warning (file:line) on the bridge directives it does not support', () => {
    const c = parse('connection cloud\naddress h\nbridge_psk 00ff\nbridge_alpn mqtt\n');
    expect(c.warnings).toEqual([
      `${FILE}:3: 'bridge_psk' is a mosquitto directive Mothership does not support yet; ignored`,
      `${FILE}:4: 'bridge_alpn' is a mosquitto directive Mothership does not support yet; ignored`,
    ]);
  });
});

describe("Mothership's queue bounds (bridge_queue_*)", () => {
  it('reads messages, bytes and an age in seconds or as a duration; a million messages by default', () => {
    const [plain, bounded, days] = bridgesOf(
      parse(
        [
          'connection plain',
          'address h',
          'connection bounded',
          'address h',
          'bridge_queue_max_messages 5000',
          'bridge_queue_max_bytes 10000000',
          'bridge_queue_max_age 3600',
          'connection days',
          'address h',
          'bridge_queue_max_age 2d',
          'bridge_queue_max_messages 0',
          '',
        ].join('\n'),
      ),
    );
    expect(plain!.queue).toEqual({ maxMessages: 1_000_000, maxBytes: 0, maxAgeMs: 0 });
    expect(bounded!.queue).toEqual({ maxMessages: 5000, maxBytes: 10_000_000, maxAgeMs: 3_600_000 });
    expect(days!.queue).toEqual({ maxMessages: 0, maxBytes: 0, maxAgeMs: 2 * 86_400_000 });
  });
});

describe('bad bridge lines are refused with file:line and the accepted form', () => {
  it.each([
    ['address', 'address host:99999', 'must be one or more host[:port]'],
    ['keepalive_interval below 5', 'keepalive_interval 4', 'must be an integer number of seconds, 5..65535'],
    ['restart_timeout cap below base', 'restart_timeout 30 5', 'must be seconds (constant), or base and cap'],
    ['start_type', 'start_type manual', 'must be automatic, lazy or once'],
    ['bridge_protocol_version', 'bridge_protocol_version mqttv5', 'must be mqttv50, mqttv311 or mqttv31'],
    ['a wildcard notification_topic', 'notification_topic a/#', 'must be a topic name'],
    ['a topic direction', 'topic a/# sideways', "direction must be in, out or both, got 'sideways'"],
    ['a topic QoS', 'topic a/# in 3', "QoS must be 0, 1 or 2, got '3'"],
    ['a wildcard prefix', 'topic a/# in 1 x/+/ ""', "the local prefix 'x/+/' may not hold wildcards"],
    ['an empty pattern with one prefix', 'topic "" out 0 local ""', 'an empty pattern ("") needs both'],
    ['cleansession', 'cleansession maybe', 'must be true or false'],
    ['bridge_queue_max_messages', 'bridge_queue_max_messages -1', 'must be an integer number of messages'],
    ['bridge_queue_max_bytes', 'bridge_queue_max_bytes 1MB', 'must be a size in bytes (0: no limit)'],
    ['bridge_queue_max_age', 'bridge_queue_max_age 5x', 'must be seconds, or a duration such as 12h'],
  ])('%s', (_what, line, message) => {
    const err = errorOf(() => parse(`connection cloud\naddress h\n${line}\n`));
    expect(isMothershipError(err, ErrorCodes.CONFIG_INVALID_VALUE)).toBe(true);
    expect(err.message).toContain(`${FILE}:3: `);
    expect(err.message).toContain(message);
  });

  it('a bridge directive outside a connection block', () => {
    const err = errorOf(() => parse('topic a/# out\n'));
    expect(err.message).toBe(
      `${FILE}:1: topic belongs in a 'connection' block: put it after a 'connection' line`,
    );
  });

  it('a bridge directive after a listener line ends the block', () => {
    const err = errorOf(() => parse('connection c\naddress h\nlistener 1884\ntopic a out\n'));
    expect(err.message).toContain(`${FILE}:4: topic belongs in a 'connection' block`);
  });

  it('two connections with one name', () => {
    const err = errorOf(() => parse('connection c\naddress h\nconnection c\n'));
    expect(err.message).toContain(
      `${FILE}:3: connection must be a name not used by another connection (${FILE}:1`,
    );
  });

  it.each([
    ['no address', 'connection c\ntopic # out\n', 'needs an address line'],
    [
      'a password without a user',
      'connection c\naddress h\nremote_password p\n',
      'remote_password needs remote_username',
    ],
    [
      'a key without its certificate',
      'connection c\naddress h\nbridge_cafile ca\nbridge_keyfile k\n',
      'bridge_certfile and bridge_keyfile go together',
    ],
    [
      'TLS without a CA',
      'connection c\naddress h\nbridge_insecure true\n',
      'TLS settings need bridge_cafile or bridge_capath',
    ],
  ])('a block with %s, once read', (_what, text, message) => {
    const err = errorOf(() => checkBridges(bridgesOf(parse(text))));
    expect(err.message).toContain(`${FILE}:1: connection c: ${message}`);
  });
});

describe("topic lines with mosquitto's prefix rules (the manual's table)", () => {
  it.each([
    [['pattern', 'out', '0', 'L/', 'R/'], 'L/pattern', 'R/pattern'],
    [['pattern', 'out', '0', 'L/', '""'], 'L/pattern', 'pattern'],
    [['pattern', 'out', '0', '""', 'R/'], 'pattern', 'R/pattern'],
    [['pattern', 'out', '0', '""', '""'], 'pattern', 'pattern'],
    [['""', 'out', '0', 'local', 'remote'], 'local', 'remote'],
  ])('%j maps %s <-> %s', (words, local, remote) => {
    const r = rule(...words);
    expect([r.localFilter, r.remoteFilter]).toEqual([local, remote]);
  });

  it.each([
    [['""', 'out', '0', 'local', '""']],
    [['""', 'out', '0', '""', 'remote']],
    [['""', 'out', '0', '""', '""']],
  ])('%j is invalid', (words) => {
    expect(parseTopicRule(words)).toBe('an empty pattern ("") needs both a local and a remote topic');
  });

  it('moves a message between the prefixes by the first rule that carries it that way', () => {
    const rules = [
      rule('sensors/#', 'out', '1', 'home/', 'cloud/home/'),
      rule('cmd/#', 'in', '1', 'home/', 'cloud/'),
    ];
    expect(toRemote(rules, 'home/sensors/t1')).toBe('cloud/home/sensors/t1');
    expect(toRemote(rules, 'home/cmd/x')).toBeUndefined(); // `in` only
    expect(toLocal(rules, 'cloud/cmd/led')).toBe('home/cmd/led');
    expect(toLocal(rules, 'cloud/home/sensors/t1')).toBeUndefined(); // `out` only
  });
});
