/**
 * Topic names and topic filters as MQTT defines them (MQTT 5.0 section 4.7, 3.1.1 section 4.7).
 * Validation returns a reason instead of throwing so the broker can pick the right reason code.
 */

const MAX_TOPIC_BYTES = 65535;

/** Why a topic name or filter is invalid, or undefined when it is valid. */
export type TopicProblem = 'empty' | 'too-long' | 'null-character' | 'wildcard-in-name' | 'bad-wildcard';

/** [MQTT-4.7.3-1] non-empty, [MQTT-4.7.3-2] no U+0000, [MQTT-3.3.2-2] no wildcards in a PUBLISH topic. */
export function topicNameProblem(topic: string): TopicProblem | undefined {
  if (topic.length === 0) return 'empty';
  if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) return 'too-long';
  if (topic.includes('\u0000')) return 'null-character';
  if (topic.includes('+') || topic.includes('#')) return 'wildcard-in-name';
  return undefined;
}

/** [MQTT-4.7.1-2] `#` alone and last, [MQTT-4.7.1-3] `+` occupies a whole level. */
export function topicFilterProblem(filter: string): TopicProblem | undefined {
  if (filter.length === 0) return 'empty';
  if (Buffer.byteLength(filter) > MAX_TOPIC_BYTES) return 'too-long';
  if (filter.includes('\u0000')) return 'null-character';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'bad-wildcard';
    if (level.includes('+') && level !== '+') return 'bad-wildcard';
  }
  return undefined;
}

/**
 * Does `filter` match `topic`? [MQTT-4.7.2-1]: topics starting with `$` are not matched by a filter
 * whose first level is a wildcard.
 */
export function topicMatches(filter: string, topic: string): boolean {
  return levelsMatch(filter.split('/'), topic);
}

/**
 * `topicMatches` for a filter already split into levels, walking the topic in place without
 * splitting it: matching one filter against many topics (retained messages) allocates nothing.
 */
export function levelsMatch(filterLevels: readonly string[], topic: string): boolean {
  const first = filterLevels[0];
  if (topic.startsWith('$') && (first === '+' || first === '#')) return false;
  let start = 0;
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i]!;
    if (level === '#') return true;
    if (start > topic.length) return false;
    let end = topic.indexOf('/', start);
    if (end === -1) end = topic.length;
    if (level !== '+' && (level.length !== end - start || !topic.startsWith(level, start))) return false;
    start = end + 1;
  }
  return start > topic.length;
}

export interface SharedFilter {
  group: string;
  filter: string;
}

/** `$share/<group>/<filter>` (MQTT 5.0 4.8.2); undefined when `filter` is not a shared subscription. */
export function parseSharedFilter(filter: string): SharedFilter | 'invalid' | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return 'invalid';
  const group = rest.slice(0, slash);
  const inner = rest.slice(slash + 1);
  if (group.includes('+') || group.includes('#') || inner.length === 0) return 'invalid';
  return { group, filter: inner };
}

/**
 * Can some topic name match both filters? Level by level: `#` matches the rest (and the parent level:
 * `a/#` matches `a`), `+` any one level, anything else only itself; wildcards at the first level never
 * match a `$` topic (MQTT 4.7.2).
 */
export function topicFiltersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  if ((x[0]!.startsWith('$') || y[0]!.startsWith('$')) && x[0] !== y[0]) return false;
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    // Both ended: the same topic matches both; one ended (and the other is not at `#`): none does.
    if (p === undefined || q === undefined) return p === q;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
}
