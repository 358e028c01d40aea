/**
 * mosquitto.conf, read the way mosquitto 2 reads it, into a typed config for `mothership up`.
 * One directive per line, `#` starts a comment line. `listener` opens a block that following
 * per-listener directives (protocol, certfile, ...) apply to; the same directives before any
 * `listener` configure mosquitto's implicit default listener. Paths are resolved against the
 * folder of the file they appear in. Values we cannot honour are errors naming file:line and the
 * accepted form; directives we do not know, or know but do not support yet, are warnings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { BrokerOptions } from '../../broker/options.js';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { readTextFile } from '../../read-file.js';
import { unsupportedDirectives } from './unsupported-directives.js';

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
}

interface Where {
  file: string;
  line: number;
}

function at(w: Where): string {
  return `${w.file}:${w.line}`;
}

function invalid(w: Where, name: string, form: string, got: string): MothershipError {
  return new MothershipError(
    ErrorCodes.CONFIG_INVALID_VALUE,
    `${at(w)}: ${name} must be ${form}, got '${got}'`,
  );
}

function integer(w: Where, name: string, value: string, min: number, max: number, form?: string): number {
  const n = /^-?[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw invalid(w, name, form ?? `an integer ${min}..${max}`, value);
  return n;
}

function boolean(w: Where, name: string, value: string, form = 'true or false'): boolean {
  // mosquitto takes 1/0 as well as true/false.
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalid(w, name, form, value);
}

const durationUnits: Record<string, number> = {
  h: 3600,
  d: 86_400,
  w: 7 * 86_400,
  m: 30 * 86_400,
  y: 365 * 86_400,
};

/** mosquitto's durations: a number and h, d, w, m (30 days) or y (365 days); in seconds. */
export function parseDuration(value: string): number | undefined {
  const m = /^([0-9]{1,9})([hdwmy])$/.exec(value);
  return m ? Number(m[1]) * durationUnits[m[2]!]! : undefined;
}

/** Directives that apply to the current listener block (or, before any, the default listener). */
type ListenerDraft = {
  port?: number;
  bindAddress?: string;
  protocol: 'mqtt' | 'websockets';
  certfile?: string;
  keyfile?: string;
  cafile?: string;
  requireCertificate?: boolean;
  useIdentityAsUsername?: boolean;
  allowAnonymous?: AllowAnonymous;
  passwordFile?: string;
  aclFile?: string;
  where: Where;
  /** A unix socket listener we do not support: parsed, then dropped. */
  skip?: boolean;
};

interface State {
  config: LoadedConfig;
  defaultListener: ListenerDraft;
  /** Something configured the default listener (port, bind_address, ...), so it starts. */
  defaultListenerUsed: boolean;
  listeners: ListenerDraft[];
  current: ListenerDraft | undefined;
  /** A security directive was seen (per_listener_settings must come before them). */
  securitySeen: boolean;
  depth: number;
}

const MAX_INCLUDE_DEPTH = 8;

function splitLine(raw: string): { name: string; args: string[]; rest: string } | undefined {
  const line = raw.replace(/\r$/, '').trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const name = line.split(/[ \t]+/, 1)[0]!;
  const rest = line.slice(name.length).trim();
  return { name, args: rest === '' ? [] : rest.split(/[ \t]+/), rest };
}

function parseInto(state: State, text: string, file: string): void {
  state.config.files.push(file);
  const folder = dirname(file);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const parsed = splitLine(lines[i]!);
    if (!parsed) continue;
    directive(state, { file, line: i + 1 }, folder, parsed);
  }
}

