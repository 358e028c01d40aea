/**
 * What the hub reads from the broker: its events and its inspection calls. The hub is handed the
 * broker itself (it runs in the same process and never connects as a network client); this is the
 * part of the Broker it uses, so tests and the bridge can see what it depends on.
 */
import type { Broker } from '../broker/broker.js';

export type BrokerView = Pick<
  Broker,
  | 'on'
  | 'off'
  | 'clients'
  | 'subscriptions'
  | 'sessionInfo'
  | 'retained'
  | 'publish'
  | 'disconnectClient'
  | 'sysValues'
  | 'stats'
>;
