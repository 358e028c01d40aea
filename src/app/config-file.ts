/** The config file `mothership up -c` reads: the broker's directives plus every feature's. */
import { bridgeDirectives, bridgesOf, checkBridges } from '../bridge/bridge-directives.js';
import type { DirectiveTable } from '../config/directive-table.js';
import { brokerDirectiveTable, type LoadedConfig, loadConfig } from '../config/mosquitto-conf.js';
import type { ParseState } from '../config/parse-state.js';
import { historyDirectives } from '../hub/history/history-directives.js';

/** Every directive Mothership understands; a feature folder's directives are registered here. */
export function mothershipDirectives(): DirectiveTable<ParseState> {
  return brokerDirectiveTable().register(...historyDirectives, ...bridgeDirectives);
}

export async function loadMothershipConfig(path: string): Promise<LoadedConfig> {
  const config = await loadConfig(path, mothershipDirectives());
  checkBridges(bridgesOf(config));
  return config;
}
