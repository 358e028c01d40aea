// `mothership sim --cafile` against `mothership up` with only a TLS listener (certificates from
// `mothership certs`), interpreter boards and light boards, each with a fault scheduled on the
// --fault timeline: it happens by itself, and the boards come back over TLS by themselves.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { mosquittoSub, type Sub } from '../../firmware/harness/seeds.js';
import { type RunningCli, runCli, startCli } from '../../helpers/cli.js';
import { type SimProcess, startSim } from './sim-process.js';

let dir: string;
let broker: RunningCli;
let port: number;
let sim: SimProcess | undefined;
const subs: Sub[] = [];
const cafile = () => join(dir, 'ca.crt');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-tls-'));
  const certs = await runCli(['certs', '--out', dir], { timeoutMs: 30_000 });
  expect(certs.code).toBe(0);
  const conf = join(dir, 'mothership.conf');
  writeFileSync(
    conf,
    [
      'listener 0 127.0.0.1',
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'allow_anonymous true',
      'persistence false',
      '',
    ].join('\n'),
  );
  broker = startCli(['up', '-c', conf, '--no-ws', '--no-mdns'], dir);
  port = Number((await broker.waitFor(/mqtts:\/\/127\.0\.0\.1:(\d+)/, 30_000))[1]);
}, 60_000);
afterEach(async () => {
  for (const s of subs.splice(0)) s.stop();
  await sim?.stop();
  sim = undefined;
});
afterAll(async () => {
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sub(args: string[]): Promise<Sub> {
  const s = await mosquittoSub(port, ['--cafile', cafile(), ...args]);
  subs.push(s);
  return s;
}

/** The output from the first line matching `re` on. */
const from = (text: string, re: RegExp) => text.slice(Math.max(0, text.search(re)));

it('interpreter boards verify the broker with --cafile (the firmware`s ca.crt) and recover from a Wi-Fi loss scheduled with --fault', async () => {
  const s = await sub(['-v', '-t', 'to_mothership', '-t', 'testincr']);
  sim = startSim(port, [
    '--cafile',
    cafile(),
    '--fast',
    '--calm',
    '--seed',
    '7',
    '--boards',
    'mothership,dht',
    '--fault',
    '20:wifi-off dht1 3',
  ]);
  await sim.waitFor(/2 interpreter boards -> 127\.0\.0\.1:\d+ \(TLS\)/, 30_000);
  await sim.waitFor(/all 2 boards online/, 90_000);
  await s.waitFor(/^to_mothership Test to mothership #\d+$/, 30_000);
  await s.waitFor(/^testincr t=-?\d+\.\dC, h=\d+\.\d%\.$/, 30_000);

  // The timeline's fault happens by itself, about 20 s after boot, and dht1 comes back over TLS.
  await sim.after(0, /wifi-off dht1 for 3 s$/, 90_000);
  await sim.after(0, /dht1: Wi-Fi back/, 30_000);
  const after = () => from(sim!.output(), /wifi-off dht1 for 3 s/);
  await sim.after(sim.output().search(/wifi-off dht1 for 3 s/), /all 2 boards online in/, 60_000);
  expect(after()).toMatch(/dht1: mqtt: (link lost|down)/);
  expect(after()).toMatch(/dht1: mqtt: up/);
  // and its readings flow again
  const n = s.lines.length;
  const deadline = Date.now() + 30_000;
  while (!s.lines.slice(n).some((l) => l.startsWith('testincr ')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  expect(s.lines.slice(n).filter((l) => l.startsWith('testincr ')).length).toBeGreaterThan(0);
  expect(sim.output()).not.toMatch(/reboot|x509|TLS handshake failed/);
}, 240_000);

it('light boards over TLS too; a power cut on the timeline: the broker publishes the will by keepalive, and the board is back when power returns', async () => {
  const status = await sub(['-v', '-t', 'mothership3/status']);
  sim = startSim(port, [
    '--light',
    '--cafile',
    cafile(),
    '--fast',
    '--calm',
    '--seed',
    '8',
    '--boards',
    'mothership:10',
    '--fault',
    '8:power-off mothership3 6',
  ]);
  await sim.waitFor(/10 light boards -> 127\.0\.0\.1:\d+ \(TLS\)/, 30_000);
  await sim.waitFor(/all 10 boards online/, 60_000);
  await status.waitFor(/^mothership3\/status online$/, 30_000);
  await sim.after(0, /power-off mothership3 for 6 s$/, 60_000);
  await status.waitFor(/^mothership3\/status offline$/, 30_000);
  const log = from(broker.output(), /Client mothership3 /);
  expect(log).toMatch(/^[^\n]*Client mothership3 [^\n]*has exceeded timeout, disconnecting/);
  await sim.after(sim.output().search(/power-off mothership3/), /all 10 boards online in/, 60_000);
  expect(status.lines.filter((l) => l.startsWith('mothership3/status'))).toEqual([
    'mothership3/status online',
    'mothership3/status offline',
    'mothership3/status online',
  ]);
}, 180_000);
