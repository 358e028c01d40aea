import { isAscii, isUtf8 } from 'node:buffer';

/** Control characters other than tab, LF and CR: a payload with one is binary (a stamp, a struct, zero padding). */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

/**
 * The text of `buf[from, to)` for the field parser (payload-fields.ts), or undefined when the payload is
 * binary: bytes that are not UTF-8, or a control character other than tab, CR and LF. The checks are
 * native (isAscii and isUtf8 are vectorised; the control characters are a compiled regular expression
 * over the decoded text): a loop over the bytes in JavaScript cost ~30 instructions a byte, 2,500 a
 * telemetry message (measured with callgrind). An ASCII payload, nearly every board's, is decoded as
 * Latin-1, the cheapest decoding for it.
 */
export function payloadText(buf: Buffer, from: number, to: number): string | undefined {
  const bytes = buf.subarray(from, to);
  let text: string;
  if (isAscii(bytes)) text = bytes.toString('latin1');
  else if (isUtf8(bytes)) text = bytes.toString('utf8');
  else return undefined; // isUtf8 turns them away without the exception a fatal decoder throws
  return CONTROL.test(text) ? undefined : text;
}
