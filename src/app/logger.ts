import { createWriteStream, openSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino, { type Level, type Logger } from 'pino';
import type { LogDestination, LogType } from '../config/mosquitto-conf.js';
import { ErrorCodes, MothershipError } from '../errors.js';

export type LogFormat = 'text' | 'json';

/**
 * pino underneath; `text` renders each record as one mosquitto-style line (`<time>: <message>`)
 * for people, `json` keeps pino's records for machines. Every line goes to every destination.
 */
export function createLogger(options: {
  format: LogFormat;
  level: Level | 'silent';
  outs?: NodeJS.WritableStream[];
}): Logger {
  const outs = options.outs ?? [process.stdout];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        const text = options.format === 'json' ? line : render(line);
        for (const out of outs) out.write(`${text}\n`);
      }
      done();
    },
  });
  return pino({ level: options.level, base: undefined }, sink);
}

function render(line: string): string {
  try {
    const record = JSON.parse(line) as { time: number; msg?: string; level: number };
    const tag = record.level >= 50 ? 'Error: ' : record.level >= 40 ? 'Warning: ' : '';
    return `${new Date(record.time).toISOString()}: ${tag}${record.msg ?? ''}`;
  } catch {
    return line;
  }
}

/**
 * mosquitto's log_type set as one pino level: the most detailed type asked for wins (`debug`/`all`:
 * debug; `information`/`notice`/`subscribe`/`unsubscribe`/`websockets`: info; `warning`; `error`;
 * only `none`: silent). No log_type: info, as mosquitto's default (error, warning, notice, information).
 */
export function levelFor(types: LogType[], verbose: boolean): Level | 'silent' {
  if (verbose || types.includes('debug') || types.includes('all')) return 'debug';
  if (types.length === 0) return 'info';
  if (types.some((t) => ['information', 'notice', 'subscribe', 'unsubscribe', 'websockets'].includes(t)))
    return 'info';
  if (types.includes('warning')) return 'warn';
  if (types.includes('error')) return 'error';
  return 'silent';
}

/**
 * Streams for mosquitto's log_dest lines (stdout when there are none). Destinations we do not
 * support yet (syslog, topic, dlt) are named in `unsupported` so the caller can warn.
 */
export function logOutputs(dests: LogDestination[]): {
  outs: NodeJS.WritableStream[];
  unsupported: string[];
} {
  if (dests.length === 0) return { outs: [process.stdout], unsupported: [] };
  const outs: NodeJS.WritableStream[] = [];
  const unsupported: string[] = [];
  for (const d of dests) {
    if (d.type === 'stdout') outs.push(process.stdout);
    else if (d.type === 'stderr') outs.push(process.stderr);
    else if (d.type === 'file') outs.push(createWriteStream('', { fd: openLogFile(d.path) }));
    else if (d.type !== 'none') unsupported.push(d.type);
  }
  if (outs.length === 0 && unsupported.length > 0) outs.push(process.stdout);
  return { outs, unsupported };
}

/** Opened now, so a log file we cannot write is a one-line error at start rather than a crash later. */
function openLogFile(path: string): number {
  try {
    return openSync(path, 'a');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MothershipError(
      ErrorCodes.LOG_FILE_UNWRITABLE,
      `cannot write log file ${path}: ${code ?? (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
