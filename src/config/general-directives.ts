/** Persistence, logging, mDNS and include_dir: the rest of what `mothership up` reads itself. */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCodes, MothershipError } from '../errors.js';
import { type LogType, logTypes } from './config-types.js';
import type { Directive } from './directive-table.js';
import { at } from './lexer.js';
import type { ParseState } from './parse-state.js';

const MAX_INCLUDE_DEPTH = 8;
const logDestForm = 'stdout, stderr, syslog, topic, dlt, none or file <path>';

export const generalDirectives: Directive<ParseState>[] = [
  {
    name: 'persistence',
    scope: 'global',
    form: 'true or false',
    apply(v, state) {
      state.config.persistence = v.bool();
    },
  },
  {
    name: 'persistence_location',
    scope: 'global',
    form: 'a folder path',
    apply(v, state) {
      state.config.persistenceLocation = v.path('a folder path');
    },
  },
  {
    name: 'autosave_interval',
    scope: 'global',
    form: 'an integer number of seconds (0: only on exit)',
    apply(v, state) {
      state.config.autosaveInterval = v.int(
        0,
        2_147_483_647,
        'an integer number of seconds (0: only on exit)',
      );
    },
  },
  {
    name: 'persistence_durability',
    scope: 'global',
    form: 'every-message, grouped or periodic',
    apply(v, state) {
      const { rest } = v.line;
      if (rest !== 'every-message' && rest !== 'grouped' && rest !== 'periodic')
        throw v.invalid('every-message, grouped or periodic');
      state.config.durability = rest;
    },
  },
  {
    name: 'persistence_commit_delay',
    scope: 'global',
    form: 'an integer 0..1000 (milliseconds)',
    apply(v, state) {
      state.config.commitDelayMs = v.int(0, 1000, 'an integer 0..1000 (milliseconds)');
    },
  },
  {
    name: 'log_dest',
    scope: 'global',
    form: logDestForm,
    apply(v, state) {
      const [kind, ...more] = v.line.args;
      if (kind === 'file') {
        const path = v.line.rest.slice('file'.length).trim();
        if (path === '') throw v.invalid(logDestForm);
        state.config.log.dest.push({ type: 'file', path: resolve(v.line.folder, path) });
        return;
      }
      if (more.length > 0 || !['stdout', 'stderr', 'syslog', 'topic', 'dlt', 'none'].includes(kind ?? ''))
        throw v.invalid(logDestForm);
      if (kind === 'syslog' || kind === 'topic' || kind === 'dlt')
        state.config.warnings.push(v.note(`log_dest ${kind} is not supported yet; ignored`));
      state.config.log.dest.push({ type: kind as 'stdout' });
    },
  },
  {
    name: 'log_type',
    scope: 'global',
    form: logTypes.join(', '),
    apply(v, state) {
      const word = v.one(logTypes.join(', '));
      if (!(logTypes as readonly string[]).includes(word))
        throw v.invalid(`one of ${logTypes.join(', ')}`, word);
      state.config.log.types.push(word as LogType);
    },
  },
  {
    name: 'mdns',
    scope: 'global',
    form: 'true or false',
    apply(v, state) {
      state.config.mdns = v.bool();
    },
  },
  {
    name: 'include_dir',
    scope: 'global',
    form: 'a folder path',
    apply(v, state) {
      const dir = v.path('a folder path');
      if (state.depth >= MAX_INCLUDE_DEPTH) throw v.invalid(`nested at most ${MAX_INCLUDE_DEPTH} deep`);
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => n.endsWith('.conf'));
      } catch (err) {
        throw new MothershipError(
          ErrorCodes.CONFIG_FILE_UNREADABLE,
          `${at(v.where)}: cannot read include_dir ${dir}`,
          { cause: err },
        );
      }
      for (const name of names.sort()) {
        state.depth++;
        try {
          state.include(join(dir, name), v.where);
        } finally {
          state.depth--;
        }
      }
    },
  },
];
