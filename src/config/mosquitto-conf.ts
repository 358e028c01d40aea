/**
 * mosquitto.conf, read the way mosquitto 2 reads it, into a typed config for `mothership up`.
 * Each line is looked up in a table of directives (the broker's own, plus those features register);
 * paths are resolved against the folder of the file they appear in. Values we cannot honour are
 * errors naming file:line and the accepted form; directives we do not know, or know but do not
 * support yet, are warnings.
 */
import { resolve } from 'node:path';
import { ErrorCodes, MothershipError } from '../errors.js';
import { readTextFile } from '../read-file.js';
import { brokerDirectives } from './broker-directives.js';
import type { LoadedConfig } from './config-types.js';
import { DirectiveTable } from './directive-table.js';
import { generalDirectives } from './general-directives.js';
import { at, configLines, readConfigText } from './lexer.js';
import { finishListener, listenerDirectives } from './listener-directives.js';
import { ParseState } from './parse-state.js';
import { securityDirectives } from './security-directives.js';
import { unsupportedDirectives } from './unsupported-directives.js';
import { DirectiveValue } from './values.js';

export * from './config-types.js';
export { parseDuration } from './values.js';

/** The directives of the broker itself; features add theirs with `register`. */
export function brokerDirectiveTable(): DirectiveTable<ParseState> {
  return new DirectiveTable(listenerDirectives, securityDirectives, brokerDirectives, generalDirectives);
}

function readInto(state: ParseState, table: DirectiveTable<ParseState>, text: string, file: string): void {
  state.config.files.push(file);
  for (const line of configLines(text, file)) {
    const directive = table.get(line.name);
    if (!directive) {
      const { name } = line;
      if (unsupportedDirectives.has(name) || name.startsWith('plugin_opt_') || name.startsWith('auth_opt_'))
        state.config.warnings.push(
          `${at(line.where)}: '${name}' is a mosquitto directive Mothership does not support yet; ignored`,
        );
      else state.config.warnings.push(`${at(line.where)}: unknown directive '${name}'; ignored`);
      continue;
    }
    const { scope } = directive;
    if (scope !== 'global' && scope !== 'listener' && scope !== 'security' && state.block !== scope)
      throw new MothershipError(
        ErrorCodes.CONFIG_INVALID_VALUE,
        `${at(line.where)}: ${line.name} belongs in a '${scope}' block: put it after a '${scope}' line`,
      );
    directive.apply(new DirectiveValue(line), state);
    if (directive.opens) state.block = directive.opens;
  }
}

/** Parses mosquitto.conf text; `file` names it in messages and anchors relative paths. */
export function parseConfig(
  text: string,
  file: string,
  table: DirectiveTable<ParseState> = brokerDirectiveTable(),
): LoadedConfig {
  const state: ParseState = new ParseState(file, (included, from) =>
    readInto(state, table, readConfigText(included, from), included),
  );
  readInto(state, table, text, resolve(file));

  const { config } = state;
  const perListener = config.perListenerSettings;
  // As mosquitto 2: the default listener starts when nothing else is configured, or when a
  // default-listener directive (port, bind_address, ...) asked for it.
  config.listenersConfigured = state.listeners.length > 0 || state.defaultListenerUsed;
  if (state.listeners.length === 0 || state.defaultListenerUsed)
    config.listeners.push(finishListener(state.defaultListener, 'default listener', perListener));
  for (const d of state.listeners) {
    const l = finishListener(d, at(d.where), perListener);
    if (!d.skip) config.listeners.push(l);
  }
  return config;
}

/** Reads and parses a config file (and its include_dir files). */
export async function loadConfig(
  path: string,
  table: DirectiveTable<ParseState> = brokerDirectiveTable(),
): Promise<LoadedConfig> {
  const text = await readTextFile(path, 'config file', ErrorCodes.CONFIG_FILE_UNREADABLE);
  return parseConfig(text, path, table);
}
