import { startNodeBroker } from './node-broker.js';
import type { BrokerLauncher } from './types.js';

/**
 * Mothership's broker. Whether it exists is only known by loading src/index.ts, which the server
 * script does; it answers `UNAVAILABLE <why>` when there is no Broker to start.
 */
export const mothership: BrokerLauncher = {
  name: 'mothership',
  async unavailable() {
    return null;
  },
  start: (options) =>
    startNodeBroker('mothership', 'mothership-server.ts', {
      ...(options.persistence
        ? { BENCH_PERSISTENCE: '1', ...(options.diskBound ? { BENCH_INFLIGHT_WRITE_DELAY_MS: '0' } : {}) }
        : {}),
      ...(options.bridgeConfig ? { BENCH_BRIDGE: options.bridgeConfig.join('\n') } : {}),
    }),
};

/**
 * Mothership with its hub as `mothership up` runs it: device registry, topic tree and the history
 * recorder writing every message to history.db. Compared with `mothership` it gives the recorder's cost.
 */
export const mothershipHub: BrokerLauncher = {
  name: 'mothership+hub',
  async unavailable() {
    return null;
  },
  start: (options) =>
    startNodeBroker('mothership', 'mothership-server.ts', {
      BENCH_HUB: '1',
      ...(options.persistence ? { BENCH_PERSISTENCE: '1' } : {}),
    }),
};
