import { isUtf8 } from 'node:buffer';

/**
 * The text of `buf[from, to)` for the field parser (payload-fields.ts), or undefined when the payload is
 * binary: a control character other than tab, CR and LF (a stamp, a struct, zero padding), or bytes
 * that are not UTF-8. One pass over the bytes decides most payloads, and an ASCII one (nearly every
 * board's) is decoded without a UTF-8 check or a view.
 */
export function payloadText(buf: Buffer, from: number, to: number): string | undefined {
  let ascii = true;
  for (let i = from; i < to; i++) {
    const b = buf[i]!;
    if (b < 0x20) {
      if (b !== 0x09 && b !== 0x0a && b !== 0x0d) return undefined;
    } else if (b >= 0x80) {
      ascii = false;
    }
  }
  if (ascii) return buf.toString('latin1', from, to);
  const bytes = buf.subarray(from, to);
  // isUtf8 turns invalid bytes away without the exception a fatal decoder throws (~4 µs, measured).
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}
