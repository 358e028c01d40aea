import { connect } from 'node:net';
import { findBroker } from '../transport/mdns.js';

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

/** True when something accepts connections on localhost:port within `ms`. */
function listeningLocally(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * A broker on this machine wins at once (no delay, as mosquitto's tools behave); otherwise the first
 * `_mqtt._tcp` service announced within `timeoutMs`, or undefined. MOTHERSHIP_NO_MDNS=1 skips the
 * lookup entirely: tests must never send multicast.
 */
export async function discoverBroker(
  localPort = 1883,
  timeoutMs: number = DISCOVERY_TIMEOUT_MS,
): Promise<DiscoveredBroker | undefined> {
  if (process.env.MOTHERSHIP_NO_MDNS === '1') return undefined;
  if (await listeningLocally(localPort, 200)) return undefined;
  try {
    const found = await findBroker({ timeoutMs });
    return found ? { host: found.host, port: found.port } : undefined;
  } catch {
    return undefined;
  }
}
