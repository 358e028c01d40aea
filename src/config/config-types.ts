/** What reading a mosquitto.conf-style file gives `mothership up`: typed, paths absolute, file:line kept. */
import type { BrokerOptions } from '../broker/options.js';

/** `allow_anonymous`: mosquitto's true/false, or Mothership's `lan` (this machine and the local network). */
export type AllowAnonymous = boolean | 'lan';

export interface TlsConfig {
  certfile: string;
  keyfile: string;
  cafile?: string;
  requireCertificate: boolean;
  useIdentityAsUsername: boolean;
}

export interface ListenerConfig {
  /** 0 picks a free port (a Mothership extension). */
  port: number;
  /** undefined: every interface. */
  bindAddress?: string;
  protocol: 'mqtt' | 'websockets';
  tls?: TlsConfig;
  /** Set only with `per_listener_settings true`: this listener's own security settings. */
  allowAnonymous?: AllowAnonymous;
  passwordFile?: string;
  aclFile?: string;
  /** `file:line` of its `listener` line, or `default listener`. */
  source: string;
}

/** The BrokerOptions a config file can set. */
export type BrokerSettings = Partial<
  Pick<
    BrokerOptions,
    | 'maxKeepalive'
    | 'maxPacketSize'
    | 'messageSizeLimit'
    | 'maxInflightMessages'
    | 'maxQueuedMessages'
    | 'queueQos0Messages'
    | 'retainAvailable'
    | 'persistentClientExpiration'
    | 'sysInterval'
    | 'allowZeroLengthClientId'
    | 'inflightWriteDelayMs'
    | 'queueWindow'
  >
>;

export type LogDestination =
  | { type: 'stdout' | 'stderr' | 'syslog' | 'topic' | 'dlt' | 'none' }
  | { type: 'file'; path: string };

export const logTypes = [
  'debug',
  'error',
  'warning',
  'notice',
  'information',
  'subscribe',
  'unsubscribe',
  'websockets',
  'none',
  'all',
] as const;
export type LogType = (typeof logTypes)[number];

export interface LoadedConfig {
  /** Every file read, in the order read (the config, then include_dir files). */
  files: string[];
  broker: BrokerSettings;
  /** At least one: with none configured, mosquitto's default listener on 1883. */
  listeners: ListenerConfig[];
  /** False when the file configured no listener and no `port`: `up` may apply its own defaults. */
  listenersConfigured: boolean;
  perListenerSettings: boolean;
  /** true, false, 'lan' (ours), or undefined: not set (see anonymousRule for what applies). */
  allowAnonymous: AllowAnonymous | undefined;
  passwordFile?: string;
  aclFile?: string;
  /** `check_subscribe_acl true|false` (ours): refuse SUBSCRIBE filters no ACL read rule can match. */
  checkSubscribeAcl: boolean;
  /** undefined: not set, Mothership's default applies. */
  persistence: boolean | undefined;
  persistenceLocation?: string;
  /** Seconds between saves of in-memory state (undefined: not set). */
  autosaveInterval: number | undefined;
  log: { dest: LogDestination[]; types: LogType[] };
  /** `mdns true|false`: Mothership's own key; undefined: not set (announce). */
  mdns: boolean | undefined;
  /** `persistence_durability every-message|grouped|periodic`: Mothership's own key; undefined: grouped. */
  durability: 'every-message' | 'grouped' | 'periodic' | undefined;
  /** `persistence_commit_delay <ms>`: how long a grouped commit gathers writes (default 2). */
  commitDelayMs: number | undefined;
  warnings: string[];
  /** Each feature's own settings (the hub's, a bridge's), filled by the directives it registered. */
  sections: Map<string, unknown>;
}
