/** Where `mothership pub`/`sub` connect: the broker of -h/-p/-L, else one found over mDNS, else localhost. */
import type { ClientOptions } from '../client-flags/options.js';
import { discoverBroker } from '../discover-broker.js';

export interface BrokerAddress {
  host: string;
  port: number;
  tls: boolean;
}

/** -h/-p/-L as given; with neither -h nor -L, a broker found over mDNS, else localhost like mosquitto. */
export async function resolveBroker(opts: ClientOptions): Promise<BrokerAddress> {
  const useTls =
    opts.cafile !== undefined || opts.capath !== undefined || opts.tlsUseOsCerts || opts.port === 8883;
  const defaultPort = opts.cafile !== undefined || opts.capath !== undefined ? 8883 : 1883;
  if (opts.host === undefined) {
    const found = await discoverBroker(opts.port ?? defaultPort);
    if (found) return { host: found.host, port: opts.port ?? found.port, tls: useTls };
  }
  return { host: opts.host ?? 'localhost', port: opts.port ?? defaultPort, tls: useTls };
}
