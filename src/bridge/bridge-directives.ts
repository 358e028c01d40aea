/**
 * mosquitto's bridge directives (man mosquitto.conf, "Configuring bridges"), read verbatim: a
 * `connection <name>` line opens a block and the lines after it configure that bridge. Directives of
 * mosquitto's we do not act on (bridge_alpn, bridge_psk, ...) stay warnings (config/unsupported-directives.ts).
 */
import type { Directive } from '../config/directive-table.js';
import { at } from '../config/lexer.js';
import type { ParseState } from '../config/parse-state.js';
import { type DirectiveValue, parseDuration } from '../config/values.js';
import { ErrorCodes, MothershipError } from '../errors.js';
import { topicNameProblem } from '../protocol/topic.js';
import { type BridgeAddress, type BridgeConfig, type BridgeTls, newBridgeConfig } from './bridge-config.js';
import { parseTopicRule, topicForm } from './topic-rule.js';

const SECTION = 'bridges';
const SCOPE = 'connection';

/** The bridges a config file holds, in file order. */
export function bridgesOf(config: { sections: Map<string, unknown> } | undefined): BridgeConfig[] {
  return (config?.sections.get(SECTION) as BridgeConfig[] | undefined) ?? [];
}

function bridges(state: ParseState): BridgeConfig[] {
  return state.section<BridgeConfig[]>(SECTION, () => []);
}

/** The bridge the current `connection` block configures (the scope check guarantees there is one). */
function current(state: ParseState): BridgeConfig {
  const all = bridges(state);
  return all[all.length - 1]!;
}

function tls(b: BridgeConfig): BridgeTls {
  b.tls ??= { insecure: false };
  return b.tls;
}

const ageForm = 'seconds, or a duration such as 12h or 7d (0: no limit)';

const addressForm = 'one or more host[:port] (IPv6 as [address]:port)';

