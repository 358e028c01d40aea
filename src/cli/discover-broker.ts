/**
 * Finding a broker on the LAN over mDNS (`_mqtt._tcp`) when `mothership pub`/`sub` get no -h or -L,
 * so a newcomer's commands work without knowing the broker's address.
 */

export interface DiscoveredBroker {
  host: string;
  port: number;
}

/** How long a lookup may delay the command before it falls back to localhost. */
export const DISCOVERY_TIMEOUT_MS = 1500;

/**
 * Resolves the first `_mqtt._tcp` service within `timeoutMs`, or undefined.
 * MOTHERSHIP_NO_MDNS=1 skips it entirely: tests must never send multicast.
 */
export async function discoverBroker(
  _timeoutMs: number = DISCOVERY_TIMEOUT_MS,
): Promise<DiscoveredBroker | undefined> {
  if (process.env.MOTHERSHIP_NO_MDNS === '1') return undefined;
  // The mDNS browser lands separately; until then callers fall back to localhost as mosquitto does.
  return undefined;
}
