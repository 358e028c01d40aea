/**
 * What `mothership up` prints once it listens: where boards and clients reach it, which anonymous
 * rule is in force and why, and a "Try it" line that runs as printed.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import { listInterfaceSubnets } from '../broker/auth/interface-subnets.js';
import type { AnonymousPolicy } from '../broker/auth/network-policy.js';
import { isPrivateAddress } from '../broker/auth/network-policy.js';
import type { Listener } from '../transport/listen-options.js';
import type { AnonymousRule } from './anonymous-rule.js';
import { lanAddresses } from './lan-addresses.js';
import type { BrokerAccess } from './listener-access.js';

export interface BannerInput {
  listeners: Listener[];
  anonymous: BrokerAccess['anonymous'];
  config: string | undefined;
  /** undefined: persistence off. */
  data: string | undefined;
  mdns: boolean;
  /** How to run the CLI the way this process was started (see cliInvocation). */
  invocation: string;
  /** The hub serves the dashboard on the WebSocket listeners' port. */
  dashboard?: boolean;
}

const anonymousWords: Record<AnonymousPolicy, string> = {
  lan: "allowed from this machine and the local network only (private ranges and this machine's subnets); anyone else needs a username",
  everyone: 'allowed from anywhere',
  nobody: 'off: every client needs a username and password',
};

/** A host in a URL: IPv6 addresses in brackets (RFC 3986). */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}

function isEveryInterface(host: string | undefined): boolean {
  return host === undefined || host === '0.0.0.0' || host === '::';
}

/** The addresses a listener is reached at: its bind address, or this machine's LAN addresses. */
function reachableAt(l: Listener): string[] {
  if (!isEveryInterface(l.host)) return [l.host!];
  const lan = lanAddresses();
  return lan.length > 0 ? lan : ['127.0.0.1'];
}

/**
 * True when other machines using `address` can count as local under the LAN rule: it is a private
 * address, or its interface's subnet holds more than this one address (a /32 or /128 does not).
 */
export function coversNeighbours(address: string): boolean {
  if (isPrivateAddress(address)) return true;
  return listInterfaceSubnets().some(
    (s) => s.address === address && s.prefix < (s.family === 'ipv4' ? 32 : 128),
  );
}

function ruleFor(anonymous: BannerInput['anonymous'], index: number): AnonymousRule | undefined {
  return anonymous.policy === 'per-listener' ? anonymous.perListener[index] : anonymous;
}

export function banner(input: BannerInput): string {
  const { listeners, anonymous } = input;
  const lines = ['', `Mothership is up on ${hostname()}.`];
  for (const l of listeners) {
    const scheme = l.protocol === 'websockets' ? (l.tls ? 'wss' : 'ws') : l.tls ? 'mqtts' : 'mqtt';
    const path = l.protocol === 'websockets' ? '/mqtt' : '';
    const urls = reachableAt(l).map((h) => `${scheme}://${urlHost(h)}:${l.port}${path}`);
    lines.push(`  ${(l.protocol === 'websockets' ? 'WebSocket' : 'MQTT').padEnd(10)} ${urls.join('  ')}`);
  }
  const web = input.dashboard ? listeners.find((l) => l.protocol === 'websockets') : undefined;
  if (web) {
    const urls = reachableAt(web).map((h) => `${web.tls ? 'https' : 'http'}://${urlHost(h)}:${web.port}/`);
    lines.push(`  Dashboard  ${urls.join('  ')}`);
  }
  if (anonymous.policy === 'per-listener')
    lines.push('  Anonymous  per listener (per_listener_settings true)');
  else lines.push(`  Anonymous  ${anonymousWords[anonymous.policy]} (${anonymous.why})`);
  // Under the LAN rule, an address whose neighbours are not local makes boards using it log in.
  const lanListeners = listeners.filter((_, i) => ruleFor(anonymous, i)?.policy === 'lan');
  const uncovered = [...new Set(lanListeners.flatMap(reachableAt))].filter(
    (a) => !isLoopback(a) && !coversNeighbours(a),
  );
  for (const a of uncovered)
    lines.push(
      `  Warning    ${a} is not on a private range and its interface has no subnet around it: boards that use it are not on the local network and need a username (or allow_anonymous true)`,
    );
  lines.push(`  Config     ${input.config ?? 'none (defaults)'}`);
  lines.push(
    `  Data       ${input.data !== undefined ? `${input.data} (sessions, queued and retained messages survive restarts)` : 'memory only (persistence off)'}`,
  );
  lines.push(`  mDNS       ${input.mdns ? '_mqtt._tcp (boards can find this broker by name)' : 'off'}`);

  const mqttIndex = preferredMqtt(listeners);
  const mqtt = mqttIndex === undefined ? undefined : listeners[mqttIndex]!;
  if (mqtt) {
    lines.push('');
    const boardAddress = reachableAt(mqtt).find((a) => !isLoopback(a));
    if (boardAddress)
      lines.push(
        `On a board, set "broker": "${boardAddress}"${mqtt.port !== 1883 ? ` and "port": ${mqtt.port}` : ''} in config.json.`,
      );
    else
      lines.push(
        'Boards on the network cannot reach this broker: it listens on loopback only (simulated boards on this machine can). Listen on a LAN address or every interface (e.g. listener 1883) for boards.',
      );
    lines.push(tryIt(input.invocation, mqtt, ruleFor(anonymous, mqttIndex!)));
  }
  lines.push('Stop with Ctrl+C.', '');
  return lines.join('\n');
}

/** The MQTT listener a person tries first: plain before TLS. */
function preferredMqtt(listeners: Listener[]): number | undefined {
  const plain = listeners.findIndex((l) => l.protocol === 'mqtt' && !l.tls);
  if (plain >= 0) return plain;
  const any = listeners.findIndex((l) => l.protocol === 'mqtt');
  return any >= 0 ? any : undefined;
}

function tryIt(cli: string, l: Listener, rule: AnonymousRule | undefined): string {
  const host = isEveryInterface(l.host) ? '' : ` -h ${l.host}`;
  const login = rule && rule.policy !== 'nobody' ? '' : ' -u USERNAME -P PASSWORD';
  const tls = l.tls ? ' --cafile ca.crt' : '';
  const common = `${host} -p ${l.port}${login}${tls}`;
  return `Try it:  ${cli} sub${common} -t '#' -v     ${cli} pub${common} -t hello -m 'my name is blah'`;
}

/**
 * The command that runs this CLI as it was started: `mothership` when that name on PATH is this
 * program (npm install -g, npm link), `npx mothership` in a project that depends on it, else node
 * and the entry script (a checkout after `npm install`, where `npm start` runs it).
 */
export function cliInvocation(
  entry = process.argv[1] ?? 'bin/mothership.js',
  cwd = process.cwd(),
  path = process.env.PATH ?? '',
): string {
  const real = (p: string): string | undefined => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const self = real(entry) ?? entry;
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'mothership');
    if (existsSync(candidate) && real(candidate) === self) return 'mothership';
  }
  const local = join(cwd, 'node_modules', '.bin', 'mothership');
  if (existsSync(local) && real(local) === self) return 'npx mothership';
  const rel = relative(cwd, self);
  const shown = rel.startsWith('..') || isAbsolute(rel) ? self : rel;
  return self.endsWith('.ts') ? `node --import tsx ${shown}` : `node ${shown}`;
}
