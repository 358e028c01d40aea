/**
 * `mothership bridge list`: each bridge of a running hub (`mothership up`), from its GET /api/bridges.
 * Bridges are added, changed and removed in the config file, then `kill -HUP` (docs/bridge.md).
 */
import type { BridgeStatus } from '../../bridge/bridge.js';
import { intFlag, parseCommandArgs, usageError } from '../command-args.js';

const HELP = `Usage: mothership bridge list [-h HOST] [-p PORT] [-u USER -P PASSWORD] [--json]

The bridges of a running hub: state, remote, queue (messages, bytes, oldest), drops, last error.
Bridges are added, changed and removed in the config file, then 'kill -HUP' the hub.

Options:
  -h, --host HOST       the hub (default localhost)
  -p, --port PORT       its HTTP (WebSocket) listener (default 8080)
  -u, --username USER   log in (when the hub does not let this address read anonymously)
  -P, --pw PASSWORD     the user's password
      --json            the API's answer as JSON
      --help            this help
`;

const OPTIONS = {
  host: { type: 'string', short: 'h', default: 'localhost' },
  port: { type: 'string', short: 'p', default: '8080' },
  username: { type: 'string', short: 'u' },
  pw: { type: 'string', short: 'P' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** A failure talking to the hub: one line on stderr, exit 1. */
class HubProblem extends Error {}

async function request(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    throw new HubProblem(
      `no hub answers at ${url} (${cause?.code ?? (err as Error).message}); is 'mothership up' running there? -h and -p name its HTTP port`,
    );
  }
}

async function refused(res: Response): Promise<HubProblem> {
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  const why = body.error?.message ?? res.statusText;
  const hint = res.status === 401 ? ' (log in with -u and -P)' : '';
  return new HubProblem(`the hub refused: ${res.status} ${why}${hint}`);
}

async function fetchBridges(base: string, username?: string, password?: string): Promise<BridgeStatus[]> {
  const headers: Record<string, string> = {};
  if (username !== undefined) {
    const login = await request(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mothership': '1' },
      body: JSON.stringify({ username, password: password ?? '' }),
    });
    if (!login.ok) throw await refused(login);
    headers.cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  }
  const res = await request(`${base}/bridges`, { headers });
  if (!res.ok) throw await refused(res);
  return ((await res.json()) as { bridges: BridgeStatus[] }).bridges;
}

function age(since: number | undefined, now: number): string {
  if (since === undefined) return '-';
  const s = Math.max(0, Math.floor((now - since) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

/** One line per bridge, in columns. */
export function bridgeTable(bridges: BridgeStatus[], now: number): string {
  if (bridges.length === 0) return 'No bridges (a connection block in the config file adds one).\n';
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

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help') {
    process.stdout.write(HELP);
    return sub === undefined ? 1 : 0;
  }
  if (sub !== 'list') {
    throw usageError(
      'bridge',
      sub === 'add' || sub === 'remove'
        ? `bridges are ${sub === 'add' ? 'added' : 'removed'} in the config file, then 'kill -HUP' the hub`
        : `unknown command '${sub}' (only 'list')`,
    );
  }
  const flags = parseCommandArgs('bridge', rest, OPTIONS);
  if (flags.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = intFlag('bridge', '-p', flags.port, 1, 65535)!;
  const host = flags.host.includes(':') ? `[${flags.host}]` : flags.host;
  try {
    const bridges = await fetchBridges(`http://${host}:${port}/api`, flags.username, flags.pw);
    process.stdout.write(
      flags.json ? `${JSON.stringify(bridges, null, 2)}\n` : bridgeTable(bridges, Date.now()),
    );
    return 0;
  } catch (err) {
    if (!(err instanceof HubProblem)) throw err;
    process.stderr.write(`mothership bridge: ${err.message}\n`);
    return 1;
  }
}
