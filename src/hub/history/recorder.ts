import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Message } from '../../broker/types.js';
import { topicMatches } from '../../protocol/topic.js';
import { type LoggedDisconnect, loggedDisconnects } from './disconnect-log.js';
import { openHistoryDb, openHistoryReader, usedBytes } from './history-db.js';
import { type ExportOptions, exportRows } from './history-export.js';
import type { FromWriter, WriterCounts, WriterOp } from './history-writer.js';
import { BatchPacker } from './message-batch.js';
import { type LoggedMessage, loggedMessages } from './message-log.js';
import { type HistoryOptions, type ResolvedHistoryOptions, resolveHistoryOptions } from './options.js';
import type { FieldPath } from './payload-fields.js';
import { type RetentionResult, RetentionRules } from './retention.js';
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

/** Packed messages are handed to the worker when this many bytes wait, and at every commit. */
const HANDOVER_BYTES = 256 * 1024;

/**
 * The worker's script: the compiled one beside this module, or from the TypeScript sources through
 * tsx (tests, `node --import tsx`). A bundle (the benchmark's) puts history-worker.js beside itself.
 */
function workerScript(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './history-worker-tsx.mjs' : './history-worker.js', import.meta.url);
}

/**
 * Records every accepted message into the history database: its numeric fields as series (raw, 1-minute
 * and 1-hour tiers) and the message itself into a per-topic log. record() runs on the broker's publish
 * path, so it only filters and packs the message into a buffer; parsing, the batched commit once a
 * second and retention run in a worker thread that owns the writing connection. Queries read on this
 * thread through a read-only connection (WAL: they never wait for the writer), after asking the worker
 * to commit what was recorded before them.
 */
