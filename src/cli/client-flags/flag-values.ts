/**
 * What the values of mosquitto_pub/sub's flags mean, checked as client_shared.c checks them: topics and
 * filters (by src/protocol's rules), -L URLs, QoS, -x session expiry.
 */
import { topicFilterProblem, topicNameProblem } from '../../protocol/topic.js';
import { atoi, parseCInteger } from './c-numbers.js';
import { type ClientOptions, UINT32_MAX } from './options.js';

/** Node decodes argv as UTF-8, turning malformed bytes into U+FFFD. */
function isValidUtf8(s: string): boolean {
  return !s.includes('\uFFFD');
}

/** A topic name (no wildcards) given to `arg`; mosquitto's error text, or undefined when valid. */
export function topicNameError(topic: string, arg: string, what: string): string | undefined {
  if (!isValidUtf8(topic)) return `Error: Malformed UTF-8 in ${arg} argument.\n\n`;
  if (topicNameProblem(topic)) return `Error: Invalid ${what} '${topic}', does it contain '+' or '#'?\n`;
  return undefined;
}

/** A topic filter given to `arg`; mosquitto's error text, or undefined when valid. */
export function topicFilterError(filter: string, arg: string, what: string): string | undefined {
  if (!isValidUtf8(filter)) return `Error: Malformed UTF-8 in ${arg} argument.\n\n`;
  if (topicFilterProblem(filter)) {
    return `Error: Invalid ${what} '${filter}', are all '+' and '#' wildcards correct?\n`;
  }
  return undefined;
}

/** -t (or -L's topic): pub's one topic name, or one more of sub's filters. */
export function addTopic(opts: ClientOptions, topic: string, arg: string): string | undefined {
  if (opts.kind === 'pub') {
    const err = topicNameError(topic, arg, 'publish topic');
    if (!err) opts.topic = topic;
    return err;
  }
  const err = topicFilterError(topic, arg, 'subscription topic');
  if (!err) opts.topics.push(topic);
  return err;
}

/** -L mqtt(s)://[username[:password]@]host[:port]/topic */
export function parseUrl(opts: ClientOptions, raw: string): string | undefined {
  let url = raw;
  if (url.slice(0, 7).toLowerCase() === 'mqtt://') {
    url = url.slice(7);
    opts.port = 1883;
  } else if (url.slice(0, 8).toLowerCase() === 'mqtts://') {
    url = url.slice(8);
    opts.port = 8883;
    opts.tlsUseOsCerts = true;
  } else {
    return 'Error: unsupported URL scheme.\n\n';
  }
  const slash = url.indexOf('/');
  if (slash < 0) return 'Error: Invalid URL for -L argument specified - topic missing.\n';
  const err = addTopic(opts, url.slice(slash + 1), '-L topic');
  if (err) return err;
  let hostPart = url.slice(0, slash);
  const at = hostPart.indexOf('@');
  if (at >= 0) {
    const auth = hostPart.slice(0, at);
    hostPart = hostPart.slice(at + 1);
    const colon = auth.indexOf(':');
    if (colon >= 0) {
      opts.password = auth.slice(colon + 1);
      opts.username = auth.slice(0, colon);
    } else {
      opts.username = auth;
    }
  }
  const colon = hostPart.indexOf(':');
  if (colon >= 0) {
    opts.port = atoi(hostPart.slice(colon + 1));
    hostPart = hostPart.slice(0, colon);
  }
  opts.host = hostPart;
  return undefined;
}

export function parseQos(v: string): 0 | 1 | 2 | undefined {
  const q = atoi(v);
  return q === 0 || q === 1 || q === 2 ? q : undefined;
}

/** -x: seconds, -1 or ∞ for never; the interval or mosquitto's error text. */
export function parseSessionExpiry(value: string): number | string {
  if (value === '∞') return UINT32_MAX;
  const n = parseCInteger(value);
  if (n === undefined) return 'Error: session-expiry-interval not a number.\n\n';
  if (n > UINT32_MAX || n < -1) return 'Error: session-expiry-interval out of range.\n\n';
  return n === -1 ? UINT32_MAX : n;
}