function directive(
  state: State,
  w: Where,
  folder: string,
  { name, args, rest }: { name: string; args: string[]; rest: string },
): void {
  const { config } = state;
  const target = (): ListenerDraft => {
    if (!state.current) {
      if (!state.defaultListenerUsed) state.defaultListener.where = w;
      state.defaultListenerUsed = true;
    }
    return state.current ?? state.defaultListener;
  };
  /** A single-word value. */
  const one = (form: string): string => {
    if (args.length !== 1) throw invalid(w, name, form, rest);
    return args[0]!;
  };
  /** A path: the rest of the line (it may hold spaces), resolved against the file's folder. */
  const path = (form = 'a file path'): string => {
    if (rest === '') throw invalid(w, name, form, rest);
    return resolve(folder, rest);
  };
  const int = (min: number, max: number, form?: string) =>
    integer(w, name, one(form ?? `an integer ${min}..${max}`), min, max, form);
  const bool = () => boolean(w, name, one('true or false'));
  const security = (apply: (l: ListenerDraft) => void, global: () => void) => {
    state.securitySeen = true;
    if (config.perListenerSettings) apply(state.current ?? state.defaultListener);
    else global();
  };

  switch (name) {
    case 'listener': {
      const form = 'a port 0..65535, optionally followed by a bind address';
      if (args.length < 1 || args.length > 2) throw invalid(w, name, form, rest);
      const port = integer(w, name, args[0]!, 0, 65535, form);
      const draft: ListenerDraft = { port, protocol: 'mqtt', where: w };
      if (args[1] !== undefined) draft.bindAddress = args[1];
      if (port === 0 && args[1]?.startsWith('/')) {
        draft.skip = true;
        config.warnings.push(`${at(w)}: unix socket listeners are not supported yet; listener ignored`);
      }
      state.listeners.push(draft);
      state.current = draft;
      return;
    }
    case 'port':
      config.warnings.push(`${at(w)}: 'port' is deprecated in mosquitto 2; prefer 'listener ${rest}'`);
      state.defaultListener.port = int(0, 65535, 'a port 0..65535');
      target();
      return;
    case 'bind_address':
      config.warnings.push(
        `${at(w)}: 'bind_address' is deprecated in mosquitto 2; prefer 'listener <port> ${rest}'`,
      );
      state.defaultListener.bindAddress = one('an IP address or host name');
      target();
      return;
    case 'protocol': {
      const v = one('mqtt or websockets');
      if (v !== 'mqtt' && v !== 'websockets') throw invalid(w, name, 'mqtt or websockets', v);
      target().protocol = v;
      return;
    }
    case 'certfile':
      target().certfile = path('a PEM certificate file path');
      return;
    case 'keyfile':
      target().keyfile = path('a PEM private key file path');
      return;
    case 'cafile':
      target().cafile = path('a PEM CA certificate file path');
      return;
    case 'require_certificate':
      target().requireCertificate = bool();
      return;
    case 'use_identity_as_username':
      target().useIdentityAsUsername = bool();
      return;
    case 'per_listener_settings': {
      const v = bool();
      // As mosquitto 2: otherwise earlier security settings would silently change meaning.
      if (v && state.securitySeen)
        throw new MothershipError(
          ErrorCodes.CONFIG_INVALID_VALUE,
          `${at(w)}: per_listener_settings must be set before any other security settings (allow_anonymous, password_file, acl_file)`,
        );
      config.perListenerSettings = v;
      return;
    }
    case 'allow_anonymous': {
      const form = 'true, false or lan (anonymous from this machine and the local network only)';
      const word = one(form);
      const v: AllowAnonymous = word === 'lan' ? 'lan' : boolean(w, name, word, form);
      security(
        (l) => (l.allowAnonymous = v),
        () => (config.allowAnonymous = v),
      );
      return;
    }
    case 'password_file': {
      const p = path();
      security(
        (l) => (l.passwordFile = p),
        () => (config.passwordFile = p),
      );
      return;
    }
    case 'acl_file': {
      const p = path();
      security(
        (l) => (l.aclFile = p),
        () => (config.aclFile = p),
      );
      return;
    }
    case 'check_subscribe_acl':
      config.checkSubscribeAcl = bool();
      return;
    case 'allow_zero_length_clientid':
      config.broker.allowZeroLengthClientId = bool();
      return;
    case 'max_keepalive':
      config.broker.maxKeepalive = int(0, 65535);
      return;
    case 'max_packet_size': {
      const form = 'an integer 20..268435455 (bytes), or 0 for no limit';
      const v = integer(w, name, one(form), 0, 268_435_455, form);
      if (v > 0 && v < 20) throw invalid(w, name, form, args[0]!);
      config.broker.maxPacketSize = v;
      return;
    }
    case 'message_size_limit':
      config.broker.messageSizeLimit = int(0, 268_435_455, 'an integer 0..268435455 (bytes, 0: no limit)');
      return;
    case 'max_inflight_messages':
      config.broker.maxInflightMessages = int(0, 65535);
      return;
    case 'max_queued_messages':
      config.broker.maxQueuedMessages = int(0, 2_147_483_647);
      return;
    case 'queue_qos0_messages':
      config.broker.queueQos0Messages = bool();
      return;
    case 'retain_available':
      config.broker.retainAvailable = bool();
      return;
    case 'persistent_client_expiration': {
      const form = 'a duration: a number followed by h, d, w, m or y (e.g. 2d, 1w)';
      const seconds = parseDuration(one(form));
      if (seconds === undefined) throw invalid(w, name, form, rest);
      config.broker.persistentClientExpiration = seconds;
      return;
    }
    case 'sys_interval':
      config.broker.sysInterval = int(0, 65535, 'an integer 0..65535 (seconds, 0: off)');
      return;
    case 'persistence':
      config.persistence = bool();
      return;
    case 'persistence_location':
      config.persistenceLocation = path('a folder path');
      return;
    case 'autosave_interval':
      config.autosaveInterval = int(0, 2_147_483_647, 'an integer number of seconds (0: only on exit)');
      return;
    case 'log_dest': {
      const form = 'stdout, stderr, syslog, topic, dlt, none or file <path>';
      const [kind, ...more] = args;
      if (kind === 'file') {
        const p = rest.slice('file'.length).trim();
        if (p === '') throw invalid(w, name, form, rest);
        config.log.dest.push({ type: 'file', path: resolve(folder, p) });
        return;
      }
      if (more.length > 0 || !['stdout', 'stderr', 'syslog', 'topic', 'dlt', 'none'].includes(kind ?? ''))
        throw invalid(w, name, form, rest);
      if (kind === 'syslog' || kind === 'topic' || kind === 'dlt')
        config.warnings.push(`${at(w)}: log_dest ${kind} is not supported yet; ignored`);
      config.log.dest.push({ type: kind as 'stdout' });
      return;
    }
    case 'log_type': {
      const v = one(logTypes.join(', '));
      if (!(logTypes as readonly string[]).includes(v))
        throw invalid(w, name, `one of ${logTypes.join(', ')}`, v);
      config.log.types.push(v as LogType);
      return;
    }
    case 'include_dir': {
      const dir = path('a folder path');
      if (state.depth >= MAX_INCLUDE_DEPTH)
        throw invalid(w, name, `nested at most ${MAX_INCLUDE_DEPTH} deep`, rest);
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => n.endsWith('.conf'));
      } catch (err) {
        throw new MothershipError(
          ErrorCodes.CONFIG_FILE_UNREADABLE,
          `${at(w)}: cannot read include_dir ${dir}`,
          {
            cause: err,
          },
        );
      }
      names.sort();
      for (const n of names) {
        const file = join(dir, n);
        state.depth++;
        try {
          parseInto(state, readText(file, w), file);
        } finally {
          state.depth--;
        }
      }
      return;
    }
    case 'mdns':
      config.mdns = bool();
      return;
    case 'persistence_durability': {
      const form = 'every-message, grouped or periodic';
      if (rest !== 'every-message' && rest !== 'grouped' && rest !== 'periodic')
        throw invalid(w, name, form, rest);
      config.durability = rest;
      return;
    }
    case 'persistence_commit_delay':
      config.commitDelayMs = int(0, 1000, 'an integer 0..1000 (milliseconds)');
      return;
    case 'persistence_inflight_write_delay':
      config.broker.inflightWriteDelayMs = int(0, 60_000, 'an integer 0..60000 (milliseconds)');
      return;
    case 'persistence_queue_window':
      config.broker.queueWindow = int(1, 1_000_000, 'an integer 1..1000000 (messages)');
      return;
    default:
      if (unsupportedDirectives.has(name) || name.startsWith('plugin_opt_') || name.startsWith('auth_opt_'))
        config.warnings.push(
          `${at(w)}: '${name}' is a mosquitto directive Mothership does not support yet; ignored`,
        );
      else config.warnings.push(`${at(w)}: unknown directive '${name}'; ignored`);
  }
}

