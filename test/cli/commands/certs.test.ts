import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseCertsFlags } from '../../../src/cli/commands/certs.js';
import { main } from '../../../src/cli/main.js';
import { describeCertificate } from '../../../src/transport/certificates.js';
import { run } from '../../interop/helpers/process.js';

// `mothership certs` run in-process through the CLI entry point, its files checked with Node's X509
// and Debian's openssl.

const root = mkdtempSync(join(tmpdir(), 'ms-certs-cmd-'));
let n = 0;
let dir: string;
let out: string;
let err: string;

beforeEach(() => {
  dir = join(root, `run${n++}`, 'certs');
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function certs(...args: string[]): Promise<number> {
  out = '';
  err = '';
  return main(['certs', ...args]);
}

const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
const x509 = (name: string): X509Certificate => new X509Certificate(read(name));

/** One line on stderr, no stack trace. */
function expectOneLineError(text: string, pattern: RegExp): void {
  expect(text).toMatch(/^mothership certs: /);
  expect(text.trimEnd().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).toMatch(pattern);
}

describe('mothership certs', () => {
  it('makes a CA and a server certificate for this machine names and addresses', async () => {
    expect(await certs('--out', dir)).toBe(0);
    expect(err).toBe('');
    for (const f of ['ca.crt', 'ca.key', 'server.crt', 'server.key'])
      expect(existsSync(join(dir, f))).toBe(true);
    expect(statSync(join(dir, 'ca.key')).mode & 0o077).toBe(0);
    expect(statSync(join(dir, 'server.key')).mode & 0o077).toBe(0);

    const ca = x509('ca.crt');
    const server = x509('server.crt');
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkPrivateKey((await import('node:crypto')).createPrivateKey(read('server.key')))).toBe(
      true,
    );

    const host = hostname();
    for (const name of [host, `${host.split('.')[0]}.local`, 'localhost'])
      expect(server.checkHost(name)).toBe(name);
    expect(server.checkHost('not-this-machine.example')).toBeUndefined();
    const addresses = ['127.0.0.1', '::1'];
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) addresses.push(a.address.split('%')[0] as string);
    for (const a of addresses) expect(server.checkIP(a), a).toBe(a);

    // Debian's OpenSSL agrees, strict mode included.
    const v = await run('openssl', [
      'verify',
      '-x509_strict',
      '-CAfile',
      join(dir, 'ca.crt'),
      join(dir, 'server.crt'),
    ]);
    expect(v.stdout).toContain(': OK');
    expect(v.code).toBe(0);
  });

  it('prints the mosquitto.conf lines, the client commands and the board steps', async () => {
    expect(await certs('--out', dir)).toBe(0);
    expect(out).toContain('listener 8883');
    expect(out).toContain(`certfile ${join(dir, 'server.crt')}`);
    expect(out).toContain(`keyfile ${join(dir, 'server.key')}`);
    expect(out).toContain(`cafile ${join(dir, 'ca.crt')}`);
    expect(out).toContain(`mothership sub --cafile ${join(dir, 'ca.crt')}`);
    expect(out).toMatch(/mothership sub --cafile \S+ -h \S+ -p 8883 -t '#'/);
    expect(out).toMatch(/mosquitto_sub --cafile \S+ -h \S+ -p 8883 -t '#'/);
    expect(out).toContain(`mpremote cp ${join(dir, 'ca.crt')} :ca.crt`);
    expect(out).toContain('"ca": "ca.crt"');
    expect(out).not.toContain('require_certificate');
  });

  it('prints an IP-address variant beside the .local one, with an address the server certificate holds', async () => {
    expect(await certs('--out', dir)).toBe(0);
    const byName = out.match(/mosquitto_sub --cafile \S+ -h (\S+\.local) -p 8883/);
    const byAddress = out.match(/mosquitto_sub --cafile \S+ -h (\d+\.\d+\.\d+\.\d+|[0-9a-f:]+) -p 8883/);
    expect(byName).not.toBeNull();
    expect(byAddress).not.toBeNull();
    const cert = describeCertificate(readFileSync(join(dir, 'server.crt'), 'utf8'));
    expect(cert.ipAddresses).toContain(byAddress![1]);
    expect(out).toContain(`"broker": {"host": "${byAddress![1]}", "port": 8883, "ca": "ca.crt"}`);
  });

  it('tells to add listener 8883 next to the existing listeners, keeping 1883 and 8080', async () => {
    expect(await certs('--out', dir)).toBe(0);
    expect(out).toMatch(/next to the listeners it has/);
    expect(out).toMatch(/ {2}listener 1883\n {2}listener 8080\n {2}protocol websockets\n {2}listener 8883\n/);
  });

  it('refuses to overwrite an existing CA without --force, and changes nothing', async () => {
    expect(await certs('--out', dir)).toBe(0);
    const before = [read('ca.crt'), read('ca.key'), read('server.crt')];
    expect(await certs('--out', dir)).toBe(1);
    expectOneLineError(err, /already exist.*--renew.*--force/);
    expect([read('ca.crt'), read('ca.key'), read('server.crt')]).toEqual(before);
  });

  it('re-issues a missing server certificate with the existing CA', async () => {
    expect(await certs('--out', dir)).toBe(0);
    const ca = read('ca.crt');
    const oldServer = x509('server.crt');
    unlinkSync(join(dir, 'server.crt'));
    expect(await certs('--out', dir)).toBe(0);
    expect(out).toContain('existing CA (kept)');
    expect(read('ca.crt')).toBe(ca);
    const server = x509('server.crt');
    expect(server.serialNumber).not.toBe(oldServer.serialNumber);
    expect(server.verify(new X509Certificate(ca).publicKey)).toBe(true);
  });

  it('--renew re-issues the server certificate and keeps the CA; --force replaces the CA', async () => {
    expect(await certs('--out', dir)).toBe(0);
    const ca = read('ca.crt');
    const serial = x509('server.crt').serialNumber;
    expect(await certs('--out', dir, '--renew')).toBe(0);
    expect(read('ca.crt')).toBe(ca);
    expect(x509('server.crt').serialNumber).not.toBe(serial);

    expect(await certs('--out', dir, '--force')).toBe(0);
    expect(read('ca.crt')).not.toBe(ca);
    expect(x509('server.crt').verify(x509('ca.crt').publicKey)).toBe(true);
    expect(x509('server.crt').verify(new X509Certificate(ca).publicKey)).toBe(false);
  });

  it('--client NAME issues a client certificate with CN=NAME, also later with the existing CA', async () => {
    expect(await certs('--out', dir, '--client', 'board-1')).toBe(0);
    const c1 = x509('client-board-1.crt');
    expect(c1.subject).toContain('CN=board-1');
    expect(c1.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    expect(c1.verify(x509('ca.crt').publicKey)).toBe(true);
    expect(statSync(join(dir, 'client-board-1.key')).mode & 0o077).toBe(0);
    expect(out).toContain('require_certificate true');
    expect(out).toContain('use_identity_as_username true');
    expect(out).toMatch(
      /mosquitto_sub --cafile \S+ --cert \S+client-board-1\.crt --key \S+client-board-1\.key/,
    );

    // A second board later: the CA and server certificate stay as they are.
    const ca = read('ca.crt');
    const server = read('server.crt');
    expect(await certs('--out', dir, '--client', 'board-2')).toBe(0);
    expect(read('ca.crt')).toBe(ca);
    expect(read('server.crt')).toBe(server);
    expect(x509('client-board-2.crt').subject).toContain('CN=board-2');

    // The same client again needs --renew.
    expect(await certs('--out', dir, '--client', 'board-2')).toBe(1);
    expectOneLineError(err, /client-board-2\.crt.*already exists.*--renew/);
  });

  it('bad flags are one clear line each', async () => {
    expect(await certs('--bogus')).toBe(1);
    expectOneLineError(err, /unknown option '--bogus'/);
    expect(await certs('--out')).toBe(1);
    expectOneLineError(err, /--out needs a value/);
    expect(await certs('--client', 'a b/../c', '--out', dir)).toBe(1);
    expectOneLineError(err, /--client needs a name/);
    expect(existsSync(dir)).toBe(false);
  });

  it('an unwritable --out is one line naming the folder', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(await certs('--out', join(file, 'certs'))).toBe(1);
    expectOneLineError(err, new RegExp(`cannot write certificates to '${file}/certs': not a directory`));
  });

  it('a damaged existing CA is one line saying what is wrong', async () => {
    expect(await certs('--out', dir)).toBe(0);
    unlinkSync(join(dir, 'server.crt'));
    writeFileSync(join(dir, 'ca.crt'), 'garbage\n');
    expect(await certs('--out', dir)).toBe(1);
    expectOneLineError(err, /ca\.crt' is not a PEM certificate.*--force/);

    unlinkSync(join(dir, 'ca.crt'));
    expect(await certs('--out', dir)).toBe(1);
    expectOneLineError(err, /cannot read the CA.*no such file.*--force/);
  });

  it('a CA key that does not belong to ca.crt is refused', async () => {
    expect(await certs('--out', dir)).toBe(0);
    const other = join(root, `other${n}`);
    expect(await certs('--out', other)).toBe(0);
    writeFileSync(join(dir, 'ca.key'), readFileSync(join(other, 'ca.key')));
    expect(await certs('--out', dir, '--renew')).toBe(1);
    expectOneLineError(err, /ca\.key' is not the private key of/);
  });

  it('reads flags with node:util parseArgs: --out=DIR as well as --out DIR, -o, repeated --san', () => {
    expect(parseCertsFlags(['--out=a', '--san', 'x', '--san', '10.0.0.2', '-o', 'b'])).toMatchObject({
      out: 'b',
      san: ['x', '10.0.0.2'],
    });
    expect(() => parseCertsFlags(['--out='])).toThrow(/--out needs a value/);
    expect(() => parseCertsFlags(['--renew=yes'])).toThrow(/unknown option '--renew=yes'/);
  });

  it('--help prints the options; the default folder is ./mothership-data/certs', async () => {
    expect(await certs('--help')).toBe(0);
    expect(out).toContain('--out DIR');
    expect(out).toContain('--client NAME');
    expect(parseCertsFlags([])).toMatchObject({ out: './mothership-data/certs', renew: false, force: false });
  });
});
