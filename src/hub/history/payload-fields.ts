/**
 * Turns one MQTT payload into numeric fields: the series the history records. A field's path is an
 * array of JSON keys and array indexes (never a dotted string, so `{"a.b": 1}` and `{"a": {"b": 2}}` stay
 * two fields). Anything that is not understood yields no field and no error: the message log keeps it.
 */

/** One step into a JSON document: an object key or an array index. */
export type FieldPath = readonly (string | number)[];

export interface PayloadField {
  /** `[]` for a payload that is one value (`24.1`, `on`), `['t']` for `t=24.1C`, `['a', 0]` for JSON. */
  path: FieldPath;
  value: number;
  /** Normalised (`C` -> `°C`); undefined when the payload names none. */
  unit?: string;
}

export interface ParseLimits {
  /** Payloads longer than this are not parsed at all (default 64 KiB). */
  maxBytes: number;
  /** At most this many fields per payload, the first ones found (default 64). */
  maxFields: number;
  /** JSON nesting walked at most this deep (default 16). */
  maxDepth: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxBytes: 64 * 1024, maxFields: 64, maxDepth: 16 };

const NUMBER = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?';
const UNIT = '(?:°?[A-Za-z%µΩ][A-Za-z%µΩ/²³]{0,11})';
/** A whole value: a number, optionally followed by a unit (`24.1`, `24.1C`, `-3 dBm`). */
const VALUE_RE = new RegExp(`^(${NUMBER})\\s*(${UNIT})?$`);
/** One `key=value unit` pair (`:` also separates: `temp: 21.5`), matched in place (sticky). */
const PAIR_RE = new RegExp(
  `([A-Za-z_][\\w.\\-]*)\\s*[=:]\\s*(${NUMBER})(?:\\s*(${UNIT})(?![\\w.\\-]*\\s*[=:]))?`,
  'y',
);
const SEPARATOR_RE = /[\s,;&|]*/y;
/** What may end a sentence of pairs: `t=24.1C, h=26.5%.` */
const TAIL_RE = /[.!]?\s*$/y;

const WORDS: Record<string, number> = { on: 1, off: 0, true: 1, false: 0 };
/** What a value (VALUE_RE) or one of WORDS starts with: a sign, a digit, a point, o, t or f. */
export const SCALAR_FIRST_CHARS = '-+.0123456789OoTtFf';
const SCALAR_START = new RegExp(`^[${SCALAR_FIRST_CHARS.replace('-', '\\-')}]`);
/** A JSON string value longer than this is never read as a scalar. */
export const MAX_SCALAR_STRING = 64;

/** Units as people type them, to the symbol a chart shows. */
const UNITS: Record<string, string> = {
  C: '°C',
  F: '°F',
  degC: '°C',
  degF: '°F',
  celsius: '°C',
  fahrenheit: '°F',
  pct: '%',
  percent: '%',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One-key paths (`['t']`), shared: a board sends the same few keys in every message, and the history
 * writer parses a thousand messages a second, so each field does not allocate its own path array.
 */
const oneKeyPaths = new Map<string, FieldPath>();
const MAX_SHARED_PATHS = 4096;

/** `path` as a field's path: a copy, or for one key the shared (frozen) array. */
function fieldPath(path: readonly (string | number)[]): FieldPath {
  if (path.length !== 1 || typeof path[0] !== 'string') return [...path];
  return oneKeyPath(path[0]);
}

/** The path `[key]`, shared while fewer than MAX_SHARED_PATHS keys are. */
export function oneKeyPath(key: string): FieldPath {
  let shared = oneKeyPaths.get(key);
  if (!shared) {
    shared = Object.freeze([key]);
    if (oneKeyPaths.size < MAX_SHARED_PATHS) oneKeyPaths.set(key, shared);
  }
  return shared;
}

/** The numeric fields of `payload`, at most `limits.maxFields`; `[]` when there are none. */
export function payloadFields(
  payload: Uint8Array,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): PayloadField[] {
  if (payload.length === 0 || payload.length > limits.maxBytes || hasControlBytes(payload)) return [];
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return []; // binary
  }
  return textFields(text, limits);
}

