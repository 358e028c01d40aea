/** What `mothership pub`/`sub` were asked to do: mosquitto_pub/mosquitto_sub's options, parsed. */

export type ClientKind = 'pub' | 'sub';
export type PubMode = 'none' | 'message' | 'file' | 'stdin-file' | 'stdin-line' | 'null';
/** The packet a `-D command identifier value` property belongs to. */
export type PropertyCommand = 'connect' | 'publish' | 'subscribe' | 'unsubscribe' | 'disconnect' | 'will';
/** Properties in MQTT.js's shape (camelCase keys, userProperties as an object of string or string[]). */
export type Properties = Record<string, unknown>;

export interface ClientOptions {
  kind: ClientKind;
  host?: string;
  port?: number;
  /** --unix socket path */
  unixPath?: string;
  topic?: string;
  topics: string[];
  pubMode: PubMode;
  message?: Buffer;
  file?: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  id?: string;
  idPrefix?: string;
  username?: string;
  password?: string;
  keepalive: number;
  protocolVersion: 3 | 4 | 5;
  clean: boolean;
  /** -1 means not given; UINT32_MAX means never expire */
  sessionExpiry: number;
  debug: boolean;
  quiet: boolean;
  bindAddress?: string;
  noDelay: boolean;
  maxInflight: number;
  willTopic?: string;
  willPayload?: string;
  willQos: 0 | 1 | 2;
  willRetain: boolean;
  cafile?: string;
  capath?: string;
  cert?: string;
  key?: string;
  keyform?: string;
  ciphers?: string;
  tlsVersion?: string;
  tlsAlpn?: string;
  tlsUseOsCerts: boolean;
  insecure: boolean;
  properties: Record<PropertyCommand, Properties>;
  haveTopicAlias: boolean;
  repeatCount: number;
  repeatDelayMs: number;
  // sub only
  verbose: boolean;
  eol: boolean;
  msgCount: number;
  filterOuts: string[];
  unsubTopics: string[];
  noRetain: boolean;
  retainedOnly: boolean;
  removeRetained: boolean;
  retainAsPublished: boolean;
  exitAfterSub: boolean;
  timeoutSec: number;
  format?: string;
  pretty: boolean;
  /** per-10000 chance of printing a message (--random-filter) */
  randomFilter: number;
  /** Ours, not mosquitto's: one JSON object per line. */
  json: boolean;
}

/** libmosquitto's "never expires" session expiry interval, and the largest four-byte property value. */
export const UINT32_MAX = 4294967295;

/** The options before any flag is read: mosquitto's defaults. */
export function defaultOptions(kind: ClientKind): ClientOptions {
  return {
    kind,
    topics: [],
    pubMode: 'none',
    qos: 0,
    retain: false,
    keepalive: 60,
    protocolVersion: 4,
    clean: true,
    sessionExpiry: -1,
    debug: false,
    quiet: false,
    noDelay: false,
    maxInflight: 20,
    willQos: 0,
    willRetain: false,
    tlsUseOsCerts: false,
    insecure: false,
    properties: { connect: {}, publish: {}, subscribe: {}, unsubscribe: {}, disconnect: {}, will: {} },
    haveTopicAlias: false,
    repeatCount: 1,
    repeatDelayMs: 0,
    verbose: false,
    eol: true,
    msgCount: 0,
    filterOuts: [],
    unsubTopics: [],
    noRetain: false,
    retainedOnly: false,
    removeRetained: false,
    retainAsPublished: false,
    exitAfterSub: false,
    timeoutSec: 0,
    pretty: false,
    randomFilter: 10000,
    json: false,
  };
}
