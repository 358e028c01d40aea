/** What a flag of `mothership pub`/`sub` is (see flag-table.ts), and the small helpers entries share. */
import { atoi } from './c-numbers.js';
import { topicFilterError } from './flag-values.js';
import type { ClientKind, ClientOptions, PubMode } from './options.js';

/** What a flag's apply gives: nothing (go on), mosquitto's error text, an answer, or -D's last index. */
export type Applied = undefined | string | { answer: 'help' | 'version' } | { last: number };

/** Help lines without their indent; per tool where the two tools word it differently. */
export type Help = readonly string[] | Readonly<Record<ClientKind, readonly string[]>>;

export interface Flag {
  /** The name the help shows, then the other spellings mosquitto accepts. */
  names: readonly [string, ...string[]];
  tools: readonly ClientKind[];
  /** Set when the flag takes a value: what mosquitto says is missing ("no topic"). */
  value?: string;
  /** The name mosquitto's missing-value message uses, where it is not the first. */
  reportedAs?: string;
  /** `value` is the next argument (or '' when the flag takes none); `at` is the flag's index in `args`. */
  apply(opts: ClientOptions, value: string, args: readonly string[], at: number): Applied;
  help: Help;
  /** Where a tool's help lists this flag right after another one instead of in table order. */
  listedAfter?: Partial<Record<ClientKind, string>>;
}

export const BOTH: readonly ClientKind[] = ['pub', 'sub'];
export const PUB: readonly ClientKind[] = ['pub'];
export const SUB: readonly ClientKind[] = ['sub'];

/** The options of type T exactly (a boolean, or a free string): what `set` and `keep` may write. */
type KeysOf<T> = {
  [K in keyof ClientOptions]-?: [T] extends [ClientOptions[K]]
    ? [ClientOptions[K]] extends [T | undefined]
      ? K
      : never
    : never;
}[keyof ClientOptions];
type Toggle = KeysOf<boolean>;
type Text = KeysOf<string>;

/** A flag that sets a boolean option. */
export const set =
  (key: Toggle, to = true) =>
  (o: ClientOptions): Applied => {
    o[key] = to;
    return undefined;
  };

/** A flag whose value is kept as given. */
export const keep =
  (key: Text) =>
  (o: ClientOptions, v: string): Applied => {
    o[key] = v;
    return undefined;
  };

/** pub's -f/-l/-m/-n/-s: one message source only. */
export const source =
  (mode: PubMode, then: (o: ClientOptions, v: string) => Applied = () => undefined) =>
  (o: ClientOptions, v: string): Applied => {
    if (o.pubMode !== 'none') return 'Error: Only one type of message can be sent at once.\n\n';
    o.pubMode = mode;
    return then(o, v);
  };

/** A value mosquitto's tools accept and mothership refuses, after the same missing-value check. */
export const unsupported = (flag: string) => (): Applied =>
  `Error: ${flag} is not supported by mothership.\n\n`;

/** -C, -W, --repeat: a count of at least 1, read as C's atoi reads it. */
export const count =
  (key: 'msgCount' | 'timeoutSec' | 'repeatCount', error: (n: number) => string) =>
  (o: ClientOptions, v: string): Applied => {
    o[key] = atoi(v);
    return o[key] < 1 ? error(o[key]) : undefined;
  };

/** -T, -U: one more topic filter for a list. */
export const filters =
  (key: 'filterOuts' | 'unsubTopics', flag: string, what: string) =>
  (o: ClientOptions, v: string): Applied => {
    const err = topicFilterError(v, flag, what);
    if (!err) o[key].push(v);
    return err;
  };
