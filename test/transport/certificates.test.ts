import { X509Certificate } from 'node:crypto';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  describeCertificate,
  isIssuedBy,
  issueClientCertificate,
  issueServerCertificate,
  keyMatchesCertificate,
  machineAddresses,
  machineNames,
} from '../../src/transport/certificates.js';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '00:00:00:00:00:00', cidr: null }) as NetworkInterfaceInfo;

describe('machine names and addresses for the server certificate', () => {
  it('hostname, hostname.local and localhost', () => {
    expect(machineNames('pi')).toEqual(['pi', 'pi.local', 'localhost']);
    expect(machineNames('pi.lan')).toEqual(['pi.lan', 'pi.local', 'localhost']);
    expect(machineNames('pi.local')).toEqual(['pi.local', 'localhost']);
    expect(machineNames('')).toEqual(['localhost']);
  });

  it('every interface address without its zone, plus 127.0.0.1 and ::1, once each', () => {
    const addresses = machineAddresses({
      lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
      wlan0: [iface('192.168.1.20', 'IPv4'), iface('fe80::1%wlan0', 'IPv6')],
      eth0: [iface('10.0.0.5', 'IPv4')],
    });
    expect(addresses).toEqual(['127.0.0.1', '::1', '192.168.1.20', 'fe80::1', '10.0.0.5']);
  });
});

describe('certificates', () => {
  const ca = createCertificateAuthority({ commonName: 'Test CA' });

  it('the CA is a CA, self-signed, RSA 2048 with SHA-256', () => {
    const c = new X509Certificate(ca.cert);
    expect(c.ca).toBe(true);
    expect(c.checkIssued(c)).toBe(true);
    expect(c.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(describeCertificate(ca.cert)).toMatchObject({ isCa: true, subjectCommonName: 'Test CA' });
    expect(keyMatchesCertificate(ca.key, ca.cert)).toBe(true);
  });

  it('a server certificate carries the names and addresses, signed by the CA', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const s = issueServerCertificate(ca, {
      commonName: 'pi',
      dnsNames: ['pi', 'pi.local', 'localhost', 'pi'],
      ipAddresses: ['127.0.0.1', '::1', '192.168.1.20'],
      now,
    });
    const c = new X509Certificate(s.cert);
    expect(c.checkHost('pi.local')).toBe('pi.local');
    expect(c.checkIP('192.168.1.20')).toBe('192.168.1.20');
    expect(c.checkIP('::1')).toBe('::1');
    expect(c.checkIP('192.168.1.21')).toBeUndefined();
    expect(c.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    expect(isIssuedBy(s.cert, ca.cert)).toBe(true);
    expect(isIssuedBy(s.cert, createCertificateAuthority().cert)).toBe(false);
    const d = describeCertificate(s.cert);
    expect(d.dnsNames).toEqual(['pi', 'pi.local', 'localhost']);
    expect(d.ipAddresses).toEqual(['127.0.0.1', '::1', '192.168.1.20']);
    expect(d.isCa).toBe(false);
    expect(d.issuerCommonName).toBe('Test CA');
    // One hour of slack for clocks behind, 825 days of validity.
    expect(d.notBefore.getTime()).toBe(now.getTime() - 3_600_000);
    expect(d.notAfter.getTime() - d.notBefore.getTime()).toBe(825 * 86_400_000);
  });

  it('a client certificate has CN=name and clientAuth; serials differ', () => {
    const a = issueClientCertificate(ca, { commonName: 'board-1' });
    const b = issueClientCertificate(ca, { commonName: 'board-1' });
    const c = new X509Certificate(a.cert);
    expect(c.subject).toContain('CN=board-1');
    expect(c.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(c.serialNumber).not.toBe(new X509Certificate(b.cert).serialNumber);
    expect(keyMatchesCertificate(a.key, a.cert)).toBe(true);
    expect(keyMatchesCertificate(b.key, a.cert)).toBe(false);
    expect(keyMatchesCertificate('not a key', a.cert)).toBe(false);
  });
});
