/** The config file `mothership up -c` reads: the broker's directives plus every feature's. */
import type { DirectiveTable } from '../config/directive-table.js';
import { brokerDirectiveTable, type LoadedConfig, loadConfig } from '../config/mosquitto-conf.js';
import type { ParseState } from '../config/parse-state.js';
import { historyDirectives } from '../hub/history/history-directives.js';

/** Every directive Mothership understands; a feature folder's directives are registered here. */
export function mothershipDirectives(): DirectiveTable<ParseState> {
  return brokerDirectiveTable().register(...historyDirectives);
}

export function loadMothershipConfig(path: string): Promise<LoadedConfig> {
  return loadConfig(path, mothershipDirectives());
}
