/**
 * mosquitto_sub's output for one message: plain, -v, or a -F format string (sub_client_output.c),
 * byte for byte, quirks included.
 */
import { mosquittoJson } from './message-json.js';
import { first, now, type ReceivedMessage, type Timestamp } from './received-message.js';
import { strftime } from './strftime.js';

export interface PrintOptions {
  format?: string;
  verbose: boolean;
  eol: boolean;
  pretty: boolean;
}

/** mosquitto's check_format: validates a -F string; returns the error text or undefined. */
export function checkFormat(str: string): string | undefined {
  const incomplete = 'Error: Incomplete format specifier.\n';
  const len = str.length;
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  for (let i = 0; i < len; i++) {
    const c = str[i];
    if (c === '%') {
      if (i === len - 1) return incomplete;
      if (str[i + 1] === '0' || str[i + 1] === '-') {
        i++;
        if (i === len - 1) return incomplete;
      }
      while (isDigit(str[i + 1])) {
        i++;
        if (i === len - 1) return incomplete;
      }
      if (str[i + 1] === '.') {
        i++;
        if (i === len - 1) return incomplete;
        while (isDigit(str[i + 1])) {
          i++;
          if (i === len - 1) return incomplete;
        }
      }
      if (!'%ACDEFIlmPpqRSrtjJUxX'.includes(str[i + 1]!)) {
        return `Error: Invalid format specifier '${str[i + 1]}'.\n`;
      }
      i++;
    } else if (c === '@') {
      if (i === len - 1) return incomplete;
      i++;
    } else if (c === '\\') {
      if (i === len - 1) return 'Error: Incomplete escape specifier.\n';
      if (!'\\0aentrv'.includes(str[i + 1]!)) return `Error: Invalid escape specifier '${str[i + 1]}'.\n`;
      i++;
    }
  }
  return undefined;
}

