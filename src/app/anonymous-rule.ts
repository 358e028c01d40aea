/**
 * Which anonymous rule `mothership up` applies, and why, for the authenticator and the banner.
 * The LAN rule (this machine and the local network) is the default when nothing about security is
 * configured: no config, or a config (like seed 000/001's `listener 1883 192.168.0.6`) that sets no
 * password file, no ACL file and no allow_anonymous, so the seeds' boards connect as they did with the
 * mosquitto they were written for. A config that sets a password or ACL file without allow_anonymous
 * gets mosquitto 2's default (false): a drop-in mosquitto.conf that asks for logins is never looser
 * under Mothership than under mosquitto 2.
 */
import type { AnonymousPolicy } from '../broker/auth/network-policy.js';
import type { AllowAnonymous, ListenerConfig, LoadedConfig } from '../config/mosquitto-conf.js';

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
      'lan',
      'the config sets no allow_anonymous, password_file or acl_file; mosquitto 2 would refuse anonymous clients: set allow_anonymous false for that',
    );
  return rule('lan', 'the config sets no listener and no allow_anonymous');
}
