import { type AccessControl, createAuthenticator, describeReload } from '../broker/auth/authenticator.js';
import type {
  AccessAction,
  Authenticator,
  Authorizer,
  AuthResult,
  ClientIdentity,
  ConnectAttempt,
} from '../broker/auth.js';
import { IN_PROCESS_LISTENER } from '../broker/in-process-client.js';
import type { LoadedConfig } from '../config/mosquitto-conf.js';
import { type AnonymousRule, anonymousRule } from './anonymous-rule.js';

/**
 * Who gets in, for `mothership up`: one set of password/ACL files for the whole broker, or with
 * `per_listener_settings true` one set per listener, as mosquitto does. A client keeps the rules of
 * the listener it logged in through, also for the messages queued while it is offline.
 *
 * A bridge's local side (an in-process client, no listener) is trusted as in mosquitto 2 (its ACL
 * check lets bridges through) unless the bridge has a `local_username`: then that user logs in with
 * `local_password` (bridgeLogin) and the ACL applies to it. Under `per_listener_settings` the files
 * of the first listener, in config order, that accepts that login apply.
 */
export interface BrokerAccess extends Authenticator, Authorizer {
  /** Tells which listener (by its transport name, e.g. `mqtt:1883`) is config listener i. */
  attachListeners(names: string[]): void;
  /** Re-reads every password and ACL file; one log line per set. */
  reload(): Promise<string[]>;
  /** A bridge's local_username/local_password checked as a CONNECT would be; why not, when refused. */
  bridgeLogin(username: string, password: string | undefined): Promise<string | undefined>;
  /** The anonymous rule for the banner (per-listener: one per config listener, in order). */
  readonly anonymous: AnonymousRule | { policy: 'per-listener'; perListener: AnonymousRule[] };
}

export async function createBrokerAccess(config: LoadedConfig | undefined): Promise<BrokerAccess> {
  const globalRule = anonymousRule(config);
  const global = await createAuthenticator({
    allowAnonymous: globalRule.allowAnonymous,
    passwordFile: config?.passwordFile,
    aclFile: config?.aclFile,
    checkSubscribeAcl: config?.checkSubscribeAcl,
  });
  if (!config?.perListenerSettings) {
    return {
      anonymous: globalRule,
      authenticate: (a) => global.authenticate(a),
      allows: (c, action, topic) => trustedBridge(c) || global.allows(c, action, topic),
      bridgeLogin: (username, password) => loginBridge(global, username, password),
      attachListeners: () => {},
      reload: async () => [describeReload(await global.reload())],
    };
  }
  const rules = config.listeners.map((l) => anonymousRule(config, l));
  const perListener = await Promise.all(
    config.listeners.map((l, i) =>
      createAuthenticator({
        allowAnonymous: rules[i]!.allowAnonymous,
        passwordFile: l.passwordFile,
        aclFile: l.aclFile,
        checkSubscribeAcl: config.checkSubscribeAcl,
      }),
    ),
  );
  const byName = new Map<string, AccessControl>();
  /** The listener rules each bridge local_username logged in with. */
  const bridgeUsers = new Map<string, AccessControl>();
  return {
    anonymous: { policy: 'per-listener', perListener: rules },
    authenticate(attempt: ConnectAttempt): AuthResult | Promise<AuthResult> {
      return (byName.get(attempt.listener) ?? global).authenticate(attempt);
    },
    allows(client: ClientIdentity, action: AccessAction, topic: string): boolean {
      if (trustedBridge(client)) return true;
      // The rules of the listener the client logged in through (kept with its session); a session
      // from before listeners were recorded, or from a listener no longer configured: the strictest.
      const access =
        client.listener === IN_PROCESS_LISTENER
          ? bridgeUsers.get(client.username!)
          : client.listener === undefined
            ? undefined
            : byName.get(client.listener);
      return access ? access.allows(client, action, topic) : false;
    },
    async bridgeLogin(username, password) {
      let why: string | undefined = `no listener accepts local_username '${username}'`;
      for (const access of perListener) {
        why = await loginBridge(access, username, password);
        if (why === undefined) {
          bridgeUsers.set(username, access);
          return undefined;
        }
      }
      return why;
    },
    attachListeners(names: string[]) {
      names.forEach((name, i) => {
        const access = perListener[i];
        if (access) byName.set(name, access);
      });
    },
    async reload() {
      const lines: string[] = [];
      for (const [i, access] of perListener.entries())
        lines.push(
          `${config.listeners[i]?.source ?? `listener ${i}`}: ${describeReload(await access.reload())}`,
        );
      return lines;
    },
  };
}

/** A bridge without local_username: its local side is trusted (mosquitto 2 lets bridges through). */
function trustedBridge(client: ClientIdentity): boolean {
  return client.listener === IN_PROCESS_LISTENER && client.username === undefined;
}

/** Why `access` refuses a bridge's local login, or undefined when it accepts it. */
async function loginBridge(
  access: AccessControl,
  username: string,
  password: string | undefined,
): Promise<string | undefined> {
  const result = await access.authenticate({
    clientId: '$bridge',
    username,
    password: password === undefined ? undefined : Buffer.from(password, 'utf8'),
    // Not an IP: failed bridge logins never slow down real clients' logins from an address.
    remoteAddress: IN_PROCESS_LISTENER,
    listener: IN_PROCESS_LISTENER,
  });
  if (result.ok) return undefined;
  if (result.reason === 'bad-credentials')
    return `this broker refused local_username '${username}': wrong local_password`;
  // An unverified user name is let in as an anonymous client would be; the bridge is on this machine.
  if (access.policy === 'lan') return undefined;
  return `this broker refused local_username '${username}': no password file lists it and anonymous logins are not allowed`;
}
