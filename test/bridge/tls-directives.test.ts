/**
 * bridge_cafile, bridge_capath, bridge_certfile/bridge_keyfile and bridge_insecure end to end: Debian's
 * mosquitto as the TLS remote (requiring a client certificate, as AWS IoT does, where the case needs it).
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  type KeyPairPem,
} from '../../src/transport/certificates.js';
import { type LaunchedBroker, launchMosquitto } from '../helpers/mosquitto.js';
import { cleanup, client, eventually, type Node, node, scratch } from './helpers.js';

const remotes: LaunchedBroker[] = [];
afterEach(async () => {
  await cleanup();
  for (const r of remotes.splice(0)) await r.close();
});

/** The remote's CA, made once: RSA key generation is the slow part on a loaded machine. */
const ca = createCertificateAuthority({ commonName: 'Remote CA' });
const stranger = createCertificateAuthority({ commonName: 'Somebody else' });
const hubCert = issueClientCertificate(ca, { commonName: 'home-hub' });

/** mosquitto on TLS with `server`'s certificate; with `requireCertificate`, only clients `ca` signed get in. */
async function tlsMosquitto(server: KeyPairPem, requireCertificate = false): Promise<LaunchedBroker> {
  const dir = await scratch();
  // mosquitto started as root reads its files as the `mosquitto` user it drops to.
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'ca.pem'), ca.cert, { mode: 0o644 });
  await writeFile(join(dir, 'server.pem'), server.cert, { mode: 0o644 });
  await writeFile(join(dir, 'server.key'), server.key, { mode: 0o644 });
  const remote = await launchMosquitto({
    dir,
    config: [
      'cafile ca.pem',
      'certfile server.pem',
      'keyfile server.key',
      ...(requireCertificate
        ? ['require_certificate true', 'use_identity_as_username true', 'allow_anonymous false']
        : ['allow_anonymous true']),
      'persistence false',
    ],
  });
  remotes.push(remote);
  return remote;
}

const forLoopback = () =>
  issueServerCertificate(ca, { commonName: '127.0.0.1', dnsNames: [], ipAddresses: ['127.0.0.1'] });

/** A hub bridging `a/#` out to the remote on `port`, these TLS lines in its connection block. */
function hubTo(port: number, dir: string, ...tls: string[]): Promise<Node> {
  return node(
    [
      'connection cloud',
      `address 127.0.0.1:${port}`,
      'remote_clientid home-hub',
      'restart_timeout 1 2',
      'topic a/# out 1',
      ...tls,
    ],
    dir,
  );
}

/** Resolves once the bridge is connected; fails at once with its lastError (each case here is deterministic). */
const connected = (hub: Node) =>
  eventually(() => {
    const s = hub.m.bridges.status()[0];
    if (s?.lastError && !s.connected) throw new Error(`the bridge did not connect: ${s.lastError}`);
    return s?.connected;
  }, 'the bridge to connect over TLS');

/** The bridge's status once it has a lastError (it must not be connected then). */
async function refusal(hub: Node) {
  const s = await eventually(() => {
    const st = hub.m.bridges.status()[0];
    return st?.lastError ? st : undefined;
  }, 'the bridge to fail');
  expect(s.connected).toBe(false);
  return s.lastError!;
}

async function withCa(...files: [string, string][]): Promise<string> {
  const dir = await scratch();
  for (const [name, text] of files) await writeFile(join(dir, name), text);
  return dir;
}

/** A hub bridging to `port` with bridge_cafile and `certificate` as bridge_certfile/bridge_keyfile. */
async function hubWithCertificate(port: number, certificate: KeyPairPem): Promise<Node> {
  const dir = await withCa(['ca.pem', ca.cert], ['hub.pem', certificate.cert], ['hub.key', certificate.key]);
  return hubTo(port, dir, 'bridge_cafile ca.pem', 'bridge_certfile hub.pem', 'bridge_keyfile hub.key');
}

