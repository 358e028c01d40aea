/**
 * Who may connect without a username. mosquitto's `allow_anonymous` is true or false; when it is
 * not set, Mothership's default is 'lan': anonymous clients are accepted from this machine and
 * from private, link-local and unique-local networks, never from a public address.
 */
import { BlockList, isIP } from 'node:net';

export type AnonymousPolicy = 'everyone' | 'nobody' | 'lan';

/** `allow_anonymous true|false`, or undefined when the config does not say. */
export function anonymousPolicy(allowAnonymous: boolean | undefined): AnonymousPolicy {
  return allowAnonymous === undefined ? 'lan' : allowAnonymous ? 'everyone' : 'nobody';
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

/**
 * Loopback, RFC 1918, link-local or IPv6 unique-local? IPv4-mapped IPv6 forms (::ffff:10.0.0.2)
 * count as their IPv4 address; anything unparseable is not local.
 */
export function isLocalNetworkAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, ''); // fe80::1%eth0: the zone does not change the address
  const family = isIP(bare);
  if (family === 0) return false;
  return local.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

export function anonymousAllowed(policy: AnonymousPolicy, remoteAddress: string): boolean {
  if (policy === 'everyone') return true;
  if (policy === 'nobody') return false;
  return isLocalNetworkAddress(remoteAddress);
}
