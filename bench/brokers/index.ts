import { aedes } from './aedes.js';
import { mosquitto } from './mosquitto.js';
import { mothership } from './mothership.js';
import type { BrokerLauncher } from './types.js';

/** The brokers `npm run bench` compares, in the order they run. */
export const launchers: BrokerLauncher[] = [mothership, mosquitto, aedes];

export type { BrokerLauncher, BrokerStartOptions, RunningBroker } from './types.js';
export { BrokerUnavailable } from './types.js';
