/**
 * Who may connect without a username. mosquitto's `allow_anonymous` is true or false; Mothership adds
 * 'lan' (its zero-config default, or `allow_anonymous lan`): anonymous clients are accepted from this
 * machine, from private, link-local and unique-local networks and from the subnets of this machine's
 * own interfaces, never from anywhere else.
 */
import { BlockList, isIP } from 'node:net';
import { interfaceSubnets } from './interface-subnets.js';

export type AnonymousPolicy = 'everyone' | 'nobody' | 'lan';

/** `allow_anonymous true|false|lan`; undefined (not decided by a config) is 'lan'. */
export function anonymousPolicy(allowAnonymous: boolean | 'lan' | undefined): AnonymousPolicy {
  if (allowAnonymous === undefined || allowAnonymous === 'lan') return 'lan';
  return allowAnonymous ? 'everyone' : 'nobody';
}

const local = new BlockList();
local.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
local.addSubnet('10.0.0.0', 8, 'ipv4'); // RFC 1918
local.addSubnet('172.16.0.0', 12, 'ipv4');
local.addSubnet('192.168.0.0', 16, 'ipv4');
local.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local
local.addAddress('::1', 'ipv6');
local.addSubnet('fe80::', 10, 'ipv6'); // link-local
local.addSubnet('fc00::', 7, 'ipv6'); // unique local

/** Loopback, RFC 1918, link-local or IPv6 unique-local (not counting this machine's subnets)? */
export function isPrivateAddress(address: string): boolean {
  return inList(local, address);
}

function inList(list: BlockList, address: string): boolean {
  const bare = address.replace(/%.*$/, ''); // fe80::1%eth0: the zone does not change the address
  const family = isIP(bare);
  if (family === 0) return false;
  return list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * A private address (see isPrivateAddress) or one on a subnet of this machine's interfaces?
 * IPv4-mapped IPv6 forms (::ffff:10.0.0.2) count as their IPv4 address; anything unparseable is not
 * local. `subnets` is for tests; by default the interfaces as they are now.
 */
export function isLocalNetworkAddress(address: string, subnets: BlockList = interfaceSubnets()): boolean {
  return inList(local, address) || inList(subnets, address);
}

export function anonymousAllowed(policy: AnonymousPolicy, remoteAddress: string): boolean {
  if (policy === 'everyone') return true;
  if (policy === 'nobody') return false;
  return isLocalNetworkAddress(remoteAddress);
}
