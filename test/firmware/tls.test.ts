// config.json's TLS CA, end to end: certificates from `mothership certs`, a real `mothership up -c`
// with a TLS-only listener, the firmware unchanged on the real interpreter, and the seeds'
// mosquitto_sub/mosquitto_pub with --cafile. The WebAssembly port has no ssl module: the harness's
// tls/ssl shims hand what the firmware passed (CA bytes, host name, verify mode) to a real Node TLS
// handshake over the board's TCP connection, so a CA that does not match fails for real.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Board, FIRMWARE_DIR } from '../../src/devices/sim/board.js';
import { type RunningCli, runCli, startCli } from '../helpers/cli.js';
import { freePort, waitForPort } from './harness/broker.js';
import { AP, boardConfig } from './harness/config.js';
import { mosquittoPub, mosquittoSub, type Sub } from './harness/seeds.js';

let dir: string;
let port: number;
let broker: RunningCli;
/** ca.crt of the CA that signed the broker's certificate, and of another CA made the same way. */
let goodCa: string;
let wrongCa: string;
const boards: Board[] = [];
const subs: Sub[] = [];

async function certs(out: string): Promise<void> {
  const r = await runCli(['certs', '--out', out], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`mothership certs failed: ${r.stdout}${r.stderr}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fw-tls-'));
  await Promise.all([certs(join(dir, 'good')), certs(join(dir, 'other'))]);
  goodCa = readFileSync(join(dir, 'good', 'ca.crt'), 'utf8');
  wrongCa = readFileSync(join(dir, 'other', 'ca.crt'), 'utf8');
  port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `certfile ${join(dir, 'good', 'server.crt')}`,
      `keyfile ${join(dir, 'good', 'server.key')}`,
      'allow_anonymous true',
      'persistence false',
      '',
    ].join('\n'),
  );
  broker = startCli(['up', '-c', conf, '--no-ws', '--no-mdns'], dir);
  await broker.waitFor(/mqtts:\/\/127\.0\.0\.1:\d+/, 15_000);
  await waitForPort(port);
}, 40_000);

afterAll(async () => {
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(boards.splice(0).map((b) => b.stop()));
  for (const s of subs.splice(0)) s.stop();
});

const cafile = () => join(dir, 'good', 'ca.crt');

async function sub(args: string[]): Promise<Sub> {
  const s = await mosquittoSub(port, ['--cafile', cafile(), ...args]);
  subs.push(s);
  return s;
}

/** A board running the seed-003 app whose config.json says broker.ca = "ca.crt". */
async function tlsBoard(device: string, host: string, caFile: string | Uint8Array | null): Promise<Board> {
  const config = boardConfig(device, port, { interval_ms: 300 });
  const broker = config.broker as Record<string, unknown>;
  broker.host = host;
  if (caFile === null) broker.tls = true;
  else broker.ca = 'ca.crt';
  const b = await Board.start({
    app: 'mothership',
    config,
    accessPoints: { [AP.ssid]: AP.password },
    files: caFile === null ? {} : { 'ca.crt': caFile },
  });
  boards.push(b);
  return b;
}

const WRONG_CA_LINE =
  "mqtt: connect failed: ValueError('\\nThe certificate is not correctly signed by the trusted CA\\n',)";

const der = (pem: string) => new X509Certificate(pem).raw.toString('hex');

describe('TLS with the CA from `mothership certs` (config.json broker.ca)', () => {
  it('connects to the TLS listener, verifying the broker with the CA file, and runs the app', async () => {
    const s = await sub(['-v', '-t', 'to_mothership', '-t', 'tls-board/status']);
    const b = await tlsBoard('tls-board', 'localhost', goodCa);
    await b.waitFor(/^mqtt: up 1$/, 10_000);

    // What the firmware handed to ssl: the CA from config.json's file (PEM turned into DER by
    // lib/broker_tls.py), the configured host, CERT_REQUIRED. Node verified the chain with it.
    // config.json on the board names the file that holds `mothership certs`' ca.crt
    const ca = "json.load(open('config.json'))['broker']['ca']";
    expect(await b.eval(ca, 'import json')).toBe('ca.crt');
    expect(await b.eval(`open(${ca}).read()`, 'import json')).toBe(goodCa);
    expect(b.tls).toHaveLength(1);
    const h = b.tls[0];
    expect(h.ca).toBe(der(goodCa));
    expect(h.hostname).toBe('localhost');
    expect(h.verifyMode).toBe(2);
    expect(h.ok).toBe(true);
    expect(h.authorized).toBe(true);
    expect(h.error).toBeNull();
    expect(h.protocol).toMatch(/^TLSv1\.[23]$/);

    // the seeds' clients, over TLS with --cafile, see and reach the board
    await s.waitFor(/^to_mothership Test to mothership #2$/, 10_000);
    await s.waitFor(/^tls-board\/status online$/, 5000);
    await mosquittoPub(port, ['--cafile', cafile(), '-t', 'from_mothership', '-m', 'over tls']);
    await b.waitFor(/^\('from_mothership', b'over tls'\)$/, 5000);
    await mosquittoPub(port, ['--cafile', cafile(), '-t', 'from_mothership', '-m', 'received']);
    await b.waitFor(/^ESP received notification from mothership!$/, 5000);
    expect(s.lines.filter((l) => l.startsWith('to_mothership ')).slice(0, 3)).toEqual([
      'to_mothership Test to mothership #0',
      'to_mothership Test to mothership #1',
      'to_mothership Test to mothership #2',
    ]);
    expect(b.lines.some((l) => /connect failed/.test(l.text))).toBe(false);
    expect(b.resets).toBe(0);
  }, 30_000);

  it('takes the CA as DER too, and verifies an IP address against the certificate', async () => {
    const d = new X509Certificate(goodCa).raw;
    const b = await tlsBoard('tls-der', '127.0.0.1', new Uint8Array(d));
    await b.waitFor(/^mqtt: up 1$/, 10_000);
    expect(b.tls).toHaveLength(1);
    expect(b.tls[0]).toMatchObject({ ca: d.toString('hex'), hostname: '127.0.0.1', verifyMode: 2, ok: true });
    expect(b.tls[0].authorized).toBe(true);
  }, 20_000);

  it('refuses a broker whose certificate the configured CA did not sign, and backs off without resetting', async () => {
    const s = await sub(['-v', '-t', 'tls-wrong/#']);
    const b = await tlsBoard('tls-wrong', 'localhost', wrongCa);
    const t0 = Date.now();
    // backoff_min_ms 200 doubling to backoff_max_ms 2000: 6 attempts take at most ~5 s of sleep
    await b.waitFor(/^mqtt: connecting to/, 5000);
    const deadline = Date.now() + 12_000;
    // What MicroPython's mbedTLS binding raises for a chain the CA did not sign (extmod/modtls_mbedtls.c:
    // mbedtls_x509_crt_verify_info's text, one line per reason, as a ValueError)
    const failedLines = () => b.lines.filter((l) => l.text === WRONG_CA_LINE);
    while ((b.tls.length < 6 || failedLines().length < 6) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const elapsed = Date.now() - t0;

    expect(b.tls.length).toBeGreaterThanOrEqual(6);
    for (const h of b.tls) {
      // the firmware passed the CA its config.json points at (the wrong one), and Node's
      // verification of the broker's chain against it failed
      expect(h.ca).toBe(der(wrongCa));
      expect(h.verifyMode).toBe(2);
      expect(h.ok).toBe(false);
      expect(h.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
    }
    const failed = failedLines();
    expect(failed.length).toBeGreaterThanOrEqual(6);
    expect(b.lines.some((l) => /^mqtt: up/.test(l.text))).toBe(false);
    // each refused connection was closed before the next attempt
    expect(b.maxOpenSockets).toBe(1);
    // firmware/README tells the user the line they will see
    expect(readFileSync(join(FIRMWARE_DIR, 'README.md'), 'utf8')).toContain(WRONG_CA_LINE);

    // exponential backoff with jitter: the k-th wait is in [d/2, d] with d = min(2000, 200 * 2^(k-1))
    const tries = b.lines.filter((l) => /^mqtt: connecting to/.test(l.text)).map((l) => l.t);
    const gaps = tries.slice(1, 6).map((t, i) => t - tries[i]);
    gaps.forEach((gap, i) => {
      const d = Math.min(2000, 200 * 2 ** i);
      expect(gap).toBeGreaterThanOrEqual(d / 2 - 20);
      expect(gap).toBeLessThanOrEqual(d + 600);
    });
    expect(elapsed).toBeLessThan(12_000);

    // never a reset, and the watchdog was fed while waiting
    expect(b.resets).toBe(0);
    expect(b.wdtFired).toBe(false);
    expect(await b.eval('main.client.connected')).toBe(false);
    // nothing of this board ever reached the broker
    await mosquittoPub(port, ['--cafile', cafile(), '-t', 'tls-wrong/probe', '-m', 'x']);
    await s.waitFor(/^tls-wrong\/probe x$/, 5000);
    expect(s.lines.filter((l) => /^tls-wrong\//.test(l) && !l.startsWith('tls-wrong/probe'))).toEqual([]);
  }, 30_000);

  it('"tls": true without a CA encrypts without verifying (CERT_NONE)', async () => {
    const b = await tlsBoard('tls-noca', 'localhost', null);
    await b.waitFor(/^mqtt: up 1$/, 10_000);
    expect(b.tls).toHaveLength(1);
    expect(b.tls[0]).toMatchObject({ ca: null, verifyMode: 0, ok: true, authorized: false });
  }, 20_000);
});
