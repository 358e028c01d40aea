/**
 * Which anonymous rule `mothership up` applies, and why, for the authenticator and the banner.
 * The LAN rule (this machine and the local network) is the zero-config default; a config that sets
 * up listeners or security files gets mosquitto 2's default instead (allow_anonymous false), so a
 * drop-in mosquitto.conf is never looser under Mothership than under mosquitto.
 */
import type { AnonymousPolicy } from '../broker/auth/network-policy.js';
import type { AllowAnonymous, ListenerConfig, LoadedConfig } from './config/mosquitto-conf.js';

export interface AnonymousRule {
  /** What the authenticator is given: true, false or 'lan'. */
  allowAnonymous: AllowAnonymous;
  policy: AnonymousPolicy;
  /** Why this rule is in force, for the banner. */
  why: string;
}

function rule(allowAnonymous: AllowAnonymous, why: string): AnonymousRule {
  const policy = allowAnonymous === 'lan' ? 'lan' : allowAnonymous ? 'everyone' : 'nobody';
  return { allowAnonymous, policy, why };
}

/** The broker-wide rule (per_listener_settings false), or a listener's own (true). */
export function anonymousRule(config: LoadedConfig | undefined, listener?: ListenerConfig): AnonymousRule {
  if (!config) return rule('lan', 'no config file');
  const set = listener ? listener.allowAnonymous : config.allowAnonymous;
  if (set !== undefined) return rule(set, `allow_anonymous ${set}`);
  const files = listener ? [listener.passwordFile, listener.aclFile] : [config.passwordFile, config.aclFile];
  const names = ['password_file', 'acl_file'].filter((_, i) => files[i] !== undefined);
  if (names.length > 0)
    return rule(
      false,
      `the config sets ${names.join(' and ')} but not allow_anonymous, so false as in mosquitto 2`,
    );
  if (config.listenersConfigured || config.perListenerSettings)
    return rule(
      false,
      "the config sets listeners but not allow_anonymous, so false as in mosquitto 2; 'allow_anonymous lan' lets the local network in",
    );
  return rule('lan', 'the config sets no listener and no allow_anonymous');
}
