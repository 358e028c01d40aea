import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts } from '../../src/cli/commands/certs.js';
import { Broker, type ClientInfo, ErrorCodes, isMothershipError, type TlsFiles } from '../../src/index.js';
import { createCertificateAuthority } from '../../src/transport/certificates.js';
import { killAll, run, start } from '../interop/helpers/process.js';

// Real TLS end to end: certificates from `mothership certs`, our broker on an ephemeral loopback port,
// Debian's mosquitto_sub/mosquitto_pub (OpenSSL) and MQTT.js (Node TLS) as clients.

let dir: string;
let files: { ca: string; cert: string; key: string; clientCert: string; clientKey: string; otherCa: string };
const brokers: Broker[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ms-tls-'));
  makeCerts(
    { out: join(dir, 'certs'), client: 'board-7', san: [], renew: false, force: false },
    { hostname: 'mothership-test', addresses: ['127.0.0.1', '::1'] },
  );
  const c = join(dir, 'certs');
  // A second, unrelated CA: what a client has when it was not given ours.
  const other = createCertificateAuthority({ commonName: 'Somebody else' });
  const otherCa = join(dir, 'other-ca.crt');
  writeFileSync(otherCa, other.cert);
  files = {
    ca: join(c, 'ca.crt'),
    cert: join(c, 'server.crt'),
    key: join(c, 'server.key'),
    clientCert: join(c, 'client-board-7.crt'),
    clientKey: join(c, 'client-board-7.key'),
    otherCa,
  };
});

afterEach(async () => {
  killAll();
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function tlsBroker(
  extra: Partial<TlsFiles> = {},
  protocol: 'mqtt' | 'websockets' = 'mqtt',
): Promise<{ broker: Broker; port: number }> {
  const broker = new Broker({ sysInterval: 0 });
  brokers.push(broker);
  const listener = await broker.listen({
    port: 0,
    host: '127.0.0.1',
    protocol,
    tls: { certfile: files.cert, keyfile: files.key, cafile: files.ca, ...extra },
  });
  return { broker, port: listener.port };
}

function subscribed(broker: Broker, clientIdPrefix: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (clientId: string): void => {
      if (clientId.startsWith(clientIdPrefix)) {
        broker.off('subscribe', on);
        resolve();
      }
    };
    broker.on('subscribe', on);
  });
}

/** mosquitto_sub for one message, mosquitto_pub of it, both over TLS; returns what the subscriber printed. */
async function exchange(port: number, extraArgs: string[] = [], broker?: Broker): Promise<string> {
  const common = ['--cafile', files.ca, '-h', 'localhost', '-p', String(port), ...extraArgs];
  const ready = broker ? subscribed(broker, 'tls-sub') : undefined;
  const sub = start(
    'mosquitto_sub',
    [...common, '-i', 'tls-sub', '-t', 'tls/test', '-C', '1', '-W', '10', '-v'],
    {
      timeoutMs: 12_000,
    },
  );
  if (ready) await ready;
  const pub = await run('mosquitto_pub', [...common, '-i', 'tls-pub', '-t', 'tls/test', '-m', 'over tls'], {
    timeoutMs: 10_000,
  });
  expect(pub.stderr).toBe('');
  expect(pub.code).toBe(0);
  const code = await sub.exited;
  expect(sub.stderr).toBe('');
  expect(code).toBe(0);
  return sub.stdout;
}

