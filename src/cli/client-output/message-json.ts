/**
 * Messages as JSON: mosquitto_sub's %j/%J objects (cJSON's layout, mosquitto's property names and
 * timestamp) and our own --json line for scripts.
 */
import { cjsonPrint, cString } from './cjson.js';
import { first, now, type ReceivedMessage, type Timestamp } from './received-message.js';
import { pad2, tzOffset } from './strftime.js';

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
export function mosquittoJson(msg: ReceivedMessage, ts: Timestamp, escaped: boolean, pretty: boolean) {
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