function readText(file: string, from?: Where): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MothershipError(
      ErrorCodes.CONFIG_FILE_UNREADABLE,
      `${from ? `${at(from)}: ` : ''}cannot read config file ${file}: ${code === 'ENOENT' ? 'no such file' : code}`,
      { cause: err },
    );
  }
}

function finishListener(d: ListenerDraft, source: string, perListener: boolean): ListenerConfig {
  const l: ListenerConfig = { port: d.port ?? 1883, protocol: d.protocol, source };
  // Errors point at the listener line, or the first default-listener directive.
  const where =
    d.where.line > 0 ? `${at(d.where)}${source === 'default listener' ? ' (default listener)' : ''}` : source;
  if (d.bindAddress !== undefined) l.bindAddress = d.bindAddress;
  if (d.certfile !== undefined || d.keyfile !== undefined) {
    if (d.certfile === undefined || d.keyfile === undefined)
      throw new MothershipError(
        ErrorCodes.CONFIG_INVALID_VALUE,
        `${where}: certfile and keyfile must be given together for TLS (got only ${d.certfile ? 'certfile' : 'keyfile'})`,
      );
    l.tls = {
      certfile: d.certfile,
      keyfile: d.keyfile,
      requireCertificate: d.requireCertificate ?? false,
      useIdentityAsUsername: d.useIdentityAsUsername ?? false,
    };
    if (d.cafile !== undefined) l.tls.cafile = d.cafile;
    if (l.tls.requireCertificate && !d.cafile)
      throw new MothershipError(
        ErrorCodes.CONFIG_INVALID_VALUE,
        `${where}: require_certificate true needs a cafile to check client certificates against`,
      );
  } else if (d.requireCertificate || d.useIdentityAsUsername || d.cafile) {
    throw new MothershipError(
      ErrorCodes.CONFIG_INVALID_VALUE,
      `${where}: cafile, require_certificate and use_identity_as_username need TLS: add certfile and keyfile`,
    );
  }
  if (perListener) {
    if (d.allowAnonymous !== undefined) l.allowAnonymous = d.allowAnonymous;
    if (d.passwordFile !== undefined) l.passwordFile = d.passwordFile;
    if (d.aclFile !== undefined) l.aclFile = d.aclFile;
  }
  return l;
}

