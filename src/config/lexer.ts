/**
 * mosquitto.conf's lines: one directive per line, words separated by spaces or tabs, `#` starts a
 * comment line, CRLF tolerated. Every line keeps where it came from, so every message names file:line.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCodes, MothershipError } from '../errors.js';

export interface Where {
  file: string;
  line: number;
}

/** `file:line`, the prefix of every config message. */
export function at(w: Where): string {
  return `${w.file}:${w.line}`;
}

export interface ConfigLine {
  name: string;
  /** The words after the name. */
  args: string[];
  /** Everything after the name, trimmed (paths may hold spaces). */
  rest: string;
  where: Where;
  /** The folder of the file the line is in: relative paths are resolved against it. */
  folder: string;
}

/** The directive lines of one file's text, comments and blank lines skipped. */
export function* configLines(text: string, file: string): Generator<ConfigLine> {
  const folder = dirname(file);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = line.split(/[ \t]+/, 1)[0]!;
    const rest = line.slice(name.length).trim();
    yield { name, args: rest === '' ? [] : rest.split(/[ \t]+/), rest, where: { file, line: i + 1 }, folder };
  }
}

/** Reads an included config file; `from` is the line that asked for it. */
export function readConfigText(file: string, from?: Where): string {
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
