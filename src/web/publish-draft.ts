/**
 * What the Publish screen sends, as typed in its form (user properties as `name=value` lines), turned
 * into the hub's `/api/publish` body; and the lists it keeps in this browser (localStorage): what was
 * sent, and payloads saved under a name.
 */

export interface Draft {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** MQTT v5 properties; '' is unset. */
  contentType: string;
  responseTopic: string;
  correlationData: string;
  /** One `name=value` a line. */
  userProperties: string;
  /** Seconds, as typed. */
  expiry: string;
}

export const EMPTY: Draft = {
  topic: '',
  payload: '',
  qos: 0,
  retain: false,
  contentType: '',
  responseTopic: '',
  correlationData: '',
  userProperties: '',
  expiry: '',
};

export interface PublishBody {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  properties?: {
    contentType?: string;
    responseTopic?: string;
    correlationData?: string;
    userProperties?: [string, string][];
    messageExpiryInterval?: number;
  };
}

/** The request body, or the line of the form that cannot be sent as it is. */
export function publishBody(d: Draft): PublishBody | string {
  const properties: NonNullable<PublishBody['properties']> = {};
  if (d.contentType !== '') properties.contentType = d.contentType;
  if (d.responseTopic !== '') properties.responseTopic = d.responseTopic;
  if (d.correlationData !== '') properties.correlationData = d.correlationData;
  const lines = d.userProperties.split('\n').filter((l) => l.trim() !== '');
  const pairs: [string, string][] = [];
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq < 1) return `user property '${line}' is not name=value`;
    pairs.push([line.slice(0, eq).trim(), line.slice(eq + 1)]);
  }
  if (pairs.length > 0) properties.userProperties = pairs;
  if (d.expiry.trim() !== '') {
    const n = Number(d.expiry);
    if (!Number.isInteger(n) || n < 1) return 'message expiry must be a whole number of seconds (1 or more)';
    properties.messageExpiryInterval = n;
  }
  const body: PublishBody = { topic: d.topic, payload: d.payload, qos: d.qos, retain: d.retain };
  if (Object.keys(properties).length > 0) body.properties = properties;
  return body;
}

/** Whether a draft sets any v5 property (the form shows them open). */
export function hasProperties(d: Draft): boolean {
  return [d.contentType, d.responseTopic, d.correlationData, d.userProperties, d.expiry].some(
    (v) => v !== '',
  );
}

export interface Saved {
  name: string;
  draft: Draft;
}

const SENT = 'mothership.sent';
const SAVED = 'mothership.saved';
const MAX_SENT = 20;

function read<T>(key: string): T[] {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

/** Entries from before the v5 fields get them empty. */
const complete = (d: Partial<Draft>): Draft => ({ ...EMPTY, ...d });

export function sentList(): Draft[] {
  return read<Partial<Draft>>(SENT).map(complete);
}

/** Puts `d` first in what was sent (once), keeping the last MAX_SENT. */
export function remember(d: Draft): Draft[] {
  const key = JSON.stringify(d);
  const next = [d, ...sentList().filter((s) => JSON.stringify(s) !== key)].slice(0, MAX_SENT);
  localStorage.setItem(SENT, JSON.stringify(next));
  return next;
}

export function savedList(): Saved[] {
  return read<Saved>(SAVED).map((s) => ({ name: String(s.name), draft: complete(s.draft ?? {}) }));
}

/** Saves `draft` under `name`, replacing one of the same name. */
export function save(name: string, draft: Draft): Saved[] {
  const next = [{ name, draft }, ...savedList().filter((s) => s.name !== name)];
  localStorage.setItem(SAVED, JSON.stringify(next));
  return next;
}

export function unsave(name: string): Saved[] {
  const next = savedList().filter((s) => s.name !== name);
  localStorage.setItem(SAVED, JSON.stringify(next));
  return next;
}
