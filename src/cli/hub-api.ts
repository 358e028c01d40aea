/**
 * A running hub's HTTP API (docs/api.md) from the CLI: the same -h/-p/-u/-P for every command, a login
 * when -u is given (the session cookie), and POSTs with the header the hub wants of every request that
 * changes something (`X-Mothership: 1`). Failures are a HubProblem: one line on stderr, exit 1.
 */

import { intFlag } from './command-args.js';

/** The flags that name a hub and log in to it (parseArgs options), the same for every hub command. */
export const HUB_FLAGS = {
  host: { type: 'string', short: 'h', default: 'localhost' },
  port: { type: 'string', short: 'p', default: '8080' },
  username: { type: 'string', short: 'u' },
  pw: { type: 'string', short: 'P' },
  help: { type: 'boolean' },
} as const;

export const HUB_FLAGS_HELP = `  -h, --host HOST       the hub (default localhost)
  -p, --port PORT       its HTTP (WebSocket) listener (default 8080)
  -u, --username USER   log in (when the hub does not let this address in anonymously)
  -P, --pw PASSWORD     the user's password
      --help            this help`;

/** A failure talking to the hub, said in one line; `code` is the hub's error code when it answered. */
export class HubProblem extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class HubApi {
  private cookie: string | undefined;

  constructor(readonly base: string) {}

  /** `http://host:port/api`, with an IPv6 host in brackets. */
  static at(host: string, port: number): HubApi {
    return new HubApi(`http://${host.includes(':') ? `[${host}]` : host}:${port}/api`);
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const url = `${this.base}${path}`;
    try {
      return await fetch(url, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          ...(this.cookie ? { cookie: this.cookie } : {}),
        },
        redirect: 'error',
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
      throw new HubProblem(
        `no hub answers at ${url} (${cause?.code ?? (err as Error).message}); is 'mothership up' running there? -h and -p name its HTTP port`,
      );
    }
  }

  private async answer<T>(res: Response): Promise<T> {
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (res.ok) return body as T;
    const why = body.error?.message ?? res.statusText;
    const hint = res.status === 401 ? ' (log in with -u and -P)' : '';
    throw new HubProblem(`the hub refused: ${res.status} ${why}${hint}`, body.error?.code);
  }

  /** Logs in as a user of the hub's password file; later requests carry the session. */
  async login(username: string, password: string): Promise<void> {
    await this.post('/login', { username, password });
  }

  async get<T>(path: string): Promise<T> {
    return this.answer<T>(await this.request(path, { method: 'GET' }));
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const res = await this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mothership': '1' },
      body: JSON.stringify(body),
    });
    if (path === '/login' && res.ok) this.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
    return this.answer<T>(res);
  }

  /** The hub a command's -h/-p name, logged in when -u is given. */
  static async open(
    command: string,
    flags: { host: string; port: string; username?: string | undefined; pw?: string | undefined },
  ): Promise<HubApi> {
    const api = HubApi.at(flags.host, intFlag(command, '-p', flags.port, 1, 65535)!);
    if (flags.username !== undefined) await api.login(flags.username, flags.pw ?? '');
    return api;
  }
}
