/**
 * What `mothership pub`/`sub` print: received messages (plain, -v, -F format, %j/%J JSON, our --json)
 * and the -d debug lines. Byte for byte what mosquitto_sub/mosquitto_pub 2.0 print (sub_client_output.c
 * and libmosquitto's log lines), so scripts and eyes used to mosquitto's tools see no difference.
 */

/** A received PUBLISH, as the printers need it. Properties are in MQTT.js's shape. */
export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  mid: number;
  properties?: Record<string, unknown>;
}

export interface PrintOptions {
  format?: string;
  verbose: boolean;
  eol: boolean;
  pretty: boolean;
}

/** Wall-clock time with nanoseconds, as clock_gettime(CLOCK_REALTIME) gives mosquitto. */
export interface Timestamp {
  date: Date;
  /** nanoseconds within the second */
  ns: number;
}

export function now(): Timestamp {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  const ns = Math.min(999_999_999, Math.floor((ms - seconds * 1000) * 1e6));
  return { date: new Date(seconds * 1000), ns };
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

const pad2 = (n: number) => String(n).padStart(2, '0');
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

/** The strftime conversions mosquitto_sub's -F '@' specifiers can use, in local time like C's. */
export function strftime(fmt: string, d: Date): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== '%' || i === fmt.length - 1) {
      out += fmt[i];
      continue;
    }
    const c = fmt[++i]!;
    const start = new Date(d.getFullYear(), 0, 1);
    const yday = Math.floor((d.getTime() - start.getTime()) / 86_400_000) + 1;
    const h12 = d.getHours() % 12 === 0 ? 12 : d.getHours() % 12;
    const map: Record<string, () => string> = {
      a: () => DAYS[d.getDay()]!.slice(0, 3),
      A: () => DAYS[d.getDay()]!,
      b: () => MONTHS[d.getMonth()]!.slice(0, 3),
      h: () => MONTHS[d.getMonth()]!.slice(0, 3),
      B: () => MONTHS[d.getMonth()]!,
      C: () => pad2(Math.floor(d.getFullYear() / 100)),
      d: () => pad2(d.getDate()),
      D: () => `${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}/${pad2(d.getFullYear() % 100)}`,
      e: () => String(d.getDate()).padStart(2, ' '),
      F: () => `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`,
      H: () => pad2(d.getHours()),
      I: () => pad2(h12),
      j: () => String(yday).padStart(3, '0'),
      k: () => String(d.getHours()).padStart(2, ' '),
      l: () => String(h12).padStart(2, ' '),
      m: () => pad2(d.getMonth() + 1),
      M: () => pad2(d.getMinutes()),
      n: () => '\n',
      p: () => (d.getHours() < 12 ? 'AM' : 'PM'),
      P: () => (d.getHours() < 12 ? 'am' : 'pm'),
      R: () => `${pad2(d.getHours())}:${pad2(d.getMinutes())}`,
      s: () => String(Math.floor(d.getTime() / 1000)),
      S: () => pad2(d.getSeconds()),
      t: () => '\t',
      T: () => `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`,
      u: () => String(d.getDay() === 0 ? 7 : d.getDay()),
      w: () => String(d.getDay()),
      y: () => pad2(d.getFullYear() % 100),
      Y: () => String(d.getFullYear()),
      z: () => tzOffset(d),
      Z: () =>
        Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
          .formatToParts(d)
          .find((p) => p.type === 'timeZoneName')?.value ?? '',
      '%': () => '%',
    };
    out += map[c]?.() ?? `%${c}`;
  }
  return out;
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

