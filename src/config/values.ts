/**
 * The value forms of mosquitto.conf (integers in a range, true/false/1/0, durations, paths, one word
 * of a list), each failing with `file:line: <name> must be <accepted form>, got '<value>'`.
 */
import { resolve } from 'node:path';
import { ErrorCodes, MothershipError } from '../errors.js';
import { at, type ConfigLine, type Where } from './lexer.js';

export function invalid(w: Where, name: string, form: string, got: string): MothershipError {
  return new MothershipError(
    ErrorCodes.CONFIG_INVALID_VALUE,
    `${at(w)}: ${name} must be ${form}, got '${got}'`,
  );
}

export function integer(
  w: Where,
  name: string,
  value: string,
  min: number,
  max: number,
  form?: string,
): number {
  const n = /^-?[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw invalid(w, name, form ?? `an integer ${min}..${max}`, value);
  return n;
}

export function boolean(w: Where, name: string, value: string, form = 'true or false'): boolean {
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

/** One directive line's value, read in the form its directive expects. */
export class DirectiveValue {
  constructor(readonly line: ConfigLine) {}

  get name(): string {
    return this.line.name;
  }

  get where(): Where {
    return this.line.where;
  }

  invalid(form: string, got = this.line.rest): MothershipError {
    return invalid(this.line.where, this.line.name, form, got);
  }

  /** A single word. */
  one(form: string): string {
    if (this.line.args.length !== 1) throw this.invalid(form);
    return this.line.args[0]!;
  }

  /** One word of a fixed list. */
  oneOf<const W extends string>(words: readonly W[], form = words.join(', ')): W {
    const v = this.one(form);
    if (!(words as readonly string[]).includes(v)) throw this.invalid(form, v);
    return v as W;
  }

  /** A path: the rest of the line (it may hold spaces), resolved against the file's folder. */
  path(form = 'a file path'): string {
    if (this.line.rest === '') throw this.invalid(form);
    return resolve(this.line.folder, this.line.rest);
  }

  int(min: number, max: number, form?: string): number {
    return integer(
      this.line.where,
      this.line.name,
      this.one(form ?? `an integer ${min}..${max}`),
      min,
      max,
      form,
    );
  }

  bool(form = 'true or false'): boolean {
    return boolean(this.line.where, this.line.name, this.one(form), form);
  }

  /** A mosquitto duration (2d, 1w, ...), in seconds. */
  duration(form = 'a duration: a number followed by h, d, w, m or y (e.g. 2d, 1w)'): number {
    const seconds = parseDuration(this.one(form));
    if (seconds === undefined) throw this.invalid(form);
    return seconds;
  }

  /** A warning about this line, naming file:line. */
  note(text: string): string {
    return `${at(this.line.where)}: ${text}`;
  }
}
