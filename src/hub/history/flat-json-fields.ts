/**
 * The history writer's fast path for the payload nearly every board sends: one flat JSON object of
 * numbers (`{"t":24.1,"h":26.5,"stamp":"x…"}`), read straight from its bytes. The general path decodes
 * the payload to a string, checks it for control characters, runs JSON.parse and walks the result: at
 * 1,000 messages a second that was most of the writer's allocation (~1 KB a message: the string, the
 * parsed object, its strings, the keys array, the fields), and with it a scavenge about every commit.
 * Here nothing is allocated per message.
 *
 * Only what is certain to give the general path's fields is read here. Anything else makes `read()`
 * answer -1 and the general path (payload-text.ts, payload-fields.ts) decides: a nested object or
 * array, an escape, a byte that is not printable ASCII, a key that starts with a digit (JSON.parse puts
 * integer keys first), a key twice (the last value wins there), a string value that could hold a
 * number or a word (`"24.1 C"`, `"on"`), a number with more than 15 digits or an exponent past 22
 * (where dividing by a power of ten is no longer exactly rounded), and anything that is not valid JSON.
 */
import { type FieldPath, MAX_SCALAR_STRING, oneKeyPath, SCALAR_FIRST_CHARS } from './payload-fields.js';

/** Exact powers of ten: m × 10^e and m ÷ 10^e are correctly rounded for m < 2^53 and e ≤ 22. */
const POW10 = Array.from({ length: 23 }, (_, e) => 10 ** e);
const MAX_DIGITS = 15;
/** The first letters of a string value the general path might read as a scalar. */
const SCALAR_FIRST = new Uint8Array(128);
for (const c of SCALAR_FIRST_CHARS) SCALAR_FIRST[c.charCodeAt(0)] = 1;
/** Keys remembered by their bytes; past this many, a payload with a new key takes the general path. */
const MAX_KEYS = 4096;
/** More keys than this in one object: the general path (the duplicate check here is quadratic). */
const MAX_OBJECT_KEYS = 64;

interface KnownKey {
  bytes: Uint8Array;
  key: string;
  path: FieldPath;
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class FlatJsonFields {
  /** The fields of the last read(), in the payload's order: shared one-key path and value. */
  readonly paths: FieldPath[] = [];
  readonly values: number[] = [];
  private readonly known = new Map<number, KnownKey[]>();
  private knownCount = 0;
  /** The keys of the object being read, for the duplicate check (the first `seenCount`). */
  private readonly seen: string[] = [];
  private seenCount = 0;
  /** The last number() read: returned through a field, a double returned is boxed. */
  private number = 0;
  private p = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private end = 0;

  /**
   * The fields of `buf[from, to)` into paths/values (at most `maxFields`): their count, or -1 when
   * the payload is not a flat JSON object this reader is sure of.
   */
  read(buf: Uint8Array, from: number, to: number, maxFields: number): number {
    this.buf = buf;
    this.end = to;
    this.p = from;
    this.seenCount = 0;
    let n = 0;
    if (this.skipSpace() !== 0x7b /* { */) return -1;
    this.p++;
    if (this.skipSpace() === 0x7d /* } */) {
      this.p++;
      return this.atEnd() ? 0 : -1;
    }
    for (;;) {
      if (this.skipSpace() !== QUOTE) return -1;
      const known = this.key();
      if (known === undefined) return -1;
      const seen = this.seen;
      for (let i = 0; i < this.seenCount; i++) if (seen[i] === known.key) return -1;
      if (this.seenCount >= MAX_OBJECT_KEYS) return -1;
      seen[this.seenCount++] = known.key;
      if (this.skipSpace() !== 0x3a /* : */) return -1;
      this.p++;
      const c = this.skipSpace();
      let value = 0;
      let field = true;
      if (c === QUOTE) {
        if (!this.skipString()) return -1;
        field = false;
      } else if (c === 0x74 /* t */) {
        if (!this.word('true')) return -1;
        value = 1;
      } else if (c === 0x66 /* f */) {
        if (!this.word('false')) return -1;
      } else if (c === 0x6e /* n */) {
        if (!this.word('null')) return -1;
        field = false;
      } else {
        if (!this.readNumber()) return -1;
        value = this.number;
      }
      if (field && n < maxFields) {
        this.paths[n] = known.path;
        this.values[n] = value;
        n++;
      }
      const after = this.skipSpace();
      this.p++;
      if (after === 0x7d /* } */) return this.atEnd() ? n : -1;
      if (after !== 0x2c /* , */) return -1;
    }
  }

  /** The byte at the first non-whitespace position from p (p left there), or -1 at the end. */
  private skipSpace(): number {
    const buf = this.buf;
    let p = this.p;
    while (p < this.end) {
      const c = buf[p]!;
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) {
        this.p = p;
        return c;
      }
      p++;
    }
    this.p = p;
    return -1;
  }

