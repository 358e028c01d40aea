import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type LogFormat = 'text' | 'json';

/**
 * pino underneath; `text` renders each record as one mosquitto-style line (`<time>: <message>`)
 * for people, `json` keeps pino's records for machines.
 */
export function createLogger(options: {
  format: LogFormat;
  verbose: boolean;
  out?: NodeJS.WritableStream;
}): Logger {
  const out = options.out ?? process.stdout;
  const level = options.verbose ? 'debug' : 'info';
  if (options.format === 'json') return pino({ level, base: undefined }, out as pino.DestinationStream);
  const text = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          const record = JSON.parse(line) as { time: number; msg?: string; level: number };
          const tag = record.level >= 50 ? 'Error: ' : record.level >= 40 ? 'Warning: ' : '';
          out.write(`${new Date(record.time).toISOString()}: ${tag}${record.msg ?? ''}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      done();
    },
  });
  return pino({ level, base: undefined }, text);
}