describe('bridge_certfile and bridge_keyfile (mutual TLS, as AWS IoT wants it)', () => {
  it('let the bridge in to a remote that requires a client certificate, and messages cross', async () => {
    const remote = await tlsMosquitto(forLoopback(), true);
    const hub = await hubWithCertificate(remote.port, hubCert);
    await connected(hub);

    // A watcher on the remote, with its own certificate from the same CA.
    const watcherCert = issueClientCertificate(ca, { commonName: 'watcher' });
    const watcher = await client(`mqtts://127.0.0.1:${remote.port}`, {
      ca: ca.cert,
      cert: watcherCert.cert,
      key: watcherCert.key,
      protocolVersion: 4,
    });
    const got = new Promise<string>((resolve) => watcher.on('message', (_t, p) => resolve(p.toString())));
    await watcher.subscribeAsync('a/#', { qos: 1 });
    const board = await client(hub.url);
    await board.publishAsync('a/temp', '21.5', { qos: 1 });
    expect(await got).toBe('21.5');
  });

  it('without them the remote refuses the bridge, and lastError says a client certificate is wanted', async () => {
    const remote = await tlsMosquitto(forLoopback(), true);
    const dir = await withCa(['ca.pem', ca.cert]);
    const hub = await hubTo(remote.port, dir, 'bridge_cafile ca.pem');
    expect(await refusal(hub)).toMatch(/client certificate/i);
    expect(hub.m.bridges.status()[0]?.lastError).toMatch(/bridge_certfile/);
  });

  it('with a certificate the remote does not trust, lastError names that certificate', async () => {
    const remote = await tlsMosquitto(forLoopback(), true);
    const foreign = issueClientCertificate(stranger, { commonName: 'home-hub' });
    const hub = await hubWithCertificate(remote.port, foreign);
    expect(await refusal(hub)).toMatch(/remote refused the client certificate of bridge_certfile .*hub\.pem/);
  });
});

describe('bridge_capath', () => {
  /** A folder holding `cert` only under its OpenSSL subject hash name (<hash>.0), as c_rehash leaves it. */
  async function hashedFolder(cert: string): Promise<string> {
    const dir = await scratch();
    const pem = join(dir, 'ca.pem');
    await writeFile(pem, cert);
    const hash = execFileSync('openssl', ['x509', '-subject_hash', '-noout', '-in', pem]).toString().trim();
    const capath = join(dir, 'certs');
    await mkdir(capath);
    await writeFile(join(capath, `${hash}.0`), cert);
    return capath;
  }

  it('verifies the remote with the CA found under its hash name', async () => {
    const remote = await tlsMosquitto(forLoopback());
    const hub = await hubTo(remote.port, await scratch(), `bridge_capath ${await hashedFolder(ca.cert)}`);
    await connected(hub);
  });

  it('refuses the remote when the folder has no CA that signed it', async () => {
    const remote = await tlsMosquitto(forLoopback());
    const hub = await hubTo(
      remote.port,
      await scratch(),
      `bridge_capath ${await hashedFolder(stranger.cert)}`,
    );
    expect(await refusal(hub)).toMatch(/certificate/i);
  });
});

describe('bridge_insecure', () => {
  const otherHost = () =>
    issueServerCertificate(ca, { commonName: 'other.example', dnsNames: ['other.example'], ipAddresses: [] });

  it('off: a certificate issued for another host name is refused', async () => {
    const remote = await tlsMosquitto(otherHost());
    const hub = await hubTo(remote.port, await withCa(['ca.pem', ca.cert]), 'bridge_cafile ca.pem');
    expect(await refusal(hub)).toMatch(/does not match|altnames/i);
  });

  it('on: the host name is not checked, so that certificate is accepted', async () => {
    const remote = await tlsMosquitto(otherHost());
    const dir = await withCa(['ca.pem', ca.cert]);
    const hub = await hubTo(remote.port, dir, 'bridge_cafile ca.pem', 'bridge_insecure true');
    await connected(hub);
  });

  it('on: the chain is still verified, so a certificate from an unknown CA is refused', async () => {
    const remote = await tlsMosquitto(otherHost());
    const dir = await withCa(['ca.pem', stranger.cert]);
    const hub = await hubTo(remote.port, dir, 'bridge_cafile ca.pem', 'bridge_insecure true');
    expect(await refusal(hub)).toMatch(/certificate/i);
  });
});
