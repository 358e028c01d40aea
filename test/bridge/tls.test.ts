import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate } from '../../src/transport/certificates.js';
import { cleanup, eventually, node, scratch } from './helpers.js';

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  await cleanup();
  for (const s of sockets) s.destroy();
  sockets.clear();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/**
 * A TLS front for a plain MQTT port, as a cloud broker's load balancer is: it records the server name
 * each client asked for (SNI) and serves the certificate for `localhost`.
 */
async function tlsFront(targetPort: number, ca: ReturnType<typeof createCertificateAuthority>) {
  const server = issueServerCertificate(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: [],
  });
  const names: (string | undefined)[] = [];
  const front = tls.createServer({ cert: server.cert, key: server.key }, (socket) => {
    names.push(socket.servername || undefined);
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(socket).add(upstream);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  servers.push(front);
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  return { port: (front.address() as net.AddressInfo).port, names };
}

/** A remote behind a TLS front whose certificate `ca` signed, and a hub bridging to it trusting `trusted`. */
async function bridgeOverTls(trusted: 'same CA' | 'another CA') {
  const ca = createCertificateAuthority({ commonName: 'Test CA' });
  const trust = trusted === 'same CA' ? ca : createCertificateAuthority({ commonName: 'Somebody else' });
  const dir = await scratch();
  await writeFile(join(dir, 'ca.pem'), trust.cert);
  const remote = await node();
  const front = await tlsFront(remote.port, ca);
  const hub = await node(
    [
      'connection cloud',
      `address localhost:${front.port}`,
      'bridge_cafile ca.pem',
      'restart_timeout 1 2',
      'topic a/# out 1',
    ],
    dir,
  );
  return { hub, front };
}

describe('a bridge over TLS', () => {
  it('verifies the remote against bridge_cafile and sends the host name as SNI', async () => {
    const { hub, front } = await bridgeOverTls('same CA');
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect over TLS');
    expect(front.names).toContain('localhost');
  });

  it('refuses a remote whose certificate its CA did not sign, and says so', async () => {
    const { hub } = await bridgeOverTls('another CA');
    const s = await eventually(() => {
      const st = hub.m.bridges.status()[0];
      return st?.lastError ? st : undefined;
    }, 'the TLS failure');
    expect(s.connected).toBe(false);
    expect(s.lastError).toMatch(/certificate/i);
  });
});