/** Parses mosquitto.conf text; `file` names it in messages and anchors relative paths. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const config: LoadedConfig = {
    files: [],
    broker: {},
    listeners: [],
    listenersConfigured: false,
    perListenerSettings: false,
    allowAnonymous: undefined,
    checkSubscribeAcl: false,
    persistence: undefined,
    autosaveInterval: undefined,
    log: { dest: [], types: [] },
    mdns: undefined,
    durability: undefined,
    commitDelayMs: undefined,
    warnings: [],
  };
  const state: State = {
    config,
    defaultListener: { protocol: 'mqtt', where: { file, line: 0 } },
    defaultListenerUsed: false,
    listeners: [],
    current: undefined,
    securitySeen: false,
    depth: 0,
  };
  parseInto(state, text, resolve(file));

  const perListener = config.perListenerSettings;
  // As mosquitto 2: the default listener starts when nothing else is configured, or when a
  // default-listener directive (port, bind_address, ...) asked for it.
  config.listenersConfigured = state.listeners.length > 0 || state.defaultListenerUsed;
  if (state.listeners.length === 0 || state.defaultListenerUsed)
    config.listeners.push(finishListener(state.defaultListener, 'default listener', perListener));
  for (const d of state.listeners) {
    const l = finishListener(d, at(d.where), perListener);
    if (!d.skip) config.listeners.push(l);
  }
  return config;
}

/** Reads and parses a config file (and its include_dir files). */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  const text = await readTextFile(path, 'config file', ErrorCodes.CONFIG_FILE_UNREADABLE);
  return parseConfig(text, path);
}
