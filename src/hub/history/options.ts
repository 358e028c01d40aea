import { ErrorCodes, MothershipError } from '../../errors.js';
import { topicFilterProblem } from '../../protocol/topic.js';
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from './payload-fields.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MIB = 1024 * 1024;

/** How long each tier keeps a series' data, in ms; `Infinity` keeps it for ever. */
export interface Retention {
  raw: number;
  minute: number;
  hour: number;
}

/** Retention for the topics a filter matches; tiers left out keep the default. */
export interface RetentionRule extends Partial<Retention> {
  /** An MQTT topic filter (`sensors/+/temp`, `lab/#`). */
  filter: string;
}

/**
 * What the history records and keeps. Every field is optional except `dir`; the defaults are what
 * `mothership up` gets with no configuration.
 */
export interface HistoryOptions {
  /** The data directory; the history lives in its own file there, never in the broker's database. */
  dir: string;
  /** Default `history.db`. */
  fileName?: string;
  /** Topic filters to record. Default `['#']` (which, by MQTT's rule, matches no `$` topic). */
  include?: string[];
  /** Topic filters never recorded, even when included. Default `['$SYS/#']`. */
  exclude?: string[];
  /** Default: raw samples 7 days, 1-minute rollups 30 days, hourly rollups for ever. */
  defaultRetention?: Partial<Retention>;
  /** Per-topic retention, first matching rule wins. Default none. */
  retention?: RetentionRule[];
  /** Size cap of the database file in bytes; the oldest data is pruned first. Default 1 GiB; 0 = none. */
  maxBytes?: number;
  /** Messages kept per topic in the message log. Default 100. */
  messagesPerTopic?: number;
  /** Payload bytes kept per topic in the message log (a larger payload is cut to this). Default 1 MiB. */
  messageBytesPerTopic?: number;
  /** Payloads over `maxBytes` are not parsed; `maxFields` per message (defaults 64 KiB, 64 fields, depth 16). */
  parse?: Partial<ParseLimits>;
  /** Distinct series recorded at most; fields of further new series are dropped and counted. Default 100,000. */
  maxSeries?: number;
  /** Messages waiting for the next commit at most; further ones are dropped and counted. Default 50,000. */
  maxPendingMessages?: number;
  /** Default 1000 ms: a kill -9 loses at most this much. */
  commitIntervalMs?: number;
  /** How often retention and the size cap run. Default 60,000 ms. */
  retentionIntervalMs?: number;
  /** The clock for retention and tier choice (tests inject one). Default `Date.now`. */
  now?: () => number;
  /** Called when a commit or the retention job fails; the history goes on (a batch is dropped). */
  onError?: (error: Error) => void;
}

export interface ResolvedHistoryOptions {
  dir: string;
  fileName: string;
  include: string[];
  exclude: string[];
  defaultRetention: Retention;
  retention: RetentionRule[];
  maxBytes: number;
  messagesPerTopic: number;
  messageBytesPerTopic: number;
  parse: ParseLimits;
  maxSeries: number;
  maxPendingMessages: number;
  commitIntervalMs: number;
  retentionIntervalMs: number;
  now: () => number;
  onError: (error: Error) => void;
}

export const DEFAULT_RETENTION: Retention = {
  raw: 7 * DAY,
  minute: 30 * DAY,
  hour: Number.POSITIVE_INFINITY,
};

/** Fills in the defaults and checks every filter and number; throws CONFIG_INVALID_VALUE naming the option. */
export function resolveHistoryOptions(options: HistoryOptions): ResolvedHistoryOptions {
  const resolved: ResolvedHistoryOptions = {
    dir: options.dir,
    fileName: options.fileName ?? 'history.db',
    include: options.include ?? ['#'],
    exclude: options.exclude ?? ['$SYS/#'],
    defaultRetention: { ...DEFAULT_RETENTION, ...options.defaultRetention },
    retention: options.retention ?? [],
    maxBytes: options.maxBytes ?? 1024 * MIB,
    messagesPerTopic: options.messagesPerTopic ?? 100,
    messageBytesPerTopic: options.messageBytesPerTopic ?? MIB,
    parse: { ...DEFAULT_PARSE_LIMITS, ...options.parse },
    maxSeries: options.maxSeries ?? 100_000,
    maxPendingMessages: options.maxPendingMessages ?? 50_000,
    commitIntervalMs: options.commitIntervalMs ?? 1000,
    retentionIntervalMs: options.retentionIntervalMs ?? MINUTE,
    now: options.now ?? Date.now,
    onError: options.onError ?? (() => {}),
  };
  for (const [name, filters] of [
    ['include', resolved.include],
    ['exclude', resolved.exclude],
    ['retention', resolved.retention.map((r) => r.filter)],
  ] as const) {
    for (const filter of filters) {
      const problem = topicFilterProblem(filter);
      if (problem)
        invalid(`history ${name} filter "${filter}" is not a valid MQTT topic filter (${problem})`);
    }
  }
  for (const rule of [{ filter: 'default', ...resolved.defaultRetention }, ...resolved.retention]) {
    for (const tier of ['raw', 'minute', 'hour'] as const) {
      const ms = rule[tier];
      if (ms !== undefined && !(ms >= 0))
        invalid(`history retention of ${tier} for "${rule.filter}" must be a duration >= 0 ms, got ${ms}`);
    }
  }
  for (const name of [
    'maxBytes',
    'messagesPerTopic',
    'messageBytesPerTopic',
    'maxSeries',
    'maxPendingMessages',
    'commitIntervalMs',
    'retentionIntervalMs',
  ] as const) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value < 0)
      invalid(`history ${name} must be an integer >= 0, got ${value}`);
  }
  return resolved;
}

function invalid(message: string): never {
  throw new MothershipError(ErrorCodes.CONFIG_INVALID_VALUE, message);
}
