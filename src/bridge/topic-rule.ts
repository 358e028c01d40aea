/**
 * A bridge's `topic pattern [in|out|both] [qos] [local-prefix] [remote-prefix]` line, read with
 * mosquitto's rules (man mosquitto.conf, "topic"): `""` is the empty placeholder; the prefixes are
 * prepended to the pattern on their side and swapped when a message crosses; an empty pattern maps one
 * local topic to one remote topic, so both prefixes are then required.
 */
import type { QoS } from '../broker/types.js';
import { topicFilterProblem, topicMatches, topicNameProblem } from '../protocol/topic.js';

export type Direction = 'in' | 'out' | 'both';

export interface TopicRule {
  pattern: string;
  direction: Direction;
  qos: QoS;
  localPrefix: string;
  remotePrefix: string;
  /** The filter subscribed on the local broker (`out`, `both`): local prefix + pattern. */
  localFilter: string;
  /** The filter subscribed on the remote broker (`in`, `both`): remote prefix + pattern. */
  remoteFilter: string;
}

export const topicForm =
  'a topic pattern, then optionally in, out or both, a QoS 0..2, a local prefix and a remote prefix ("" for none)';

/** `""` is mosquitto's placeholder for an empty pattern or prefix. */
function unquote(word: string | undefined): string {
  return word === undefined || word === '""' ? '' : word;
}

/** The rule a `topic` line's words describe, or a message saying what is wrong with them. */
export function parseTopicRule(args: readonly string[]): TopicRule | string {
  if (args.length < 1 || args.length > 5) return 'expected 1 to 5 words';
  const [patternWord, dirWord, qosWord, localWord, remoteWord] = args;
  const pattern = unquote(patternWord);
  const direction = (dirWord ?? 'out') as Direction;
  if (direction !== 'in' && direction !== 'out' && direction !== 'both')
    return `direction must be in, out or both, got '${dirWord}'`;
  const qos = qosWord === undefined ? 0 : Number(qosWord);
  if (qos !== 0 && qos !== 1 && qos !== 2) return `QoS must be 0, 1 or 2, got '${qosWord}'`;
  const localPrefix = unquote(localWord);
  const remotePrefix = unquote(remoteWord);
  for (const [side, prefix] of [
    ['local', localPrefix],
    ['remote', remotePrefix],
  ] as const) {
    if (prefix !== '' && /[+#]/.test(prefix)) return `the ${side} prefix '${prefix}' may not hold wildcards`;
  }
  if (pattern === '') {
    // One local topic remapped to one remote topic: both are named in full.
    if (localPrefix === '' || remotePrefix === '')
      return 'an empty pattern ("") needs both a local and a remote topic';
    for (const t of [localPrefix, remotePrefix]) {
      const problem = topicNameProblem(t);
      if (problem) return `'${t}' is not a valid topic: ${problem}`;
    }
  } else {
    for (const f of [localPrefix + pattern, remotePrefix + pattern]) {
      const problem = topicFilterProblem(f);
      if (problem) return `'${f}' is not a valid topic filter: ${problem}`;
    }
  }
  return {
    pattern,
    direction,
    qos,
    localPrefix,
    remotePrefix,
    localFilter: localPrefix + pattern,
    remoteFilter: remotePrefix + pattern,
  };
}

export function carriesOut(rule: TopicRule): boolean {
  return rule.direction !== 'in';
}

export function carriesIn(rule: TopicRule): boolean {
  return rule.direction !== 'out';
}

/** The remote topic for a local one, by the first outgoing rule that matches it; undefined: none does. */
export function toRemote(rules: readonly TopicRule[], localTopic: string): string | undefined {
  for (const r of rules) {
    if (!carriesOut(r) || !topicMatches(r.localFilter, localTopic)) continue;
    return r.remotePrefix + localTopic.slice(r.localPrefix.length);
  }
  return undefined;
}

/** The local topic for a remote one, by the first incoming rule that matches it; undefined: none does. */
export function toLocal(rules: readonly TopicRule[], remoteTopic: string): string | undefined {
  for (const r of rules) {
    if (!carriesIn(r) || !topicMatches(r.remoteFilter, remoteTopic)) continue;
    return r.localPrefix + remoteTopic.slice(r.remotePrefix.length);
  }
  return undefined;
}
