import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import forge from 'node-forge';

/**
 * Certificates for TLS listeners: a local certificate authority, a server certificate for this machine's
 * names and LAN addresses, and client certificates (CN = the client's name) for `require_certificate`
 * and `use_identity_as_username`. Pure functions over PEM text; `mothership certs` does the file work.
 *
 * RSA 2048 with SHA-256, because that is what every client we meet verifies: OpenSSL (mosquitto_sub),
 * Node, browsers, Android apps, and mbedTLS on the ESP32 (MicroPython's `ssl`).
 */

export interface KeyPairPem {
  /** PEM `CERTIFICATE`. */
  cert: string;
  /** PEM `RSA PRIVATE KEY` (PKCS#1), as mosquitto, Node and MicroPython read it. */
  key: string;
}

export interface CaOptions {
  commonName?: string;
  /** Validity in days; 10 years by default. */
  days?: number;
  /** Start of validity (one hour earlier is used, for clock skew); now by default. */
  now?: Date;
}

export interface ServerCertOptions {
  commonName: string;
  /** DNS subjectAltNames: hostname, hostname.local, localhost... */
  dnsNames: string[];
  /** IP subjectAltNames (IPv4 and IPv6). */
  ipAddresses: string[];
  /** Validity in days; 825 by default (the most Apple clients accept). */
  days?: number;
  now?: Date;
}

export interface ClientCertOptions {
  /** Becomes the subject CN, which `use_identity_as_username` turns into the MQTT username. */
  commonName: string;
  /** Validity in days; 825 by default. */
  days?: number;
  now?: Date;
}

export interface CertificateSummary {
  subjectCommonName: string | undefined;
  issuerCommonName: string | undefined;
  isCa: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
}

const DAY_MS = 86_400_000;

function randomSerial(): string {
  // 16 random bytes, first bit cleared so the DER INTEGER stays positive (RFC 5280 §4.1.2.2).
  const bytes = forge.random.getBytesSync(16);
  const hex = forge.util.bytesToHex(bytes);
  return ((Number.parseInt(hex.slice(0, 2), 16) & 0x7f) | 0x01).toString(16).padStart(2, '0') + hex.slice(2);
}

function validity(cert: forge.pki.Certificate, days: number, now: Date | undefined): void {
  const start = (now ?? new Date()).getTime() - 3_600_000;
  cert.validity.notBefore = new Date(start);
  cert.validity.notAfter = new Date(start + days * DAY_MS);
}

function newKeys(): forge.pki.rsa.KeyPair {
  // forge hands this to node:crypto's native generator when it is there (it is, on Node 20).
  return forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
}

function parsePair(ca: KeyPairPem): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const cert = forge.pki.certificateFromPem(ca.cert);
  const key = forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey;
  return { cert, key };
}

function toPem(cert: forge.pki.Certificate, keys: forge.pki.rsa.KeyPair): KeyPairPem {
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A new self-signed certificate authority (CA:TRUE, keyCertSign) and its private key. */
export function createCertificateAuthority(options: CaOptions = {}): KeyPairPem {
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, options.days ?? 3650, options.now);
  const subject = [
    { name: 'commonName', value: options.commonName ?? 'Mothership local CA' },
    { name: 'organizationName', value: 'Mothership' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return toPem(cert, keys);
}

function issue(
  ca: KeyPairPem,
  commonName: string,
  days: number,
  now: Date | undefined,
  extensions: object[],
): KeyPairPem {
  const signer = parsePair(ca);
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, days, now);
  cert.setSubject([
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Mothership' },
  ]);
  cert.setIssuer(signer.cert.subject.attributes);
  const caKeyId = signer.cert.generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caKeyId },
  ]);
  cert.sign(signer.key, forge.md.sha256.create());
  return toPem(cert, keys);
}

/** A server certificate signed by `ca`, valid for the given DNS names and IP addresses. */
export function issueServerCertificate(ca: KeyPairPem, options: ServerCertOptions): KeyPairPem {
  const altNames = [
    ...unique(options.dnsNames).map((value) => ({ type: 2, value })),
    ...unique(options.ipAddresses).map((ip) => ({ type: 7, ip })),
  ];
  return issue(ca, options.commonName, options.days ?? 825, options.now, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
}

/** A client certificate signed by `ca` with subject CN = `commonName`. */
export function issueClientCertificate(ca: KeyPairPem, options: ClientCertOptions): KeyPairPem {
  return issue(ca, options.commonName, options.days ?? 825, options.now, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((v) => v.length > 0))];
}

/** The DNS names a board or a client may use for this machine: hostname, hostname.local, localhost. */
export function machineNames(hostname: string): string[] {
  const short = hostname.trim().replace(/\.$/, '');
  const names: string[] = [];
  if (short && isIP(short) === 0) {
    names.push(short);
    const base = short.endsWith('.local') ? short : `${short.split('.')[0]}.local`;
    names.push(base);
  }
  names.push('localhost');
  return unique(names);
}

/**
 * Every address of this machine from `os.networkInterfaces()` (IPv4 and IPv6, link-local included,
 * without a zone), plus 127.0.0.1 and ::1.
 */
export function machineAddresses(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> | Record<string, NetworkInterfaceInfo[] | undefined>,
): string[] {
  const out = ['127.0.0.1', '::1'];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      const address = a.address.split('%')[0] ?? '';
      if (isIP(address) !== 0) out.push(address);
    }
  }
  return unique(out);
}

/** What a PEM certificate says: names, addresses, validity, whether it is a CA. */
export function describeCertificate(pem: string): CertificateSummary {
  const cert = forge.pki.certificateFromPem(pem);
  const cn = (attrs: forge.pki.CertificateField[]): string | undefined => {
    const v = attrs.find((a) => a.shortName === 'CN' || a.name === 'commonName')?.value;
    return typeof v === 'string' ? v : undefined;
  };
  const san = cert.getExtension('subjectAltName') as {
    altNames?: { type: number; value?: string; ip?: string }[];
  } | null;
  const bc = cert.getExtension('basicConstraints') as { cA?: boolean } | null;
  return {
    subjectCommonName: cn(cert.subject.attributes),
    issuerCommonName: cn(cert.issuer.attributes),
    isCa: !!bc?.cA,
    dnsNames: (san?.altNames ?? []).filter((n) => n.type === 2).map((n) => n.value ?? ''),
    ipAddresses: (san?.altNames ?? []).filter((n) => n.type === 7).map((n) => n.ip ?? ''),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    serialNumber: cert.serialNumber,
  };
}

/** Whether `cert` was signed by `ca` (signature and issuer name). */
export function isIssuedBy(cert: string, ca: string): boolean {
  try {
    return forge.pki.certificateFromPem(ca).verify(forge.pki.certificateFromPem(cert));
  } catch {
    return false;
  }
}

/** Whether a PEM private key belongs to a PEM certificate. */
export function keyMatchesCertificate(key: string, cert: string): boolean {
  try {
    const pub = forge.pki.certificateFromPem(cert).publicKey as forge.pki.rsa.PublicKey;
    const priv = forge.pki.privateKeyFromPem(key) as forge.pki.rsa.PrivateKey;
    return pub.n.equals(priv.n) && pub.e.equals(priv.e);
  } catch {
    return false;
  }
}
