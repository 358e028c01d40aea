/**
 * The history's config directives (ours, in mosquitto.conf syntax; docs/config.md):
 *   history true|false
 *   history_include <filter>            (repeatable; default #)
 *   history_exclude <filter>            (repeatable; $SYS/# is always excluded)
 *   history_retention <filter> [raw=<duration>] [minute=<duration>] [hour=<duration>|forever]
 *   history_max_size <bytes>[kb|mb|gb]  (0: no cap; default 1gb)
 *   history_messages_per_topic <n>      (default 100)
 */
import type { Directive } from '../../config/directive-table.js';
import type { ParseState } from '../../config/parse-state.js';
import { parseDuration } from '../../config/values.js';
import { topicFilterProblem } from '../../protocol/topic.js';
import type { Retention, RetentionRule } from './options.js';

export interface HistoryConfig {
  enabled: boolean;
  include: string[] | undefined;
  exclude: string[];
  retention: RetentionRule[];
  maxBytes: number | undefined;
  messagesPerTopic: number | undefined;
}

const SECTION = 'history';

/** What `mothership up` records with no history_* lines. */
function defaultHistoryConfig(): HistoryConfig {
  return {
    enabled: true,
    include: undefined,
    exclude: [],
    retention: [],
    maxBytes: undefined,
    messagesPerTopic: undefined,
  };
}

export function historyConfig(state: { section<T>(key: string, init: () => T): T }): HistoryConfig {
  return state.section<HistoryConfig>(SECTION, defaultHistoryConfig);
}

/** The history settings a loaded config holds (the defaults when it has none). */
export function historyConfigOf(config: { sections: Map<string, unknown> } | undefined): HistoryConfig {
  return (config?.sections.get(SECTION) as HistoryConfig | undefined) ?? defaultHistoryConfig();
}

const filterForm = 'an MQTT topic filter (e.g. sensors/#)';
const retentionForm =
  'a topic filter followed by raw=, minute= and/or hour= durations (a number and h, d, w, m or y; hour= may be forever)';
const sizeForm = 'a size in bytes, optionally with kb, mb or gb (0: no cap)';

const sizeUnits: Record<string, number> = { '': 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export const historyDirectives: Directive<ParseState>[] = [
  {
    name: 'history',
    scope: 'global',
    form: 'true or false',
    apply(v, state) {
      historyConfig(state).enabled = v.bool();
    },
  },
  {
    name: 'history_include',
    scope: 'global',
    form: filterForm,
    apply(v, state) {
      const filter = v.one(filterForm);
      if (topicFilterProblem(filter)) throw v.invalid(filterForm, filter);
      const h = historyConfig(state);
      h.include = [...(h.include ?? []), filter];
    },
  },
  {
    name: 'history_exclude',
    scope: 'global',
    form: filterForm,
    apply(v, state) {
      const filter = v.one(filterForm);
      if (topicFilterProblem(filter)) throw v.invalid(filterForm, filter);
      historyConfig(state).exclude.push(filter);
    },
  },
  {
    name: 'history_retention',
    scope: 'global',
    form: retentionForm,
    apply(v, state) {
      const [filter, ...settings] = v.line.args;
      if (!filter || settings.length === 0 || topicFilterProblem(filter)) throw v.invalid(retentionForm);
      const rule: RetentionRule = { filter };
      for (const setting of settings) {
        const m = /^(raw|minute|hour)=(.+)$/.exec(setting);
        if (!m) throw v.invalid(retentionForm, setting);
        const tier = m[1] as keyof Retention;
        const seconds =
          m[2] === 'forever' && tier === 'hour' ? Number.POSITIVE_INFINITY : parseDuration(m[2]!);
        if (seconds === undefined) throw v.invalid(retentionForm, setting);
        rule[tier] = seconds * 1000;
      }
      historyConfig(state).retention.push(rule);
    },
  },
  {
    name: 'history_max_size',
    scope: 'global',
    form: sizeForm,
    apply(v, state) {
      const m = /^([0-9]{1,12})(kb|mb|gb)?$/i.exec(v.one(sizeForm));
      if (!m) throw v.invalid(sizeForm);
      historyConfig(state).maxBytes = Number(m[1]) * sizeUnits[(m[2] ?? '').toLowerCase()]!;
    },
  },
  {
    name: 'history_messages_per_topic',
    scope: 'global',
    form: 'an integer 1..10000',
    apply(v, state) {
      historyConfig(state).messagesPerTopic = v.int(1, 10_000);
    },
  },
];
