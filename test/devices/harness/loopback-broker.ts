// The broker provisioned boards connect to: Mothership's composition root in this process, on
// loopback and an ephemeral port (or the listeners of a config file), nothing persisted.
import { loadMothershipConfig } from '../../../src/app/config-file.js';
import { type Mothership, startMothership } from '../../../src/app/mothership.js';

export async function startLoopbackBroker(configFile?: string): Promise<Mothership> {
  const config = configFile ? await loadMothershipConfig(configFile) : undefined;
  return startMothership({
    ...(config ? { config } : { port: 0, wsPort: undefined, host: '127.0.0.1' }),
    mdns: false,
    hub: false,
    persistence: false,
    logFormat: 'json',
  });
}
