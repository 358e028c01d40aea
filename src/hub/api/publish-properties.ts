/**
 * The MQTT v5 properties a page may set on what it publishes (`/api/publish`'s `properties`): content
 * type, response topic, correlation data (text), user properties and message expiry. Checked here so a
 * bad one is a clear 400, never a malformed packet to a subscriber.
 */
import type { MessageProperties } from '../../broker/types.js';
import { ErrorCodes } from '../../errors.js';
import { topicNameProblem } from '../../protocol/topic.js';
import { HttpError } from './http-json.js';

const MAX_TEXT = 65_535;
const MAX_USER_PROPERTIES = 32;

function bad(message: string): HttpError {
  return new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, message);
}

function text(v: unknown, name: string): string {
  if (typeof v !== 'string') throw bad(`'properties.${name}' must be a string`);
  if (Buffer.byteLength(v) > MAX_TEXT) throw bad(`'properties.${name}' is over ${MAX_TEXT} bytes`);
  return v;
}

/** `properties` of a publish request as the broker takes them; undefined when none is set. */
export function publishProperties(v: unknown): MessageProperties | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad("'properties' must be an object");
  const p = v as Record<string, unknown>;
  const out: MessageProperties = {};
  for (const name of Object.keys(p))
    if (
      ![
        'contentType',
        'responseTopic',
        'correlationData',
        'userProperties',
        'messageExpiryInterval',
      ].includes(name)
    )
      throw bad(`unknown property '${name}'`);
  if (p.contentType !== undefined) out.contentType = text(p.contentType, 'contentType');
  if (p.responseTopic !== undefined) {
    const topic = text(p.responseTopic, 'responseTopic');
    const problem = topicNameProblem(topic);
    if (problem) throw bad(`invalid response topic '${topic}': ${problem}`);
    out.responseTopic = topic;
  }
  if (p.correlationData !== undefined)
    out.correlationData = Buffer.from(text(p.correlationData, 'correlationData'), 'utf8');
  if (p.messageExpiryInterval !== undefined) {
    const n = p.messageExpiryInterval;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 0xffffffff)
      throw bad("'properties.messageExpiryInterval' must be a whole number of seconds, 1 to 4294967295");
    out.messageExpiryInterval = n;
  }
  if (p.userProperties !== undefined) {
    // Pairs, in order, a name may repeat (MQTT allows it): [["site","lab"],["site","attic"]].
    const pairs = p.userProperties;
    if (!Array.isArray(pairs) || pairs.length > MAX_USER_PROPERTIES)
      throw bad(
        `'properties.userProperties' must be a list of at most ${MAX_USER_PROPERTIES} [name, value] pairs`,
      );
    const users: Record<string, string | string[]> = {};
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw bad('each user property must be a [name, value] pair');
      const name = text(pair[0], 'userProperties name');
      const value = text(pair[1], 'userProperties value');
      if (name === '') throw bad('a user property needs a name');
      const had = users[name];
      users[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
    if (pairs.length > 0) out.userProperties = users;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
