import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listInterfaceSubnets } from '../../../src/broker/auth/interface-subnets.js';
import {
  anonymousAllowed,
  anonymousPolicy,
  isLocalNetworkAddress,
  isPrivateAddress,
} from '../../../src/broker/auth/network-policy.js';

describe('anonymous policy from allow_anonymous', () => {
  it('true is everyone, false is nobody, unset is lan', () => {
    expect(anonymousPolicy(true)).toBe('everyone');
    expect(anonymousPolicy(false)).toBe('nobody');
    expect(anonymousPolicy(undefined)).toBe('lan');
    expect(anonymousPolicy('lan')).toBe('lan');
  });

  it('everyone and nobody ignore the address', () => {
    expect(anonymousAllowed('everyone', '8.8.8.8')).toBe(true);
    expect(anonymousAllowed('nobody', '127.0.0.1')).toBe(false);
  });
});

describe("the 'lan' default", () => {
  const local = [
    '127.0.0.1',
    '127.255.0.9',
    '::1',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.0.6',
    '192.168.1.5',
    '169.254.10.20',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:192.168.1.5',
    '::ffff:127.0.0.1',
    '::ffff:10.1.2.3',
  ];
  const remote = [
    '8.8.8.8',
    '172.15.255.255',
    '172.32.0.1',
    '192.169.0.1',
    '11.0.0.1',
    '169.255.0.1',
    '100.64.0.1',
    '2001:db8::1',
    '2a00:1450::1',
    'fec0::1',
    '::ffff:8.8.8.8',
    '::ffff:172.32.0.1',
    '::',
    '0.0.0.0',
    '',
    'not-an-address',
  ];
  for (const a of local)
    it(`accepts anonymous clients from ${a}`, () => expect(anonymousAllowed('lan', a)).toBe(true));
  for (const a of remote)
    it(`refuses anonymous clients from ${JSON.stringify(a)}`, () =>
      expect(isLocalNetworkAddress(a)).toBe(false));
});

describe("this machine's interface subnets count as local", () => {
  it('an address on a subnet of one of our interfaces is local, whatever its range', () => {
    const subnets = new BlockList();
    subnets.addSubnet('100.64.5.1', 24, 'ipv4'); // an ISP-assigned / campus block, not a private range
    expect(isLocalNetworkAddress('100.64.5.77', subnets)).toBe(true);
    expect(isLocalNetworkAddress('::ffff:100.64.5.77', subnets)).toBe(true);
    expect(isLocalNetworkAddress('100.64.6.1', subnets)).toBe(false);
    expect(isPrivateAddress('100.64.5.77')).toBe(false);
  });

  it('reads os.networkInterfaces() into subnets with their prefix lengths', () => {
    const list = listInterfaceSubnets({
      eth0: [
        {
          address: '100.64.5.1',
          netmask: '255.255.255.0',
          family: 'IPv4',
          mac: '',
          internal: false,
          cidr: '100.64.5.1/24',
        },
        {
          address: 'fe80::1',
          netmask: 'ffff:ffff:ffff:ffff::',
          family: 'IPv6',
          mac: '',
          internal: false,
          cidr: 'fe80::1/64',
          scopeid: 2,
        },
      ],
    });
    expect(list).toEqual([
      { address: '100.64.5.1', prefix: 24, family: 'ipv4', internal: false, name: 'eth0' },
      { address: 'fe80::1', prefix: 64, family: 'ipv6', internal: false, name: 'eth0' },
    ]);
  });
});
