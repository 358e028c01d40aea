/**
 * The broker's access control from config: password file, ACL file and anonymous policy in one
 * object that is both the Authenticator (CONNECT) and the Authorizer (PUBLISH, SUBSCRIBE, delivery),
 * and that re-reads its files on reload() (SIGHUP).
 */
import type {
  AccessAction,
  Authenticator,
  Authorizer,
  AuthResult,
  ClientIdentity,
  ConnectAttempt,
} from '../auth.js';
import { type AclFile, readAclFile } from './acl-file.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { type AnonymousPolicy, anonymousAllowed, anonymousPolicy } from './network-policy.js';
import { formatPasswordHash, type PasswordFile, readPasswordFile } from './password-file.js';

export interface AccessControlOptions {
  /** `allow_anonymous`: true, false, or 'lan' / undefined for this machine and the local network. */
  allowAnonymous?: boolean | 'lan' | undefined;
  /** `password_file`, an absolute path (loadConfig resolves them). */
  passwordFile?: string | undefined;
  /** `acl_file`; without one every authenticated client may do everything (as in mosquitto). */
  aclFile?: string | undefined;
  /** `check_subscribe_acl` (ours): refuse a SUBSCRIBE filter no read rule of the ACL could ever match. */
  checkSubscribeAcl?: boolean | undefined;
  throttle?: LoginThrottleOptions;
}

export interface ReloadSummary {
  usersAdded: string[];
  usersRemoved: string[];
  /** Users whose password hash changed. */
  passwordsChanged: string[];
  /** ACL rules before and after (undefined: no ACL file). */
  aclRules: { before: number | undefined; after: number | undefined };
}

export interface AccessControl extends Authenticator, Authorizer {
  authenticate(attempt: ConnectAttempt): Promise<AuthResult>;
  allows(client: ClientIdentity, action: AccessAction, topic: string): boolean;
  /** Re-reads the password and ACL files; on an error the old ones stay in force and it throws. */
  reload(): Promise<ReloadSummary>;
  readonly policy: AnonymousPolicy;
}

export async function createAuthenticator(options: AccessControlOptions): Promise<AccessControl> {
  const policy = anonymousPolicy(options.allowAnonymous);
  const throttle = new LoginThrottle(options.throttle);
  const load = async (): Promise<{ passwords?: PasswordFile; acl?: AclFile }> => ({
    ...(options.passwordFile ? { passwords: await readPasswordFile(options.passwordFile) } : {}),
    ...(options.aclFile ? { acl: await readAclFile(options.aclFile) } : {}),
  });
  let current = await load();

  const check = async (attempt: ConnectAttempt): Promise<AuthResult> => {
    // use_identity_as_username: the TLS layer verified the client certificate; its CN is who this is.
    if (attempt.certificateIdentity !== undefined) return { ok: true, username: attempt.certificateIdentity };
    const { passwords } = current;
    // As mosquitto 2: a username without a password file to check it against is not verified,
    // and the client is let in or not as an anonymous one would be.
    if (attempt.username !== undefined && passwords) {
      const ok =
        attempt.password !== undefined && (await passwords.verify(attempt.username, attempt.password));
      if (!ok) {
        throttle.failed(attempt.remoteAddress);
        return { ok: false, reason: 'bad-credentials' };
      }
      throttle.succeeded(attempt.remoteAddress);
      return { ok: true, username: attempt.username };
    }
    if (!anonymousAllowed(policy, attempt.remoteAddress)) return { ok: false, reason: 'not-authorized' };
    return attempt.username === undefined ? { ok: true } : { ok: true, username: attempt.username };
  };

  return {
    policy,
    authenticate: (attempt) => throttle.turn(attempt.remoteAddress, () => check(attempt)),
    allows: (client, action, topic) => {
      const { acl } = current;
      if (!acl) return true;
      if (action === 'subscribe' && options.checkSubscribeAcl) return acl.mayEverRead(client, topic);
      return acl.allows(client, action, topic);
    },
    async reload() {
      const next = await load();
      const before = current;
      current = next;
      const oldUsers = new Map(
        (before.passwords?.usernames() ?? []).map((u) => [u, hashText(before.passwords, u)]),
      );
      const newUsers = next.passwords?.usernames() ?? [];
      return {
        usersAdded: newUsers.filter((u) => !oldUsers.has(u)),
        usersRemoved: [...oldUsers.keys()].filter((u) => !next.passwords?.has(u)),
        passwordsChanged: newUsers.filter(
          (u) => oldUsers.has(u) && oldUsers.get(u) !== hashText(next.passwords, u),
        ),
        aclRules: { before: before.acl?.ruleCount, after: next.acl?.ruleCount },
      };
    },
  };
}

function hashText(pf: PasswordFile | undefined, username: string): string | undefined {
  const h = pf?.get(username);
  return h ? formatPasswordHash(h) : undefined;
}

/** One line for the log, e.g. `password file: +2 users, -1 (bob), 1 password changed; acl: 12 rules (was 10)`. */
export function describeReload(s: ReloadSummary): string {
  const parts: string[] = [];
  const names = (list: string[]) => (list.length ? ` (${list.join(', ')})` : '');
  parts.push(
    `users: +${s.usersAdded.length}${names(s.usersAdded)}, -${s.usersRemoved.length}${names(s.usersRemoved)}, ${s.passwordsChanged.length} password(s) changed`,
  );
  if (s.aclRules.after !== undefined || s.aclRules.before !== undefined)
    parts.push(`acl: ${s.aclRules.after ?? 'none'} rules (was ${s.aclRules.before ?? 'none'})`);
  return parts.join('; ');
}
