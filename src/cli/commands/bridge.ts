/**
 * `mothership bridge list|add|remove`: a running hub's bridges (`mothership up`), through its API.
 * list shows each bridge (GET /api/bridges); add and remove change them without a restart
 * (bridge-add.ts, bridge-remove.ts). Bridges of the config file change in that file, then `kill -HUP`.
 */
import type { BridgeStatus } from '../../bridge/bridge.js';
import { parseCommandArgs, usageError } from '../command-args.js';
import { HUB_FLAGS, HUB_FLAGS_HELP, HubApi, HubProblem } from '../hub-api.js';

const HELP = `Usage: mothership bridge list [-h HOST] [-p PORT] [-u USER -P PASSWORD] [--json]
       mothership bridge add NAME --address HOST:PORT --topic 'PATTERN [in|out|both] [QOS] ...' [...]
       mothership bridge add -f FILE        (a mosquitto connection block; -f - reads stdin)
       mothership bridge remove NAME [--force]

list: the bridges of a running hub: state, remote, queue (messages, bytes, oldest), drops, last error.
add, remove: change them at once, without a restart (see 'mothership bridge add --help').
Bridges of the config file are changed in that file, then 'kill -HUP' the hub.

Options:
${HUB_FLAGS_HELP}
      --json            the API's answer as JSON
`;

const OPTIONS = { ...HUB_FLAGS, json: { type: 'boolean' } } as const;

function age(since: number | undefined, now: number): string {
  if (since === undefined) return '-';
  const s = Math.max(0, Math.floor((now - since) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

/** One line per bridge, in columns. */
export function bridgeTable(bridges: BridgeStatus[], now: number): string {
  if (bridges.length === 0)
    return "No bridges (a connection block in the config file, or 'mothership bridge add', adds one).\n";
  const rows = [
    ['NAME', 'STATE', 'REMOTE', 'QUEUED', 'BYTES', 'OLDEST', 'DROPPED', 'LAST ERROR'],
    ...bridges.map((b) => [
      b.name,
      b.state,
      b.remoteAddress ?? '-',
      String(b.queued),
      String(b.queuedBytes),
      age(b.oldestQueuedAt, now),
      String(b.dropped),
      b.lastError ?? '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') +
    '\n'
  );
}

async function list(args: string[]): Promise<number> {
  const flags = parseCommandArgs('bridge', args, OPTIONS);
  if (flags.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const api = await HubApi.open('bridge', flags);
  const { bridges } = await api.get<{ bridges: BridgeStatus[] }>('/bridges');
  process.stdout.write(
    flags.json ? `${JSON.stringify(bridges, null, 2)}\n` : bridgeTable(bridges, Date.now()),
  );
  return 0;
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  list,
  add: async (args) => (await import('./bridge-add.js')).add(args),
  remove: async (args) => (await import('./bridge-remove.js')).remove(args),
};

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help') {
    process.stdout.write(HELP);
    return sub === undefined ? 1 : 0;
  }
  const command = SUBCOMMANDS[sub];
  if (!command) throw usageError('bridge', `unknown command '${sub}' (list, add or remove)`);
  try {
    return await command(rest);
  } catch (err) {
    if (!(err instanceof HubProblem)) throw err;
    process.stderr.write(`mothership bridge: ${err.message}\n`);
    return 1;
  }
}