/** cJSON's string escaping: ", \, \b \f \n \r \t, other control characters as \u00XX, the rest raw. */
function cjsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 32) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Serialises like cJSON_PrintUnformatted / cJSON_Print (tab-indented), which mosquitto_sub uses. */
export function cjsonPrint(value: unknown, pretty: boolean, depth = 1): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    const short = Number(value.toPrecision(15));
    return String(short === value ? short : Number(value.toPrecision(17)));
  }
  if (typeof value === 'string') return cjsonString(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => cjsonPrint(v, pretty, depth + 1));
    return pretty ? `[${items.join(', ')}]` : `[${items.join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!pretty) return `{${entries.map(([k, v]) => `${cjsonString(k)}:${cjsonPrint(v, false)}`).join(',')}}`;
  if (entries.length === 0) return '{\n' + '\t'.repeat(depth - 1) + '}';
  const ind = '\t'.repeat(depth);
  const body = entries.map(([k, v]) => `${ind}${cjsonString(k)}:\t${cjsonPrint(v, true, depth + 1)}`);
  return `{\n${body.join(',\n')}\n${'\t'.repeat(depth - 1)}}`;
}

/** Payload as C sees it through cJSON_CreateString: a NUL-terminated string. */
function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return (nul >= 0 ? b.subarray(0, nul) : b).toString('utf8');
}

function first<T>(v: T | T[] | undefined): T | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** v5 properties of a message in mosquitto's names (the subset mosquitto_sub's JSON output carries). */
export function propertiesForJson(props: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!props) return out;
  for (const [key, value] of Object.entries(props)) {
    switch (key) {
      case 'payloadFormatIndicator':
        out['payload-format-indicator'] = value ? 1 : 0;
        break;
      case 'messageExpiryInterval':
        out['message-expiry-interval'] = value;
        break;
      case 'contentType':
        out['content-type'] = value;
        break;
      case 'responseTopic':
        out['response-topic'] = value;
        break;
      case 'correlationData':
        out['correlation-data'] = Buffer.isBuffer(value) ? cString(value) : String(value);
        break;
      case 'subscriptionIdentifier':
        out['subscription-identifier'] = first(value as number | number[]);
        break;
      case 'topicAlias':
        out['topic-alias'] = value;
        break;
      case 'userProperties': {
        const users: Record<string, string> = {};
        for (const [k, v] of Object.entries(value as Record<string, string | string[]>)) {
          // cJSON keeps duplicates; a JS object keeps the last, which is what a JSON reader sees anyway.
          users[k] = Array.isArray(v) ? v[v.length - 1]! : v;
        }
        out['user-properties'] = users;
        break;
      }
    }
  }
  return out;
}

function jsonTimestamp(ts: Timestamp): string {
  const d = ts.date;
  const base = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  // mosquitto writes the fraction over its own "Z" and puts the zone after it: "…29.929430Z+0000".
  return `${base}.${String(Math.floor(ts.ns / 1000)).padStart(6, '0')}Z${tzOffset(d)}`;
}

/** %j (escaped payload) and %J (payload parsed as JSON). Undefined when %J's payload is not JSON. */
function mosquittoJson(msg: ReceivedMessage, ts: Timestamp, escaped: boolean, pretty: boolean) {
  const root: Record<string, unknown> = {
    tst: jsonTimestamp(ts),
    topic: msg.topic,
    qos: msg.qos,
    retain: msg.retain ? 1 : 0,
    payloadlen: msg.payload.length,
  };
  if (msg.qos > 0) root.mid = msg.mid;
  if (msg.properties && Object.keys(msg.properties).length > 0) {
    root.properties = propertiesForJson(msg.properties);
  }
  if (escaped) {
    root.payload = msg.payload.length > 0 ? cString(msg.payload) : null;
  } else if (msg.payload.length > 0) {
    try {
      root.payload = JSON.parse(msg.payload.toString('utf8'));
    } catch {
      return undefined;
    }
  } else {
    root.payload = null;
  }
  return cjsonPrint(root, pretty);
}

/** Our --json line: one object per message, stable keys, for scripts (not a mosquitto format). */
export function jsonLine(msg: ReceivedMessage, ts: Timestamp = now()): string {
  const text = msg.payload.toString('utf8');
  const utf8 = Buffer.from(text, 'utf8').equals(msg.payload);
  const obj: Record<string, unknown> = {
    // Timestamp.date holds whole seconds; the milliseconds are in ns.
    time: new Date(ts.date.getTime() + Math.floor(ts.ns / 1e6)).toISOString(),
    topic: msg.topic,
    qos: msg.qos,
    retain: msg.retain,
    payload: utf8 ? text : msg.payload.toString('base64'),
  };
  if (!utf8) obj.encoding = 'base64';
  obj.properties = jsonProperties(msg.properties);
  return `${JSON.stringify(obj)}\n`;
}

/**
 * mosquitto's names, but nothing dropped: a user property key sent more than once keeps every value
 * (an array, in the order sent) and a message matching several subscriptions keeps every identifier.
 */
function jsonProperties(props: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = propertiesForJson(props);
  if (props?.userProperties !== undefined) out['user-properties'] = props.userProperties;
  if (props?.subscriptionIdentifier !== undefined)
    out['subscription-identifier'] = props.subscriptionIdentifier;
  return out;
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

/** The fields of an MQTT.js/mqtt-packet packet that the debug lines read. */
export interface DebugPacket {
  cmd: string;
  messageId?: number;
  reasonCode?: number;
  returnCode?: number;
  qos?: number;
  dup?: boolean;
  retain?: boolean;
  topic?: string;
  payload?: Buffer | string;
  granted?: Array<number | { qos: number }>;
  subscriptions?: Array<{ topic: string; qos: number; nl?: boolean; rap?: boolean; rh?: number }>;
  unsubscriptions?: string[];
}

/**
 * libmosquitto's debug log line for a packet sent or received, e.g.
 * "Client mosq-x sending PUBLISH (d0, q1, r0, m1, 'output', ... (2 bytes))". Returns one string per
 * line (SUBSCRIBE logs a line per topic) or none for packets mosquitto does not log.
 * `qos0Mid` stands in for the message id libmosquitto gives even QoS 0 publishes.
 */
export function debugLines(
  direction: 'send' | 'receive',
  packet: DebugPacket,
  id: string,
  qos0Mid = 0,
): string[] {
  const who = `Client ${id}`;
  const mid = packet.messageId ?? 0;
  const rc = packet.reasonCode ?? 0;
  const bytes = (p: Buffer | string | undefined) => (p === undefined ? 0 : Buffer.byteLength(p));
  if (direction === 'send') {
    switch (packet.cmd) {
      case 'connect':
        return [`${who} sending CONNECT`];
      case 'publish': {
        const m = packet.qos ? mid : qos0Mid;
        return [
          `${who} sending PUBLISH (d${packet.dup ? 1 : 0}, q${packet.qos ?? 0}, r${packet.retain ? 1 : 0}, m${m}, '${packet.topic}', ... (${bytes(packet.payload)} bytes))`,
        ];
      }
      case 'puback':
        return [`${who} sending PUBACK (m${mid}, rc${rc})`];
      case 'pubrec':
        return [`${who} sending PUBREC (m${mid}, rc${rc})`];
      case 'pubrel':
        return [`${who} sending PUBREL (m${mid})`];
      case 'pubcomp':
        return [`${who} sending PUBCOMP (m${mid})`];
      case 'subscribe':
        return (packet.subscriptions ?? []).map((s) => {
          const options = (s.nl ? 0x04 : 0) | (s.rap ? 0x08 : 0) | ((s.rh ?? 0) << 4);
          return `${who} sending SUBSCRIBE (Mid: ${mid}, Topic: ${s.topic}, QoS: ${s.qos}, Options: 0x${options.toString(16).padStart(2, '0')})`;
        });
      case 'unsubscribe':
        return (packet.unsubscriptions ?? []).map(
          (t) => `${who} sending UNSUBSCRIBE (Mid: ${mid}, Topic: ${t})`,
        );
      case 'pingreq':
        return [`${who} sending PINGREQ`];
      case 'disconnect':
        return [`${who} sending DISCONNECT`];
      default:
        return [];
    }
  }
  switch (packet.cmd) {
    case 'connack':
      return [`${who} received CONNACK (${packet.reasonCode ?? packet.returnCode ?? 0})`];
    case 'publish':
      return [
        `${who} received PUBLISH (d${packet.dup ? 1 : 0}, q${packet.qos ?? 0}, r${packet.retain ? 1 : 0}, m${mid}, '${packet.topic}', ... (${bytes(packet.payload)} bytes))`,
      ];
    case 'puback':
      return [`${who} received PUBACK (Mid: ${mid}, RC:${rc})`];
    case 'pubcomp':
      return [`${who} received PUBCOMP (Mid: ${mid}, RC:${rc})`];
    case 'pubrec':
      return [`${who} received PUBREC (Mid: ${mid})`];
    case 'pubrel':
      return [`${who} received PUBREL (Mid: ${mid})`];
    case 'suback':
      return [`${who} received SUBACK`];
    case 'unsuback':
      return [`${who} received UNSUBACK`];
    case 'pingresp':
      return [`${who} received PINGRESP`];
    case 'disconnect':
      return [`Received DISCONNECT (${rc})`];
    case 'auth':
      return [`${who} received AUTH`];
    default:
      return [];
  }
}

/** mosquitto_reason_string: MQTT v5 reason codes as mosquitto words them. */
const REASONS: Record<number, string> = {
  0: 'Success',
  1: 'Granted QoS 1',
  2: 'Granted QoS 2',
  4: 'Disconnect with Will Message',
  16: 'No matching subscribers',
  17: 'No subscription existed',
  24: 'Continue authentication',
  25: 'Re-authenticate',
  128: 'Unspecified error',
  129: 'Malformed Packet',
  130: 'Protocol Error',
  131: 'Implementation specific error',
  132: 'Unsupported Protocol Version',
  133: 'Client Identifier not valid',
  134: 'Bad User Name or Password',
  135: 'Not authorized',
  136: 'Server unavailable',
  137: 'Server busy',
  138: 'Banned',
  139: 'Server shutting down',
  140: 'Bad authentication method',
  141: 'Keep Alive timeout',
  142: 'Session taken over',
  143: 'Topic Filter invalid',
  144: 'Topic Name invalid',
  145: 'Packet Identifier in use',
  146: 'Packet Identifier not found',
  147: 'Receive Maximum exceeded',
  148: 'Topic Alias invalid',
  149: 'Packet too large',
  150: 'Message rate too high',
  151: 'Quota exceeded',
  152: 'Administrative action',
  153: 'Payload format invalid',
  154: 'Retain not supported',
  155: 'QoS not supported',
  156: 'Use another server',
  157: 'Server moved',
  158: 'Shared Subscriptions not supported',
  159: 'Connection rate exceeded',
  160: 'Maximum connect time',
  161: 'Subscription identifiers not supported',
  162: 'Wildcard Subscriptions not supported',
};

export function reasonString(code: number): string {
  return REASONS[code] ?? 'Unknown reason';
}

/** mosquitto_connack_string: MQTT 3.1/3.1.1 CONNACK return codes. */
const CONNACK_V3 = [
  'Connection Accepted.',
  'Connection Refused: unacceptable protocol version.',
  'Connection Refused: identifier rejected.',
  'Connection Refused: broker unavailable.',
  'Connection Refused: bad user name or password.',
  'Connection Refused: not authorised.',
];

/** The "Connection error: …" line both tools print when the broker refuses the CONNECT. */
export function connackErrorLine(code: number, protocolVersion: number): string {
  if (protocolVersion === 5) {
    if (code === 132) {
      return `Connection error: ${reasonString(code)}. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n`;
    }
    return `Connection error: ${reasonString(code)}\n`;
  }
  return `Connection error: ${CONNACK_V3[code] ?? 'Connection Refused: unknown reason.'}\n`;
}
