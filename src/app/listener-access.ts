import { type AccessControl, createAuthenticator, describeReload } from '../broker/auth/authenticator.js';
import type {
  AccessAction,
  Authenticator,
  Authorizer,
  AuthResult,
  ClientIdentity,
  ConnectAttempt,
} from '../broker/auth.js';
import type { LoadedConfig } from '../config/mosquitto-conf.js';
import { type AnonymousRule, anonymousRule } from './anonymous-rule.js';

/**
 * Who gets in, for `mothership up`: one set of password/ACL files for the whole broker, or with
 * `per_listener_settings true` one set per listener, as mosquitto does. A client keeps the rules of
 * the listener it logged in through, also for the messages queued while it is offline.
 */
export interface BrokerAccess extends Authenticator, Authorizer {
  /** Tells which listener (by its transport name, e.g. `mqtt:1883`) is config listener i. */
  attachListeners(names: string[]): void;
  /** Re-reads every password and ACL file; one log line per set. */
  reload(): Promise<string[]>;
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
      allows: (c, action, topic) => global.allows(c, action, topic),
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
  return {
    anonymous: { policy: 'per-listener', perListener: rules },
    authenticate(attempt: ConnectAttempt): AuthResult | Promise<AuthResult> {
      return (byName.get(attempt.listener) ?? global).authenticate(attempt);
    },
    allows(client: ClientIdentity, action: AccessAction, topic: string): boolean {
      // The rules of the listener the client logged in through (kept with its session); a session
      // from before listeners were recorded, or from a listener no longer configured: the strictest.
      const access = client.listener === undefined ? undefined : byName.get(client.listener);
      return access ? access.allows(client, action, topic) : false;
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