/** Collects output as bytes: payloads are bytes, not text, and must pass through untouched. */
class Out {
  private parts: Buffer[] = [];
  text(s: string): void {
    this.parts.push(Buffer.from(s));
  }
  bytes(b: Buffer): void {
    this.parts.push(b);
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function writePayload(out: Out, payload: Buffer, hex: 0 | 1 | 2, align: string, pad: string, width: number) {
  let len = payload.length;
  let padlen: number;
  if (width > 0) {
    if (len > width) len = width;
    if (hex > 0) {
      len = Math.floor(len / 2);
      padlen = width - len * 2;
    } else {
      padlen = width - len;
    }
  } else {
    padlen = width - len;
  }
  if (align !== '-' && padlen > 0) out.text(pad.repeat(padlen));
  const body = payload.subarray(0, len);
  if (hex === 0) out.bytes(body);
  else out.text(hex === 1 ? body.toString('hex') : body.toString('hex').toUpperCase());
  if (align === '-' && padlen > 0) out.text(' '.repeat(padlen));
}

function printInt(out: Out, value: number, align: string, pad: string, width: number) {
  const s = String(value);
  if (width === 0 || s.length >= width) out.text(s);
  else if (align === '-') out.text(s.padEnd(width, ' '));
  else if (pad === '0')
    out.text(value < 0 ? `-${String(-value).padStart(width - 1, '0')}` : s.padStart(width, '0'));
  else out.text(s.padStart(width, ' '));
}

function printStr(out: Out, value: string, align: string, width: number, precision: number) {
  const s = precision >= 0 ? value.slice(0, precision) : value;
  if (s.length >= width) out.text(s);
  else out.text(align === '-' ? s.padEnd(width, ' ') : s.padStart(width, ' '));
}

function printPercent(
  out: Out,
  err: string[],
  msg: ReceivedMessage,
  ts: Timestamp,
  pretty: boolean,
  c: string,
  align: string,
  pad: string,
  width: number,
  precision: number,
) {
  const p = msg.properties ?? {};
  const blank = (ch: string) => out.text(ch.repeat(width));
  switch (c) {
    case '%':
      out.text('%');
      break;
    case 'A':
      if (typeof p.topicAlias === 'number') printInt(out, p.topicAlias, align, pad, width);
      else blank(pad);
      break;
    case 'C':
      if (typeof p.contentType === 'string') printStr(out, p.contentType, align, width, precision);
      else blank(' ');
      break;
    case 'D':
      if (Buffer.isBuffer(p.correlationData)) out.bytes(p.correlationData);
      break;
    case 'E':
      if (typeof p.messageExpiryInterval === 'number')
        printInt(out, p.messageExpiryInterval, align, pad, width);
      else blank(pad);
      break;
    case 'F':
      if (p.payloadFormatIndicator !== undefined)
        printInt(out, p.payloadFormatIndicator ? 1 : 0, align, pad, width);
      else blank(pad);
      break;
    case 'I':
      printStr(out, strftime('%FT%T%z', ts.date), align, width, precision);
      break;
    case 'j':
      out.text(mosquittoJson(msg, ts, true, pretty)!);
      break;
    case 'J': {
      const json = mosquittoJson(msg, ts, false, pretty);
      if (json === undefined) err.push(`Error: Message payload is not valid JSON on topic ${msg.topic}.\n`);
      else out.text(json);
      break;
    }
    case 'l':
      printInt(out, msg.payload.length, align, pad, width);
      break;
    case 'm':
      printInt(out, msg.mid, align, pad, width);
      break;
    case 'P': {
      const users = (p.userProperties ?? {}) as Record<string, string | string[]>;
      const pairs: string[] = [];
      for (const [k, v] of Object.entries(users)) {
        for (const one of Array.isArray(v) ? v : [v]) pairs.push(`${k}:${one}`);
      }
      out.text(pairs.join(' '));
      break;
    }
    case 'p':
      writePayload(out, msg.payload, 0, align, pad, width);
      break;
    case 'q':
      out.text(String(msg.qos));
      break;
    case 'R':
      if (typeof p.responseTopic === 'string') printStr(out, p.responseTopic, align, width, precision);
      break;
    case 'r':
      out.text(msg.retain ? '1' : '0');
      break;
    case 'S': {
      const id = first(p.subscriptionIdentifier as number | number[] | undefined);
      if (typeof id === 'number') printInt(out, id, align, pad, width);
      else blank(pad);
      break;
    }
    case 't':
      printStr(out, msg.topic, align, width, precision);
      break;
    case 'U':
      out.text(`${Math.floor(ts.date.getTime() / 1000)}.${String(ts.ns).padStart(9, '0')}`);
      break;
    case 'x':
      writePayload(out, msg.payload, 1, align, pad, width);
      break;
    case 'X':
      writePayload(out, msg.payload, 2, align, pad, width);
      break;
  }
}

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  '0': '\0',
  a: '\x07',
  e: '\x1b',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** mosquitto_sub's formatted_print for -F, including its quirks (e.g. a width loop that stops early). */
function formatted(
  out: Out,
  err: string[],
  fmt: string,
  msg: ReceivedMessage,
  ts: Timestamp,
  pretty: boolean,
) {
  const len = fmt.length;
  const isDigit = (ch: string | undefined) => ch !== undefined && ch >= '0' && ch <= '9';
  for (let i = 0; i < len; i++) {
    const c = fmt[i]!;
    if (c === '%') {
      let align = '';
      let pad = ' ';
      let width = 0;
      let precision = -1;
      if (i < len - 1) {
        i++;
        if (fmt[i] === '-') {
          align = '-';
          if (i < len - 1) i++;
        }
        if (fmt[i] === '0') {
          pad = '0';
          if (i < len - 1) i++;
        }
        while (i < len - 1 && isDigit(fmt[i])) {
          width = width * 10 + Number(fmt[i]);
          i++;
        }
        if (fmt[i] === '.' && i < len - 1) {
          i++;
          precision = 0;
          while (i < len - 1 && isDigit(fmt[i])) {
            precision = precision * 10 + Number(fmt[i]);
            i++;
          }
        }
        if (i < len) printPercent(out, err, msg, ts, pretty, fmt[i]!, align, pad, width, precision);
      }
    } else if (c === '@') {
      if (i < len - 1) {
        i++;
        const s = fmt[i]!;
        if (s === '@') out.text('@');
        else if (s === 'N') out.text(String(ts.ns).padStart(9, '0'));
        else out.text(strftime(`%${s}`, ts.date));
      }
    } else if (c === '\\') {
      if (i < len - 1) {
        i++;
        const e = ESCAPES[fmt[i]!];
        if (e !== undefined) out.text(e);
      }
    } else {
      out.text(c);
    }
  }
}

/**
 * What mosquitto_sub prints for one message: stdout bytes, plus any stderr text (%J on a non-JSON
 * payload). Plain mode prints nothing for an empty payload, as mosquitto_sub does.
 */
export function formatMessage(
  msg: ReceivedMessage,
  opts: PrintOptions,
  ts: Timestamp = now(),
): { stdout: Buffer; stderr: string } {
  const out = new Out();
  const err: string[] = [];
  if (opts.format !== undefined) {
    formatted(out, err, opts.format, msg, ts, opts.pretty);
    if (opts.eol) out.text('\n');
  } else if (opts.verbose) {
    if (msg.payload.length > 0) {
      out.text(`${msg.topic} `);
      out.bytes(msg.payload);
      if (opts.eol) out.text('\n');
    } else if (opts.eol) {
      out.text(`${msg.topic} (null)\n`);
    }
  } else if (msg.payload.length > 0) {
    out.bytes(msg.payload);
    if (opts.eol) out.text('\n');
  }
  return { stdout: out.buffer(), stderr: err.join('') };
}
