/**
 * Who may use the hub's API, by MQTT's own rules: whoever may connect anonymously over MQTT from an
 * address (by default this machine and the LAN) may read anonymously from it, with the same ACL
 * deciding topics; everyone else logs in with the password file's users (slowed per address by the
 * same throttle as MQTT logins). A login gets an HttpOnly, SameSite=Strict session cookie. Requests
 * that change something must carry `X-Mothership: 1` (a header no cross-origin form can send
 * without a CORS preflight, which this server never grants) and, when the browser sends an Origin,
 * come from this host.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AccessAction, Authenticator, Authorizer, ClientIdentity } from '../../broker/auth.js';

export const SESSION_COOKIE = 'mothership_session';
export const CSRF_HEADER = 'x-mothership';
/** Topic whose publish right grants the hub's administrative actions (disconnecting a client). */
export const ADMIN_TOPIC = '$hub/admin';

const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
const MAX_SESSIONS = 10_000;

export interface HttpIdentity extends ClientIdentity {
  /** Logged in with a password (false: anonymous by the network rule). */
  loggedIn: boolean;
}

function plainAddress(address: string | undefined): string {
  return address?.startsWith('::ffff:') ? address.slice(7) : (address ?? '');
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class HttpAccess {
  private readonly sessions = new Map<string, { username: string; expiresAt: number }>();

  constructor(
    private readonly access: Authenticator & Authorizer,
    /** The listener name HTTP requests count as (its per-listener rules apply), e.g. `ws:8080`. */
    private readonly listener: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The requester, or undefined when they must log in. */
  async identify(req: IncomingMessage): Promise<HttpIdentity | undefined> {
    const token = cookie(req, SESSION_COOKIE);
    const session = token ? this.sessions.get(token) : undefined;
    if (session && session.expiresAt > this.now())
      return { clientId: '$hub-http', username: session.username, listener: this.listener(), loggedIn: true };
    const anonymous = await this.access.authenticate({
      clientId: '$hub-http',
      username: undefined,
      password: undefined,
      remoteAddress: plainAddress(req.socket.remoteAddress),
      listener: this.listener(),
    });
    return anonymous.ok
      ? { clientId: '$hub-http', username: undefined, listener: this.listener(), loggedIn: false }
      : undefined;
  }

  /** Checks a password as an MQTT CONNECT would; returns the session token to set as cookie. */
  async login(req: IncomingMessage, username: string, password: string): Promise<string | undefined> {
    const result = await this.access.authenticate({
      clientId: '$hub-http',
      username,
      password: Buffer.from(password, 'utf8'),
      remoteAddress: plainAddress(req.socket.remoteAddress),
      listener: this.listener(),
    });
    if (!result.ok) return undefined;
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const token = randomBytes(24).toString('base64url');
    this.sessions.set(token, {
      username: result.username ?? username,
      expiresAt: this.now() + SESSION_TTL_MS,
    });
    return token;
  }

  logout(req: IncomingMessage): void {
    const token = cookie(req, SESSION_COOKIE);
    if (token) this.sessions.delete(token);
  }

  allows(who: HttpIdentity, action: AccessAction, topic: string): boolean {
    return this.access.allows(who, action, topic);
  }

  /** Why a state-changing request is refused as cross-site, or undefined when it is acceptable. */
  crossSiteProblem(req: IncomingMessage): string | undefined {
    if (req.headers[CSRF_HEADER] !== '1') return `the request needs the header 'X-Mothership: 1'`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host: string;
      try {
        host = new URL(origin).host;
      } catch {
        return `bad Origin '${origin}'`;
      }
      if (host !== req.headers.host) return `cross-origin request from ${origin} refused`;
    } else if (origin === 'null') return 'cross-origin request refused';
    return undefined;
  }

  static sessionCookie(token: string, secure: boolean): string {
    return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
  }
}
