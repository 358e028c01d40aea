export type { RollupTier, Tier } from './history-db.js';
export type { ExportFormat, ExportOptions } from './history-export.js';
export { csvField } from './history-export.js';
export type { LoggedMessage } from './message-log.js';
export {
  DEFAULT_RETENTION,
  type HistoryOptions,
  type ResolvedHistoryOptions,
  type Retention,
  type RetentionRule,
  resolveHistoryOptions,
} from './options.js';
export {
  DEFAULT_PARSE_LIMITS,
  type FieldPath,
  type ParseLimits,
  type PayloadField,
  pathPointer,
  payloadFields,
} from './payload-fields.js';
export { type ExportSelection, HistoryRecorder, type HistoryStats, type PublishSource } from './recorder.js';
export type { RetentionResult } from './retention.js';
export type { SeriesInfo, SeriesKey, SeriesPoint, SeriesQuery, SeriesResult } from './series-query.js';