export function parseAddress(word: string): BridgeAddress | undefined {
  const m = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(word) ?? /^([^:]+)(?::([0-9]{1,5}))?$/.exec(word);
  // A bare IPv6 address must carry its port (mosquitto): the last colon separates it.
  const v6 = m ? undefined : /^(.*:.*):([0-9]{1,5})$/.exec(word);
  const host = m?.[1] ?? v6?.[1];
  const port = Number(m ? (m[2] ?? 1883) : v6?.[2]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** A `connection`-scoped directive. */
function bridgeDirective(
  name: string,
  form: string,
  apply: (v: DirectiveValue, b: BridgeConfig) => void,
): Directive<ParseState> {
  return { name, scope: SCOPE, form, apply: (v, state) => apply(v, current(state)) };
}

const boolForm = 'true or false';

function flag(name: string, set: (b: BridgeConfig, on: boolean) => void): Directive<ParseState> {
  return bridgeDirective(name, boolForm, (v, b) => set(b, v.bool()));
}

function word(name: string, form: string, set: (b: BridgeConfig, w: string) => void): Directive<ParseState> {
  return bridgeDirective(name, form, (v, b) => set(b, v.one(form)));
}

const addresses = (v: DirectiveValue, b: BridgeConfig): void => {
  if (v.line.args.length === 0) throw v.invalid(addressForm);
  const list: BridgeAddress[] = [];
  for (const w of v.line.args) {
    const a = parseAddress(w);
    if (!a) throw v.invalid(addressForm, w);
    list.push(a);
  }
  b.addresses = list;
};

export const bridgeDirectives: Directive<ParseState>[] = [
  {
    name: 'connection',
    scope: 'global',
    form: 'a name',
    opens: SCOPE,
    apply(v, state) {
      const name = v.one('a name');
      const all = bridges(state);
      const twice = all.find((b) => b.name === name);
      if (twice)
        throw v.invalid(`a name not used by another connection (${at(twice.where)} has '${name}')`, name);
      all.push(newBridgeConfig(name, v.where));
    },
  },
  bridgeDirective('address', addressForm, addresses),
  bridgeDirective('addresses', addressForm, addresses),
  flag('round_robin', (b, on) => {
    b.roundRobin = on;
  }),
  word('remote_clientid', 'a client id', (b, w) => {
    b.remoteClientId = w;
  }),
  word('clientid', 'a client id', (b, w) => {
    b.remoteClientId = w; // mosquitto's old name for remote_clientid
  }),
  word('local_clientid', 'a client id', (b, w) => {
    b.localClientId = w;
  }),
  word('remote_username', 'a user name', (b, w) => {
    b.remoteUsername = w;
  }),
  word('username', 'a user name', (b, w) => {
    b.remoteUsername = w;
  }),
  word('remote_password', 'a password', (b, w) => {
    b.remotePassword = w;
  }),
  word('password', 'a password', (b, w) => {
    b.remotePassword = w;
  }),
  word('local_username', 'a user name', (b, w) => {
    b.localUsername = w;
  }),
  word('local_password', 'a password', (b, w) => {
    b.localPassword = w;
  }),
  flag('cleansession', (b, on) => {
    b.cleanSession = on;
  }),
  flag('local_cleansession', (b, on) => {
    b.localCleanSession = on;
  }),
  bridgeDirective('keepalive_interval', 'an integer number of seconds, 5..65535', (v, b) => {
    b.keepalive = v.int(5, 65535, 'an integer number of seconds, 5..65535');
  }),
  bridgeDirective('restart_timeout', 'seconds (constant), or base and cap seconds (backoff)', (v, b) => {
    const form = 'seconds (constant), or base and cap seconds (backoff), e.g. 5 30';
    const [a, c, ...more] = v.line.args;
    const n = (w: string | undefined): number =>
      w !== undefined && /^[0-9]{1,9}$/.test(w) ? Number(w) : Number.NaN;
    const base = n(a);
    if (more.length > 0 || !Number.isInteger(base) || base < 1) throw v.invalid(form);
    if (c === undefined) b.restartTimeout = { constant: base };
    else {
      const cap = n(c);
      if (!Number.isInteger(cap) || cap < base) throw v.invalid(form);
      b.restartTimeout = { base, cap };
    }
  }),
  bridgeDirective('start_type', 'automatic, lazy or once', (v, b) => {
    b.startType = v.oneOf(['automatic', 'lazy', 'once'] as const, 'automatic, lazy or once');
  }),
  bridgeDirective('threshold', 'an integer number of messages, 1..2147483647', (v, b) => {
    b.threshold = v.int(1, 2_147_483_647, 'an integer number of messages, 1..2147483647');
  }),
  bridgeDirective('idle_timeout', 'an integer number of seconds, 1..2147483647', (v, b) => {
    b.idleTimeout = v.int(1, 2_147_483_647, 'an integer number of seconds, 1..2147483647');
  }),
  flag('notifications', (b, on) => {
    b.notifications = on;
  }),
  flag('notifications_local_only', (b, on) => {
    b.notificationsLocalOnly = on;
  }),
  bridgeDirective('notification_topic', 'a topic name (no wildcards)', (v, b) => {
    const t = v.one('a topic name (no wildcards)');
    if (topicNameProblem(t)) throw v.invalid('a topic name (no wildcards)', t);
    b.notificationTopic = t;
  }),
  flag('try_private', (b, on) => {
    b.tryPrivate = on;
  }),
  bridgeDirective('bridge_protocol_version', 'mqttv50, mqttv311 or mqttv31', (v, b) => {
    const w = v.oneOf(['mqttv50', 'mqttv311', 'mqttv31'] as const, 'mqttv50, mqttv311 or mqttv31');
    b.protocolVersion = w === 'mqttv50' ? 5 : w === 'mqttv311' ? 4 : 3;
  }),
  flag('bridge_outgoing_retain', (b, on) => {
    b.outgoingRetain = on;
  }),
  bridgeDirective('bridge_cafile', 'a file path', (v, b) => {
    tls(b).cafile = v.path();
  }),
  bridgeDirective('bridge_capath', 'a folder path', (v, b) => {
    tls(b).capath = v.path('a folder path');
  }),
  bridgeDirective('bridge_certfile', 'a file path', (v, b) => {
    tls(b).certfile = v.path();
  }),
  bridgeDirective('bridge_keyfile', 'a file path', (v, b) => {
    tls(b).keyfile = v.path();
  }),
  flag('bridge_insecure', (b, on) => {
    tls(b).insecure = on;
  }),
  bridgeDirective('bridge_max_packet_size', 'a size in bytes, 0..268435455 (0: no limit)', (v, b) => {
    b.maxPacketSize = v.int(0, 268_435_455, 'a size in bytes, 0..268435455 (0: no limit)');
  }),
  // Mothership's own: the bounds of the store-and-forward queue (oldest dropped first, QoS 0 first).
  bridgeDirective(
    'bridge_queue_max_messages',
    'an integer number of messages, 0..2147483647 (0: no limit)',
    (v, b) => {
      b.queue.maxMessages = v.int(
        0,
        2_147_483_647,
        'an integer number of messages, 0..2147483647 (0: no limit)',
      );
    },
  ),
  bridgeDirective('bridge_queue_max_bytes', 'a size in bytes (0: no limit)', (v, b) => {
    b.queue.maxBytes = v.int(0, Number.MAX_SAFE_INTEGER, 'a size in bytes (0: no limit)');
  }),
  bridgeDirective('bridge_queue_max_age', ageForm, (v, b) => {
    const w = v.one(ageForm);
    const seconds = /^[0-9]{1,9}$/.test(w) ? Number(w) : parseDuration(w);
    if (seconds === undefined) throw v.invalid(ageForm, w);
    b.queue.maxAgeMs = seconds * 1000;
  }),
  bridgeDirective('topic', topicForm, (v, b) => {
    const rule = parseTopicRule(v.line.args);
    if (typeof rule === 'string') throw v.invalid(`${topicForm}: ${rule}`);
    b.topics.push(rule);
  }),
];

/**
 * What a `connection` block must hold once read, as mosquitto checks it at start: an address, a
 * password only with a user name, a client key only with its certificate, and TLS only with a CA.
 */
export function checkBridges(list: readonly BridgeConfig[]): void {
  for (const b of list) {
    const fail = (text: string): never => {
      throw new MothershipError(
        ErrorCodes.CONFIG_INVALID_VALUE,
        `${at(b.where)}: connection ${b.name}: ${text}`,
      );
    };
    if (b.addresses.length === 0) fail('needs an address line (address host[:port])');
    if (b.remotePassword !== undefined && b.remoteUsername === undefined)
      fail('remote_password needs remote_username');
    if (b.localPassword !== undefined && b.localUsername === undefined)
      fail('local_password needs local_username');
    const t = b.tls;
    if (t) {
      if ((t.certfile === undefined) !== (t.keyfile === undefined))
        fail('bridge_certfile and bridge_keyfile go together');
      if (t.cafile === undefined && t.capath === undefined)
        fail('TLS settings need bridge_cafile or bridge_capath (that is what turns TLS on)');
    }
  }
}