/**
 * The numeric fields of a payload already decoded (valid UTF-8 without control characters: see
 * hasControlBytes), at most `limits.maxFields`; `[]` when there are none.
 */
export function textFields(decoded: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): PayloadField[] {
  const text = decoded.trim();
  if (text === '') return [];
  const one = scalar(text);
  if (one) return [{ path: [], ...one }];
  const first = text[0];
  if (first === '{' || first === '[' || first === '"') return jsonFields(text, limits);
  return pairFields(text, limits.maxFields);
}

/**
 * Control characters other than tab, CR and LF mean binary (a stamp, a struct, zero padding): found by
 * one pass over the bytes, far cheaper than the fatal decoder's exception on invalid UTF-8.
 */
function hasControlBytes(payload: Uint8Array): boolean {
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i]!;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return true;
  }
  return false;
}

/** A number (with an optional unit), or on/off/true/false as 1/0. */
function scalar(text: string): { value: number; unit?: string } | undefined {
  // Only a sign, a digit, a point or the first letter of a word can start one: most strings in JSON
  // (ids, names, states) are turned down here without a lowercased copy and a regular expression.
  if (!SCALAR_START.test(text)) return undefined;
  const word = WORDS[text.toLowerCase()];
  if (word !== undefined) return { value: word };
  const m = VALUE_RE.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  if (!Number.isFinite(value)) return undefined;
  return m[2] ? { value, unit: normaliseUnit(m[2]) } : { value };
}

function normaliseUnit(unit: string): string {
  return UNITS[unit] ?? unit;
}

function jsonFields(text: string, limits: ParseLimits): PayloadField[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  const out: PayloadField[] = [];
  walk(doc, [], out, limits);
  return out;
}

function walk(node: unknown, path: (string | number)[], out: PayloadField[], limits: ParseLimits): void {
  if (out.length >= limits.maxFields) return;
  switch (typeof node) {
    case 'number':
      out.push({ path: fieldPath(path), value: node });
      return;
    case 'boolean':
      out.push({ path: fieldPath(path), value: node ? 1 : 0 });
      return;
    case 'string': {
      // Devices often send numbers as strings: {"temp": "24.1"}, {"relay": "ON"}, {"t": "21.5 C"}.
      const one = node.length <= MAX_SCALAR_STRING ? scalar(node.trim()) : undefined;
      if (one) out.push({ path: fieldPath(path), ...one });
      return;
    }
    case 'object': {
      if (node === null || path.length >= limits.maxDepth) return;
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length && out.length < limits.maxFields; i++) {
          path.push(i);
          walk(node[i], path, out, limits);
          path.pop();
        }
        return;
      }
      for (const key of Object.keys(node)) {
        if (out.length >= limits.maxFields) return;
        path.push(key);
        walk((node as Record<string, unknown>)[key], path, out, limits);
        path.pop();
      }
      return;
    }
    default:
      return;
  }
}

/**
 * `key=value unit` text, all or nothing: the payload must be pairs and separators only, so prose that
 * happens to hold a number ("Test to mothership #1") gives no field.
 */
function pairFields(text: string, maxFields: number): PayloadField[] {
  const out: PayloadField[] = [];
  const seen = new Set<string>();
  let at = 0;
  while (at < text.length) {
    PAIR_RE.lastIndex = at;
    const m = PAIR_RE.exec(text);
    if (!m) {
      TAIL_RE.lastIndex = at;
      return out.length > 0 && TAIL_RE.test(text) ? out : [];
    }
    const [, key, number, unit] = m;
    const value = Number(number);
    if (Number.isFinite(value) && !seen.has(key!) && out.length < maxFields) {
      seen.add(key!);
      const path = fieldPath([key!]);
      out.push(unit ? { path, value, unit: normaliseUnit(unit) } : { path, value });
    }
    SEPARATOR_RE.lastIndex = PAIR_RE.lastIndex;
    SEPARATOR_RE.exec(text);
    at = SEPARATOR_RE.lastIndex;
  }
  return out;
}

/** The path as a JSON Pointer (RFC 6901) for people and CSV: `['a.b', 0]` -> `/a.b/0`, `[]` -> ``. */
export function pathPointer(path: FieldPath): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
