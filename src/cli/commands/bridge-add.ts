/**
 * `mothership bridge add`: a bridge for a running hub, started at once and kept in its data folder
 * (bridges.conf), from a mosquitto `connection` block (-f FILE, or stdin) or from a few flags for the
 * common case, which make the same block. The hub checks it with the config file's own parser.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BridgeStatus } from '../../bridge/bridge.js';
import { ErrorCodes } from '../../errors.js';
import { parseCommandArgs, usageError } from '../command-args.js';
import { HUB_FLAGS, HUB_FLAGS_HELP, HubApi, HubProblem } from '../hub-api.js';

const HELP = `Usage: mothership bridge add NAME --address HOST[:PORT] --topic 'PATTERN [in|out|both] [QOS] [LOCAL-PREFIX] [REMOTE-PREFIX]' [...]
       mothership bridge add -f FILE      (a connection block in mosquitto syntax; -f - reads stdin)

Adds a bridge to a running hub: it starts at once, the other bridges are untouched, and the hub keeps
it in <data dir>/bridges.conf (it survives a restart; 'mothership bridge remove' takes it out).
The block takes the directives of a connection block in the config file (docs/bridge.md), checked the
same way; file paths must be absolute, on the hub's machine. Needs the hub's administration right
(write on $hub/admin when it has an ACL file).

Options:
  -f, --file FILE             the connection block ('-': stdin)
      --address HOST[:PORT]   the remote (repeat for fail-over addresses)
      --topic 'RULE'          what crosses, as a topic line: '# both 1', 'sensors/# out 1 "" home/'
      --remote-clientid ID    the bridge's client id on the remote
      --remote-username USER  its login on the remote
      --remote-password PW
      --cafile FILE           the remote's CA: turns TLS on
${HUB_FLAGS_HELP}
`;

const OPTIONS = {
  ...HUB_FLAGS,
  file: { type: 'string', short: 'f' },
  address: { type: 'string', multiple: true },
  topic: { type: 'string', multiple: true },
  'remote-clientid': { type: 'string' },
  'remote-username': { type: 'string' },
  'remote-password': { type: 'string' },
  cafile: { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>;

/** The connection block the flags describe, one directive per line. */
function blockOf(name: string, flags: Flags): string {
  if (!flags.address?.length) throw usageError('bridge', `add ${name} needs --address HOST[:PORT]`);
  if (!flags.topic?.length) throw usageError('bridge', `add ${name} needs at least one --topic`);
  const lines = [`connection ${name}`, `address ${flags.address.join(' ')}`];
  const optional: [string, string | undefined][] = [
    ['remote_clientid', flags['remote-clientid']],
    ['remote_username', flags['remote-username']],
    ['remote_password', flags['remote-password']],
    ['bridge_cafile', flags.cafile === undefined ? undefined : resolve(flags.cafile)],
  ];
  for (const [directive, value] of optional) if (value !== undefined) lines.push(`${directive} ${value}`);
  for (const t of flags.topic) lines.push(`topic ${t}`);
  for (const line of lines)
    if (/[\r\n]/.test(line)) throw usageError('bridge', 'a flag value cannot hold a line break');
  return `${lines.join('\n')}\n`;
}

async function stdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function blockFrom(file: string): Promise<string> {
  if (file === '-') return stdin();
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new HubProblem(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
}

/** The block with line numbers, so that an error naming `flags:N` points at the flag that made line N. */
function numbered(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l, i) => `  ${String(i + 1).padStart(2)}  ${l}`)
    .join('\n');
}

export async function add(args: string[]): Promise<number> {
  const named = args[0] !== undefined && !args[0].startsWith('-');
  const flags = parseCommandArgs('bridge', named ? args.slice(1) : args, OPTIONS);
  if (flags.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (named && flags.file !== undefined)
    throw usageError('bridge', 'give either NAME and flags, or -f FILE (whose connection line names it)');
  if (!named && flags.file === undefined)
    throw usageError('bridge', 'add needs NAME and --address/--topic, or -f FILE with a connection block');
  const fromFlags = named ? blockOf(args[0]!, flags) : undefined;
  const config = fromFlags ?? (await blockFrom(flags.file!));
  const source = fromFlags ? 'flags' : flags.file === '-' ? 'stdin' : flags.file!;
  const api = await HubApi.open('bridge', flags);
  try {
    const added = await api.post<{ bridge: BridgeStatus; file: string; warnings: string[] }>('/bridges', {
      config,
      source,
    });
    for (const w of added.warnings) process.stderr.write(`mothership bridge: warning: ${w}\n`);
    process.stdout.write(
      `Added bridge ${added.bridge.name}: ${added.bridge.state} (kept in ${added.file}).\n`,
    );
    return 0;
  } catch (err) {
    if (fromFlags && err instanceof HubProblem && err.code === ErrorCodes.CONFIG_INVALID_VALUE)
      throw new HubProblem(`${err.message}\n  the block the flags make:\n${numbered(fromFlags)}`, err.code);
    throw err;
  }
}
