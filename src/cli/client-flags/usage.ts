/**
 * `mothership pub --help` and `mothership sub --help`: mosquitto_pub/sub's usage layout, its synopsis
 * written out as mosquitto writes it, and the flag list generated from the flag table.
 */
import { FLAGS, type Flag } from './flag-table.js';
import type { ClientKind } from './options.js';

const INTRO: Record<ClientKind, string> = {
  pub: 'will publish a message on a single topic and exit.',
  sub: 'will subscribe to a set of topics and print all messages it receives.',
};

/** mosquitto's synopsis, without the flags mothership does not support (PSK, TLS engines, proxies). */
const SYNOPSIS: Record<ClientKind, string[]> = {
  pub: [
    '{[-h host] [--unix path] [-p port] [-u username] [-P password] -t topic | -L URL}',
    '{-f file | -l | -n | -m message}',
    '[-c] [-k keepalive] [-q qos] [-r] [--repeat N] [--repeat-delay time] [-x session-expiry]',
    '[-A bind_address] [--nodelay]',
    '[-i id] [-I id_prefix]',
    '[-d] [--quiet] [--json]',
    '[-M max_inflight]',
    '[-u username [-P password]]',
    '[--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]',
    '[{--cafile file | --capath dir} [--cert file] [--key file]',
    '  [--ciphers ciphers] [--insecure]',
    '  [--tls-alpn protocol]',
    '  [--tls-use-os-certs]',
    '[--property command identifier value]',
    '[-D command identifier value]',
  ],
  sub: [
    '{[-h host] [--unix path] [-p port] [-u username] [-P password] -t topic | -L URL [-t topic]}',
    '[-c] [-k keepalive] [-q qos] [-x session-expiry-interval]',
    '[-C msg_count] [-E] [-R] [--retained-only] [--remove-retained] [-T filter_out] [-U topic ...]',
    '[-F format | --json]',
    '[-W timeout_secs]',
    '[-A bind_address] [--nodelay]',
    '[-i id] [-I id_prefix]',
    '[-d] [-N] [--quiet] [-v]',
    '[--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]',
    '[{--cafile file | --capath dir} [--cert file] [--key file]',
    '  [--ciphers ciphers] [--insecure]',
    '  [--tls-alpn protocol]',
    '  [--tls-use-os-certs]',
    '[-D command identifier value]',
  ],
};

/** The synopsis lines as printed, for checking them against the table. */
export function synopsis(kind: ClientKind): readonly string[] {
  return SYNOPSIS[kind];
}

/** A tool's flags in the order its help lists them. */
export function helpOrder(kind: ClientKind): Flag[] {
  const flags = FLAGS.filter((f) => f.tools.includes(kind));
  for (const flag of flags.filter((f) => f.listedAfter?.[kind] !== undefined)) {
    flags.splice(flags.indexOf(flag), 1);
    flags.splice(flags.findIndex((f) => f.names[0] === flag.listedAfter![kind]) + 1, 0, flag);
  }
  return flags;
}

/** One flag's help: " -t : text", continuation lines indented under the text. */
function helpLines(flag: Flag, kind: ClientKind): string {
  const name = flag.names[0];
  const lines = Array.isArray(flag.help) ? flag.help : (flag.help as Record<ClientKind, string[]>)[kind];
  const indent = ' '.repeat(name.length + 4);
  return lines.map((line, i) => (i === 0 ? ` ${name} : ${line}` : `${indent}${line}`)).join('\n');
}

export function usage(kind: ClientKind, version: string): string {
  const tool = `mothership ${kind}`;
  // mosquitto's indent, kept as it is: "Usage: mosquitto_pub " is one shorter than ours.
  const pad = ' '.repeat('Usage: mosquitto_pub '.length);
  const [first, ...rest] = SYNOPSIS[kind];
  return [
    `${tool} is a simple mqtt client that ${INTRO[kind]}`,
    `${tool} version ${version} (mosquitto_${kind} compatible).`,
    '',
    `Usage: ${tool} ${first}`,
    ...rest.map((line) => `${pad}${line}`),
    `       ${tool} --help`,
    '',
    ...helpOrder(kind).map((flag) => helpLines(flag, kind)),
    '',
    'See docs/cli.md for more information.',
    '',
    '',
  ].join('\n');
}
