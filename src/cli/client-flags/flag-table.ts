/**
 * Every flag of `mothership pub` and `mothership sub`, one entry each: its spellings, which tool knows
 * it, whether it takes a value (and mosquitto's word for a missing one), what it does, and its help
 * lines. The parser, the "unknown option" and "no value" errors and the usage text all read this
 * table, so a flag is added or changed here only. Help texts are mosquitto_pub/sub 2.0's where they
 * have one. Order: the order the help lists them in.
 */
import type { Flag } from './flag.js';
import { LONG_FLAGS } from './long-flags.js';
import { SHORT_FLAGS } from './short-flags.js';

export type { Flag } from './flag.js';

export const FLAGS: readonly Flag[] = [...SHORT_FLAGS, ...LONG_FLAGS];
