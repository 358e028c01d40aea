import { aedes } from './aedes.js';
import { mosquitto, mosquittoNodelay } from './mosquitto.js';
import { mothership, mothershipHub } from './mothership.js';
import type { BrokerLauncher } from './types.js';

/** The brokers `npm run bench` compares, in the order they run. */
export const launchers: BrokerLauncher[] = [mothership, mosquitto, aedes];
/** Variants that run only when named with `--only`. */
export const optionalLaunchers: BrokerLauncher[] = [mosquittoNodelay, mothershipHub];

export type { BrokerLauncher, BrokerStartOptions, RunningBroker } from './types.js';
export { BrokerUnavailable } from './types.js';