describe('MQTT over TLS with certificates from `mothership certs`', () => {
  it('mosquitto_sub and mosquitto_pub with --cafile ca.crt exchange a message via localhost', async () => {
    const { broker, port } = await tlsBroker();
    expect(await exchange(port, [], broker)).toBe('tls/test over tls\n');
  });

  it('a client without our CA fails certificate verification (mosquitto_sub and Node)', async () => {
    const { port } = await tlsBroker();
    const r = await run(
      'mosquitto_sub',
      [
        '-d',
        '--cafile',
        files.otherCa,
        '-h',
        'localhost',
        '-p',
        String(port),
        '-t',
        '#',
        '-C',
        '1',
        '-W',
        '5',
      ],
      { timeoutMs: 8000 },
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/certificate verify failed/i);

    // Node's default trust store does not know our CA either.
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost' }, () => {
        s.destroy();
        reject(new Error('connected without our CA'));
      });
      s.on('error', resolve);
    });
    expect(err.code).toMatch(
      /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF/,
    );
  });

  it('the server certificate names this machine: a name it does not list is refused', async () => {
    const { port } = await tlsBroker();
    const ca = readFileSync(files.ca);
    const ok = await new Promise<boolean>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'mothership-test.local' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    expect(ok).toBe(true);
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'elsewhere.example' }, () => {
        s.destroy();
        reject(new Error('accepted a name the certificate does not list'));
      });
      s.on('error', resolve);
    });
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('requireCertificate: a client certificate from `certs --client` gets in, none is refused', async () => {
    const { broker, port } = await tlsBroker({ requireCertificate: true });
    const out = await exchange(port, ['--cert', files.clientCert, '--key', files.clientKey], broker);
    expect(out).toBe('tls/test over tls\n');

    const refused = await run(
      'mosquitto_sub',
      ['--cafile', files.ca, '-h', 'localhost', '-p', String(port), '-t', '#', '-C', '1', '-W', '5'],
      { timeoutMs: 8000 },
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(broker.clients()).toEqual([]);
  });

  it('requireCertificate: a certificate signed by another CA is refused', async () => {
    const { port } = await tlsBroker({ requireCertificate: true });
    const dir2 = join(dir, 'other');
    makeCerts(
      { out: dir2, client: 'intruder', san: [], renew: false, force: false },
      { hostname: 'x', addresses: ['127.0.0.1'] },
    );
    const r = await run(
      'mosquitto_sub',
      [
        '--cafile',
        files.ca,
        '--cert',
        join(dir2, 'client-intruder.crt'),
        '--key',
        join(dir2, 'client-intruder.key'),
        '-h',
        'localhost',
        '-p',
        String(port),
        '-t',
        '#',
        '-C',
        '1',
        '-W',
        '5',
      ],
      { timeoutMs: 8000 },
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
  });

  it('useIdentityAsUsername: the client certificate CN becomes the username', async () => {
    const { broker, port } = await tlsBroker({ requireCertificate: true, useIdentityAsUsername: true });
    const connected = new Promise<ClientInfo>((resolve) => broker.once('client-connect', resolve));
    const sub = start(
      'mosquitto_sub',
      [
        '--cafile',
        files.ca,
        '--cert',
        files.clientCert,
        '--key',
        files.clientKey,
        '-h',
        'localhost',
        '-p',
        String(port),
        '-i',
        'cn-client',
        '-t',
        '#',
        '-W',
        '10',
      ],
      { timeoutMs: 12_000 },
    );
    const info = await connected;
    expect(info.clientId).toBe('cn-client');
    expect(broker.clients().map((c) => c.username)).toEqual(['board-7']);
    expect(info.username).toBe('board-7');
    sub.kill();
  });

  it('MQTT.js over wss:// with the CA exchanges a message', async () => {
    const { port } = await tlsBroker({}, 'websockets');
    const ca = readFileSync(files.ca);
    const client = await mqtt.connectAsync(`wss://localhost:${port}/mqtt`, {
      ca,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    try {
      const got = new Promise<[string, string]>((resolve) =>
        client.on('message', (t, p) => resolve([t, p.toString()])),
      );
      await client.subscribeAsync('wss/test', { qos: 1 });
      await client.publishAsync('wss/test', 'over wss', { qos: 1 });
      expect(await got).toEqual(['wss/test', 'over wss']);
    } finally {
      await client.endAsync();
    }
  });

  it('MQTT.js over wss:// without the CA is refused by its own verification', async () => {
    const { port } = await tlsBroker({}, 'websockets');
    await expect(
      mqtt.connectAsync(`wss://localhost:${port}/mqtt`, { reconnectPeriod: 0, connectTimeout: 5000 }),
    ).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it.each([
    ['certfile', { certfile: '/nonexistent/ms-server.crt' }],
    ['keyfile', { keyfile: '/nonexistent/ms-server.key' }],
    ['cafile', { cafile: '/nonexistent/ms-ca.crt' }],
  ] as const)('a missing %s is MS_TLS_FILE_UNREADABLE naming the file', async (what, override) => {
    const broker = new Broker({ sysInterval: 0 });
    brokers.push(broker);
    const path = Object.values(override)[0];
    for (const protocol of ['mqtt', 'websockets'] as const) {
      const err = await broker
        .listen({
          port: 0,
          host: '127.0.0.1',
          protocol,
          tls: { certfile: files.cert, keyfile: files.key, ...override },
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isMothershipError(err, ErrorCodes.TLS_FILE_UNREADABLE)).toBe(true);
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toContain(what);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
