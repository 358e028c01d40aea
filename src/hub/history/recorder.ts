import type Database from 'better-sqlite3';
import type { Message } from '../../broker/types.js';
import { topicMatches } from '../../protocol/topic.js';
import { BatchWriter, type PendingMessage } from './batch-writer.js';
import { openHistoryDb, usedBytes } from './history-db.js';
import { type ExportOptions, exportRows } from './history-export.js';
import { type LoggedMessage, loggedMessages } from './message-log.js';
import { type HistoryOptions, type ResolvedHistoryOptions, resolveHistoryOptions } from './options.js';
import { type FieldPath, payloadFields } from './payload-fields.js';
import { type RetentionResult, RetentionSweeper } from './retention.js';
import {
  findSeries,
  listSeries,
  querySeries,
  type SeriesInfo,
  type SeriesKey,
  type SeriesQuery,
  type SeriesResult,
} from './series-query.js';

/** What the recorder needs from the broker: its `publish` event (BrokerEvents['publish']). */
export interface PublishSource {
  on(event: 'publish', listener: (message: Message, clientId: string | undefined) => void): unknown;
  off(event: 'publish', listener: (message: Message, clientId: string | undefined) => void): unknown;
}

export interface HistoryStats {
  /** Messages accepted by record() (after the include/exclude filters). */
  recorded: number;
  /** Messages dropped because `maxPendingMessages` were waiting for the disk. */
  droppedMessages: number;
  /** Fields dropped because `maxSeries` series exist. */
  droppedSeries: number;
  /** Messages lost with a batch whose commit failed. */
  failedMessages: number;
  samples: number;
  commits: number;
  pending: number;
  /** Bytes the database's live pages take. */
  bytes: number;
}

/** Which rows to export: one series (`path` given) or every series of a topic. */
export interface ExportSelection {
  topic: string;
  path?: FieldPath;
}

/**
 * Records every accepted message into the history database: its numeric fields as series (raw, 1-minute
 * and 1-hour tiers) and the message itself into a per-topic log. record() runs on the broker's publish
 * path, so it only filters, parses and appends to an in-memory batch; a timer commits the batch once a
 * second and runs retention in small slices.
 */
export class HistoryRecorder {
  readonly file: string;
  /** Set when a damaged history.db was moved aside at open: where it went. */
  readonly movedAside: string | undefined;
  private readonly options: ResolvedHistoryOptions;
  private readonly db: Database.Database;
  private readonly writer: BatchWriter;
  private readonly retention: RetentionSweeper;
  private pending: PendingMessage[] = [];
  private readonly wanted = new Map<string, boolean>();
  private readonly timer: NodeJS.Timeout;
  private source: PublishSource | undefined;
  private closed = false;
  private readonly counters = {
    recorded: 0,
    droppedMessages: 0,
    droppedSeries: 0,
    failedMessages: 0,
    samples: 0,
    commits: 0,
  };
  private readonly onPublish = (message: Message, clientId: string | undefined) =>
    this.record(message, clientId);

  constructor(options: HistoryOptions) {
    this.options = resolveHistoryOptions(options);
    const opened = openHistoryDb(this.options.dir, this.options.fileName);
    this.db = opened.db;
    this.file = opened.file;
    this.movedAside = opened.movedAside;
    this.writer = new BatchWriter(this.db, this.options);
    this.retention = new RetentionSweeper(this.db, this.options);
    this.timer = setInterval(() => this.tick(), this.options.commitIntervalMs);
    this.timer.unref();
  }

  /** Starts recording what `source` publishes (one source at a time). */
  attach(source: PublishSource): void {
    this.detach();
    this.source = source;
    source.on('publish', this.onPublish);
  }

  detach(): void {
    this.source?.off('publish', this.onPublish);
    this.source = undefined;
  }

  /** Parses and queues one message; never touches the disk. */
  record(message: Message, clientId?: string): void {
    if (this.closed || !this.wants(message.topic)) return;
    if (this.pending.length >= this.options.maxPendingMessages) {
      this.counters.droppedMessages++;
      return;
    }
    this.counters.recorded++;
    this.pending.push({
      topic: message.topic,
      t: message.receivedAt,
      qos: message.qos,
      retain: message.retain,
      properties: message.properties,
      clientId,
      payload: message.payload,
      fields: payloadFields(message.payload, this.options.parse),
    });
  }

  /** Commits what is pending now (queries call it, so they see every message recorded before them). */
  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    try {
      const counts = this.writer.write(batch);
      this.counters.samples += counts.samples;
      this.counters.droppedSeries += counts.droppedSeries;
      this.counters.commits++;
    } catch (err) {
      // History is best effort: a batch the disk refuses is counted and reported, not retried for ever.
      this.counters.failedMessages += batch.length;
      this.options.onError(err as Error);
    }
  }

  /** Runs a whole retention and size-cap sweep now (normally done in slices by the timer). */
  runRetention(): RetentionResult {
    this.flush();
    const result = this.retention.sweep(this.options.now());
    if (result.deletedMessages > 0) this.writer.forget();
    return result;
  }

  stats(): HistoryStats {
    return { ...this.counters, pending: this.pending.length, bytes: this.closed ? 0 : usedBytes(this.db) };
  }

  /** Every series, or those whose topic matches an MQTT filter. */
  listSeries(filter?: string): SeriesInfo[] {
    this.flush();
    return listSeries(this.db, filter);
  }

  /** One series over [from, to], at most 2 × width points; undefined when the series does not exist. */
  query(key: SeriesKey, query: SeriesQuery): SeriesResult | undefined {
    this.flush();
    const series = findSeries(this.db, key);
    if (!series) return undefined;
    return querySeries(this.db, series, query, this.retention.retentionOf(series.topic), this.options.now());
  }

  /** The latest logged messages of a topic, newest first (at most `messagesPerTopic` are kept). */
  messages(topic: string, limit = this.options.messagesPerTopic): LoggedMessage[] {
    this.flush();
    return loggedMessages(this.db, topic, limit);
  }

  /**
   * A series, or every series of a topic, as CSV or NDJSON text chunks, streamed from a read-only
   * connection (`Readable.from(recorder.export(...))` makes a stream of it).
   */
  export(selection: ExportSelection, options: ExportOptions): AsyncGenerator<string> {
    this.flush();
    const series =
      selection.path === undefined
        ? listSeries(this.db).filter((s) => s.topic === selection.topic)
        : [findSeries(this.db, { topic: selection.topic, path: selection.path })].filter(
            (s): s is SeriesInfo => s !== undefined,
          );
    return exportRows(this.file, series, options);
  }

  /** Detaches, commits what is pending and closes the database. */
  close(): void {
    if (this.closed) return;
    this.detach();
    clearInterval(this.timer);
    this.flush();
    this.closed = true;
    this.db.close();
  }

  private tick(): void {
    this.flush();
    try {
      const result = this.retention.tick(this.options.now());
      if (result.deletedMessages > 0) this.writer.forget();
    } catch (err) {
      this.options.onError(err as Error);
    }
  }

  private wants(topic: string): boolean {
    let yes = this.wanted.get(topic);
    if (yes === undefined) {
      yes =
        this.options.include.some((f) => topicMatches(f, topic)) &&
        !this.options.exclude.some((f) => topicMatches(f, topic));
      if (this.wanted.size >= 10_000) this.wanted.clear();
      this.wanted.set(topic, yes);
    }
    return yes;
  }
}