export class HistoryRecorder {
  readonly file: string;
  /** Set when a damaged history.db was moved aside at open: where it went. */
  readonly movedAside: string | undefined;
  private readonly options: ResolvedHistoryOptions;
  private readonly db: Database.Database;
  private readonly rules: RetentionRules;
  private readonly packer: BatchPacker;
  private readonly worker: Worker;
  private readonly wanted = new Map<string, boolean>();
  /**
   * Set when the filters are the default's shape: `#` included and only `$…` filters excluded. `#`
   * matches no topic starting with `$`, so the answer is the topic's first letter, with no lookup.
   */
  private readonly allButDollar: boolean;
  private readonly timer: NodeJS.Timeout;
  private source: PublishSource | undefined;
  /** Set by close(): nothing more is recorded. */
  private stopping = false;
  private closing: Promise<void> | undefined;
  /** The worker died: what it had not committed, and all that comes after, is lost and counted. */
  private dead = false;
  private readonly counters = { recorded: 0, droppedMessages: 0, lostMessages: 0 };
  private written: WriterCounts = {
    processed: 0,
    samples: 0,
    commits: 0,
    droppedSeries: 0,
    failedMessages: 0,
  };
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (result: RetentionResult | undefined) => void; awaited: boolean }
  >();
  /** Requests someone awaits (not the timer's ticks): the worker is referenced while there are any. */
  private awaited = 0;
  private readonly onPublish = (message: Message, clientId: string | undefined) =>
    this.record(message, clientId);

  constructor(options: HistoryOptions) {
    this.options = resolveHistoryOptions(options);
    // Made, checked (or moved aside) here, so that a history that cannot open says so at once.
    const opened = openHistoryDb(this.options.dir, this.options.fileName);
    this.file = opened.file;
    this.movedAside = opened.movedAside;
    this.db = openHistoryReader(this.file);
    opened.db.close();
    this.rules = new RetentionRules(this.options);
    const { include, exclude } = this.options;
    this.allButDollar = include.length === 1 && include[0] === '#' && exclude.every((f) => f.startsWith('$'));
    const { parse, messagesPerTopic, messageBytesPerTopic } = this.options;
    // The writer parses a payload whole when it is small enough, and logs at most the topic's cap of it.
    this.packer = new BatchPacker((size) =>
      Math.max(size <= parse.maxBytes ? size : 0, messagesPerTopic === 0 ? 0 : messageBytesPerTopic),
    );
    const { now: _, onError: __, ...threadOptions } = this.options;
    this.worker = new Worker(workerScript(), { workerData: { file: this.file, options: threadOptions } });
    this.worker.unref(); // referenced only while a request waits for it
    this.worker.on('message', (m: FromWriter) => this.onWriter(m));
    this.worker.on('error', (err) => this.onWorkerGone(err));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.onWorkerGone(new Error(`the history writer thread exited (${code})`));
    });
    this.timer = setInterval(() => void this.request('tick'), this.options.commitIntervalMs);
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

  /** Queues one message for the worker; never parses, never touches the disk. */
  record(message: Message, clientId?: string): void {
    if (this.stopping || !this.wants(message.topic)) return;
    if (this.dead) {
      this.counters.lostMessages++;
      return;
    }
    if (this.counters.recorded - this.written.processed >= this.options.maxPendingMessages) {
      this.counters.droppedMessages++;
      return;
    }
    this.counters.recorded++;
    this.packer.append(message, clientId);
    if (this.packer.bytes >= HANDOVER_BYTES) this.handOver();
  }

  /** Commits what is pending now; resolves once it is on disk (queries call it first). */
  async flush(): Promise<void> {
    await this.request('commit');
  }

  /** Runs a whole retention and size-cap sweep now (normally done in slices after each timed commit). */
  async runRetention(): Promise<RetentionResult> {
    const result = await this.request('sweep');
    return (
      result ?? { deletedRows: 0, deletedMessages: 0, deletedSeries: 0, deletedTopics: 0, sweeping: false }
    );
  }

  stats(): HistoryStats {
    const w = this.written;
    return {
      recorded: this.counters.recorded,
      droppedMessages: this.counters.droppedMessages,
      droppedSeries: w.droppedSeries,
      failedMessages: w.failedMessages + this.counters.lostMessages,
      samples: w.samples,
      commits: w.commits,
      pending: this.dead ? 0 : this.counters.recorded - w.processed,
      bytes: this.closing ? 0 : usedBytes(this.db),
    };
  }

  /** Every series, or those whose topic matches an MQTT filter. */
  async listSeries(filter?: string): Promise<SeriesInfo[]> {
    await this.flush();
    return listSeries(this.db, filter);
  }

  /** One series over [from, to], at most 2 × width points; undefined when the series does not exist. */
  async query(key: SeriesKey, query: SeriesQuery): Promise<SeriesResult | undefined> {
    await this.flush();
    const series = findSeries(this.db, key);
    if (!series) return undefined;
    return querySeries(this.db, series, query, this.rules.of(series.topic), this.options.now());
  }

  /** The latest logged messages of a topic, newest first (at most `messagesPerTopic` are kept). */
  async messages(topic: string, limit = this.options.messagesPerTopic): Promise<LoggedMessage[]> {
    await this.flush();
    const { messagesPerTopic, messageBytesPerTopic } = this.options;
    return loggedMessages(this.db, topic, Math.min(limit, messagesPerTopic), messageBytesPerTopic);
  }

  /**
   * A series, or every series of a topic, as CSV or NDJSON text chunks, streamed from a read-only
   * connection (`Readable.from(recorder.export(...))` makes a stream of it).
   */
  async *export(selection: ExportSelection, options: ExportOptions): AsyncGenerator<string> {
    await this.flush();
    const series =
      selection.path === undefined
        ? listSeries(this.db).filter((s) => s.topic === selection.topic)
        : [findSeries(this.db, { topic: selection.topic, path: selection.path })].filter(
            (s): s is SeriesInfo => s !== undefined,
          );
    yield* exportRows(this.file, series, options);
  }

  /**
   * The device registry's disconnects kept across restarts: `load` reads them (oldest first), `append`
   * has the worker write one with the next commit.
   */
  readonly disconnects = {
    load: (): LoggedDisconnect[] => loggedDisconnects(this.db),
    append: (d: LoggedDisconnect): void => {
      if (!this.dead && !this.stopping) this.worker.postMessage({ type: 'disconnect', disconnect: d });
    },
  };

  /** Detaches, has the worker commit what is pending and close its connection, then closes this one. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.detach();
      clearInterval(this.timer);
      await this.request('close');
      this.stopping = true;
      await this.worker.terminate();
      this.db.close();
    })();
    this.stopping = true;
    return this.closing;
  }

  /** Hands the packed messages to the worker (transferred, not copied). */
  private handOver(): void {
    const batch = this.packer.take();
    if (batch && !this.dead) this.worker.postMessage({ type: 'batch', batch }, [batch.buffer]);
  }

  private request(op: WriterOp): Promise<RetentionResult | undefined> {
    if (this.dead || (this.closing && op !== 'close')) return Promise.resolve(undefined);
    this.handOver();
    const id = this.nextId++;
    // The timer's ticks do not keep the process alive; a request someone awaits does, even when it
    // comes while a tick is waiting (the worker was left unreferenced then, and the process could end
    // with the flush unsettled).
    const awaited = op !== 'tick';
    if (awaited && this.awaited++ === 0) this.worker.ref();
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, awaited });
      this.worker.postMessage({ type: 'run', op, id, now: this.options.now() });
    });
  }

  private onWriter(m: FromWriter): void {
    if (m.type === 'error') {
      this.options.onError(new Error(m.message));
      return;
    }
    this.written = m.counts;
    this.settle(m.id, m.result);
  }

  private settle(id: number, result: RetentionResult | undefined): void {
    const request = this.waiting.get(id);
    if (!request) return;
    this.waiting.delete(id);
    if (request.awaited && --this.awaited === 0) this.worker.unref();
    request.resolve(result);
  }

  private onWorkerGone(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.counters.lostMessages += this.counters.recorded - this.written.processed;
    this.options.onError(err);
    for (const id of [...this.waiting.keys()]) this.settle(id, undefined);
  }

  private wants(topic: string): boolean {
    if (this.allButDollar) return topic.charCodeAt(0) !== 0x24; /* $ */
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
