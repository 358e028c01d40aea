/**
 * The subnets of this machine's own network interfaces, as `os.networkInterfaces()` reports them.
 * A LAN is not always a private range (a campus or an ISP-assigned block is public), but a board on
 * the same subnet as one of our interfaces is on the local network whatever its range.
 */
import { BlockList, isIP } from 'node:net';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

export interface InterfaceSubnet {
  /** The interface's own address (zone stripped). */
  address: string;
  /** Prefix length: 24 for 255.255.255.0. */
  prefix: number;
  family: 'ipv4' | 'ipv6';
  internal: boolean;
  /** Interface name, e.g. `eth0`. */
  name: string;
}

export function listInterfaceSubnets(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): InterfaceSubnet[] {
  const out: InterfaceSubnet[] = [];
  for (const [name, list] of Object.entries(interfaces)) {
    for (const a of list ?? []) {
      const prefix = Number(a.cidr?.split('/')[1]);
      const address = a.address.replace(/%.*$/, '');
      if (!Number.isInteger(prefix) || isIP(address) === 0) continue;
      out.push({
        address,
        prefix,
        family: a.family === 'IPv4' ? 'ipv4' : 'ipv6',
        internal: a.internal,
        name,
      });
    }
  }
  return out;
}

/** Interfaces come and go (DHCP, Wi-Fi); a few seconds of staleness is fine for a CONNECT check. */
const CACHE_MS = 5000;
let cached: { at: number; list: BlockList } | undefined;

/** This machine's interface subnets as a BlockList, re-read at most every few seconds. */
export function interfaceSubnets(now = Date.now()): BlockList {
  if (cached && now - cached.at < CACHE_MS) return cached.list;
  const list = new BlockList();
  for (const s of listInterfaceSubnets()) list.addSubnet(s.address, s.prefix, s.family);
  cached = { at: now, list };
  return list;
}