  private atEnd(): boolean {
    return this.skipSpace() === -1;
  }

  /** A key at p (its opening quote), plain printable ASCII not starting with a digit; p after its quote. */
  private key(): KnownKey | undefined {
    const buf = this.buf;
    const start = this.p + 1;
    let p = start;
    let hash = 0x811c9dc5;
    for (;;) {
      if (p >= this.end) return undefined;
      const c = buf[p]!;
      if (c === QUOTE) break;
      if (c < SPACE || c >= 0x7f || c === BACKSLASH) return undefined;
      hash = Math.imul(hash ^ c, 0x01000193);
      p++;
    }
    if (p === start || (buf[start]! >= 0x30 && buf[start]! <= 0x39)) return undefined;
    this.p = p + 1;
    return this.knownKey(hash, start, p);
  }

  private knownKey(hash: number, start: number, end: number): KnownKey | undefined {
    const buf = this.buf;
    const length = end - start;
    const chain = this.known.get(hash);
    if (chain) {
      next: for (const k of chain) {
        if (k.bytes.length !== length) continue;
        for (let i = 0; i < length; i++) if (k.bytes[i] !== buf[start + i]) continue next;
        return k;
      }
    }
    if (this.knownCount >= MAX_KEYS) return undefined;
    const bytes = buf.slice(start, end);
    const key = String.fromCharCode(...bytes);
    const k: KnownKey = { bytes, key, path: oneKeyPath(key) };
    if (chain) chain.push(k);
    else this.known.set(hash, [k]);
    this.knownCount++;
    return k;
  }

  /** A string value at p that is no scalar for the general path; p after its closing quote. */
  private skipString(): boolean {
    const buf = this.buf;
    const start = this.p + 1;
    let p = start;
    let first = -1;
    for (;;) {
      if (p >= this.end) return false;
      const c = buf[p]!;
      if (c === QUOTE) break;
      if (c < SPACE || c >= 0x7f || c === BACKSLASH) return false;
      if (first < 0 && c !== SPACE) first = c;
      p++;
    }
    // The general path trims a string of 64 characters or fewer and tries it as a scalar.
    if (first >= 0 && p - start <= MAX_SCALAR_STRING && SCALAR_FIRST[first] === 1) return false;
    this.p = p + 1;
    return true;
  }

  private word(w: string): boolean {
    if (this.p + w.length > this.end) return false;
    for (let i = 0; i < w.length; i++) if (this.buf[this.p + i] !== w.charCodeAt(i)) return false;
    this.p += w.length;
    return true;
  }

  /** A JSON number at p into `number`, exactly as JSON.parse reads it; false when not sure (or not JSON). */
  private readNumber(): boolean {
    const buf = this.buf;
    const end = this.end;
    let p = this.p;
    const negative = buf[p] === 0x2d; /* - */
    if (negative) p++;
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    const first = p < end ? buf[p]! : -1;
    if (first === 0x30) {
      p++; // a lone 0: JSON allows no leading zeros
    } else if (first >= 0x31 && first <= 0x39) {
      for (; p < end; p++) {
        const d = buf[p]! - 0x30;
        if (d < 0 || d > 9) break;
        mantissa = mantissa * 10 + d;
        digits++;
      }
    } else return false;
    if (p < end && buf[p] === 0x2e /* . */) {
      const at = ++p;
      for (; p < end; p++) {
        const d = buf[p]! - 0x30;
        if (d < 0 || d > 9) break;
        if (mantissa !== 0 || d !== 0) digits++;
        mantissa = mantissa * 10 + d;
        scale--;
      }
      if (p === at) return false;
    }
    if (p < end && (buf[p] === 0x65 || buf[p] === 0x45) /* e E */) {
      p++;
      let sign = 1;
      if (p < end && (buf[p] === 0x2b || buf[p] === 0x2d)) {
        if (buf[p] === 0x2d) sign = -1;
        p++;
      }
      const at = p;
      let exponent = 0;
      for (; p < end; p++) {
        const d = buf[p]! - 0x30;
        if (d < 0 || d > 9) break;
        exponent = exponent * 10 + d;
        if (exponent > 1000) return false;
      }
      if (p === at) return false;
      scale += sign * exponent;
    }
    if (digits > MAX_DIGITS) return false;
    let value: number;
    if (mantissa === 0) value = 0;
    else if (scale >= 0 && scale <= 22) value = mantissa * POW10[scale]!;
    else if (scale < 0 && scale >= -22) value = mantissa / POW10[-scale]!;
    else return false;
    this.p = p;
    this.number = negative ? -value : value;
    return true;
  }
}
