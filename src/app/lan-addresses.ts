import { listInterfaceSubnets } from '../broker/auth/interface-subnets.js';

/** This machine's non-loopback IPv4 addresses, the ones a board on the same Wi-Fi can reach. */
export function lanAddresses(): string[] {
  return listInterfaceSubnets()
    .filter((s) => s.family === 'ipv4' && !s.internal)
    .map((s) => s.address);
}
