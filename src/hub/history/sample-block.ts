/**
 * Raw samples are kept one row per series and commit (a block), not a row each: at hub@1k's two
 * samples a message that is 80 INSERTs a second instead of 2,000. This is a block's `data`, oldest
 * sample first (the row holds the first sample's time, the span and the count):
 *
 *   per sample: the time as a varint delta from the previous sample's (none for the first: t_first),
 *   then the value as a varint `zigzag(m) * 8 + k` where value = m / 10^k exactly, k 0-6 (a reading
 *   such as 21.3 takes 2 bytes), or `7` followed by the float64 (little-endian) when no such m exists.
 *
 * Times within a series strictly increase (batch-writer.ts), so blocks of a series never overlap.
 */

/** Samples per block at most: a query at a block's edge decodes little it does not use. */
export const MAX_BLOCK_SAMPLES = 1024;

const SCALES = [1, 10, 100, 1e3, 1e4, 1e5, 1e6];
const FLOAT64 = 7;
/** |m| below this keeps zigzag(m) * 8 + k an exact integer. */
const MAX_MANTISSA = 2 ** 48;

export interface Samples {
  t: number[];
  v: number[];
}

/** Samples as the encoder reads them: times and values by index (arrays or typed arrays). */
export interface SampleColumns {
  readonly t: ArrayLike<number>;
  readonly v: ArrayLike<number>;
}

/** Encodes samples `from` to `to` (exclusive) of `s`, whose times increase. */
export function encodeSamples(s: SampleColumns, from: number, to: number): Buffer {
  const buf = Buffer.allocUnsafe((to - from) * 19);
  let p = 0;
  for (let i = from; i < to; i++) {
    if (i > from) p = writeVarint(buf, p, s.t[i]! - s.t[i - 1]!);
    const v = s.v[i]!;
    const code = decimalCode(v);
    if (code >= 0) {
      p = writeVarint(buf, p, code);
    } else {
      buf[p++] = FLOAT64;
      p = buf.writeDoubleLE(v, p);
    }
  }
  return buf.subarray(0, p);
}

/** The samples of a block whose first sample is at `tFirst`, oldest first. */
export function decodeSamples(data: Uint8Array, tFirst: number, count: number): Samples {
  const t: number[] = new Array(count);
  const v: number[] = new Array(count);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  pos = 0;
  let time = tFirst;
  for (let i = 0; i < count; i++) {
    if (i > 0) time += readVarint(data);
    t[i] = time;
    const x = readVarint(data);
    const k = x % 8;
    if (k === FLOAT64) {
      v[i] = view.getFloat64(pos, true);
      pos += 8;
    } else {
      const z = (x - k) / 8;
      v[i] = (z % 2 === 0 ? z / 2 : -(z + 1) / 2) / SCALES[k]!;
    }
  }
  return { t, v };
}

/** `zigzag(m) * 8 + k` for the smallest k with m / 10^k === v exactly; -1 when there is none. */
function decimalCode(v: number): number {
  if (!Number.isFinite(v) || Object.is(v, -0)) return -1;
  for (let k = 0; k < SCALES.length; k++) {
    const m = Math.round(v * SCALES[k]!);
    if (Math.abs(m) >= MAX_MANTISSA) return -1;
    if (m / SCALES[k]! === v) return (m >= 0 ? 2 * m : -2 * m - 1) * 8 + k;
  }
  return -1;
}

/** An unsigned varint of a safe integer (arithmetic, not 32-bit bit operations). */
export function writeVarint(buf: Buffer, p: number, n: number): number {
  while (n >= 128) {
    buf[p++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[p++] = n;
  return p;
}

/** Where readVarint reads next (decoding is synchronous: no tuple allocated per varint). */
let pos = 0;

function readVarint(data: Uint8Array): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    const b = data[pos++];
    // A damaged block must end in an error, not a loop that never finds its last byte.
    if (b === undefined) throw new Error('damaged sample data: a number runs past the end of its block');
    n += (b & 127) * scale;
    if (b < 128) return n;
    scale *= 128;
  }
}

/** An unsigned varint at `at.p`, which it moves past it (for callers that keep their own position). */
export function readVarintAt(data: Uint8Array, at: { p: number }): number {
  pos = at.p;
  const n = readVarint(data);
  at.p = pos;
  return n;
}
