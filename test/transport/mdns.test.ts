import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FoundBroker } from '../../src/transport/mdns.js';
import { cliArgs } from '../helpers/cli.js';
import { ip, must, namespaceProblem } from '../helpers/netns.js';
import { killAll, type Running, start } from '../interop/helpers/process.js';

// mDNS is multicast: it must never leave this machine. Every advertiser and browser here runs in a
// child process inside a network namespace this file makes (two namespaces joined by a veth pair,
// addresses in 10.x); the test process itself never opens an mDNS socket. Without root/CAP_NET_ADMIN
// and iproute2 the whole file is skipped, loudly.

const id = randomBytes(3).toString('hex');
const NS_A = `ms-mdns-${id}-a`;
const NS_B = `ms-mdns-${id}-b`;
const VETH_A = `msa${id}`;
const VETH_B = `msb${id}`;
const octet = 16 + ((randomBytes(1)[0] as number) % 200);
const ADDR_A = `10.${octet}.77.1`;
const ADDR_B = `10.${octet}.77.2`;
const ADVERTISE = fileURLToPath(new URL('./fixtures/mdns-advertise.ts', import.meta.url));
const FIND = fileURLToPath(new URL('./fixtures/mdns-find.ts', import.meta.url));
const AVAHI_BROWSE = fileURLToPath(new URL('./fixtures/avahi-browse.sh', import.meta.url));

const problem = namespaceProblem();
if (problem) console.warn(`[mdns.test] SKIPPING every mDNS test: ${problem}`);

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function inNs(ns: string, script: string, options: object, timeoutMs: number): Running {
  return start(
    'ip',
    ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, JSON.stringify(options)],
    {
      timeoutMs,
    },
  );
}

async function find(ns: string, options: object): Promise<FoundBroker | null> {
  const r = inNs(ns, FIND, options, 20_000);
  const code = await r.exited;
  if (code !== 0) throw new Error(`mdns-find exited ${code}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? 'null') as FoundBroker | null;
}

async function advertise(ns: string, options: object): Promise<Running> {
  const r = inNs(ns, ADVERTISE, options, 40_000);
  await r.waitOutput(/ready .*\n/, 15_000);
  return r;
}

describe.skipIf(problem !== undefined)(
  `mDNS between two network namespaces${problem ? ` — SKIPPED: ${problem}` : ''}`,
  () => {
    beforeAll(() => {
      must(['netns', 'add', NS_A]);
      must(['netns', 'add', NS_B]);
      must(['link', 'add', VETH_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', VETH_B, 'netns', NS_B]);
      for (const [ns, dev, addr] of [
        [NS_A, VETH_A, ADDR_A],
        [NS_B, VETH_B, ADDR_B],
      ] as const) {
        must(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
        must(['-n', ns, 'link', 'set', 'lo', 'up']);
        must(['-n', ns, 'link', 'set', dev, 'multicast', 'on', 'up']);
        // As a LAN's default route would: multicast leaves by the veth (only to the other namespace).
        must(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev]);
      }
    });

    afterEach(() => {
      killAll();
    });

    afterAll(() => {
      killAll();
      const a = ip(['netns', 'del', NS_A]);
      const b = ip(['netns', 'del', NS_B]);
      const left = ip(['netns', 'list']).out;
      expect(left).not.toContain(NS_A);
      expect(left).not.toContain(NS_B);
      if (!a.ok || !b.ok) console.warn(`[mdns.test] deleting namespaces: ${a.out} ${b.out}`);
    });

    it('the namespaces can reach each other only through their veth', () => {
      expect(ip(['-n', NS_A, 'addr', 'show', VETH_A]).out).toContain(ADDR_A);
      expect(ip(['-n', NS_B, 'addr', 'show', VETH_B]).out).toContain(ADDR_B);
      expect(ip(['-n', NS_A, 'link', 'show', VETH_A]).out).toMatch(/MULTICAST.*UP/);
    });

    it('findBroker in one namespace sees advertiseBroker in the other: name, port, address, TXT', async () => {
      const ad = await advertise(NS_A, { port: 18831, name: `Mothership test ${id}`, wsPort: 18080 });
      const found = await find(NS_B, { timeoutMs: 8000 });
      expect(found).not.toBeNull();
      expect(found?.name).toBe(`Mothership test ${id}`);
      expect(found?.port).toBe(18831);
      expect(found?.host).toBe(ADDR_A);
      expect(found?.addresses).toContain(ADDR_A);
      expect(found?.txt).toMatchObject({ version: '1', ws_port: '18080', ws_path: '/mqtt', tls: '0' });
      ad.child.kill('SIGTERM');
      await ad.waitOutput(/stopped/, 5000);
    });

    it('`mothership up` announces itself: a board-side browser finds its MQTT port and address', async () => {
      const up = start(
        'ip',
        [
          'netns',
          'exec',
          NS_A,
          'env',
          '-u',
          'MOTHERSHIP_NO_MDNS',
          process.execPath,
          ...cliArgs(['up', '-p', '18833', '--ws-port', '18083']),
        ],
        { timeoutMs: 40_000 },
      );
      try {
        await up.waitOutput(/mDNS\s+_mqtt\._tcp/, 15_000);
        const found = await find(NS_B, { timeoutMs: 8000 });
        expect(found?.port).toBe(18833);
        expect(found?.host).toBe(ADDR_A);
        expect(found?.txt).toMatchObject({ ws_port: '18083', ws_path: '/mqtt' });
      } finally {
        up.child.kill('SIGTERM');
        await up.exited;
      }
    });

    it('`mothership sub` and `pub` with no -h find that broker over mDNS from the other namespace', async () => {
      const noMdnsOff = (ns: string, args: string[]) =>
        start(
          'ip',
          ['netns', 'exec', ns, 'env', '-u', 'MOTHERSHIP_NO_MDNS', process.execPath, ...cliArgs(args)],
          {
            timeoutMs: 30_000,
          },
        );
      const up = noMdnsOff(NS_A, ['up', '-p', '18834', '--no-ws', '--no-persistence']);
      try {
        await up.waitOutput(/mDNS\s+_mqtt\._tcp/, 15_000);
        const sub = noMdnsOff(NS_B, ['sub', '-t', 'hello', '-v', '-C', '1', '-W', '20']);
        await up.waitOutput(/New client connected from 10\./, 15_000);
        const pub = noMdnsOff(NS_B, ['pub', '-t', 'hello', '-m', 'found you']);
        expect(await pub.exited).toBe(0);
        expect(await sub.exited).toBe(0);
        expect(sub.stdout).toBe('hello found you\n');
      } finally {
        up.child.kill('SIGTERM');
        await up.exited;
      }
    });

    it('the WebSocket listener is announced as _mqtt-ws._tcp', async () => {
      await advertise(NS_A, {
        port: 18832,
        name: `Mothership ws ${id}`,
        wsPort: 18081,
        interfaces: [ADDR_A],
      });
      const found = await find(NS_B, { timeoutMs: 8000, type: 'mqtt-ws', interface: ADDR_B });
      expect(found?.name).toBe(`Mothership ws ${id}`);
      expect(found?.port).toBe(18081);
      expect(found?.txt).toMatchObject({ path: '/mqtt' });
    });

    it('explicit interfaces work on both sides', async () => {
      await advertise(NS_A, { port: 18833, name: `Mothership iface ${id}`, interfaces: [ADDR_A], tls: true });
      const found = await find(NS_B, { timeoutMs: 8000, interface: ADDR_B });
      expect(found).toMatchObject({ port: 18833, host: ADDR_A, name: `Mothership iface ${id}` });
      expect(found?.txt.tls).toBe('1');
    });

    it('findBroker resolves undefined after its timeout when nobody announces', async () => {
      const t0 = Date.now();
      const found = await find(NS_B, { timeoutMs: 1500 });
      expect(found).toBeNull();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    });

    // Debian's avahi (`apt-get install avahi-utils`): an independent mDNS implementation resolves our record.
    const avahi = hasCommand('avahi-browse') && hasCommand('avahi-daemon') && hasCommand('dbus-daemon');
    if (!avahi)
      console.warn('[mdns.test] avahi-browse/avahi-daemon/dbus-daemon missing: skipping the avahi check');
    it.skipIf(!avahi)(
      `Debian's avahi-browse in the other namespace resolves the record${avahi ? '' : ' — SKIPPED: avahi-utils not installed'}`,
      async () => {
        await advertise(NS_A, { port: 18834, name: `Mothership avahi ${id}`, wsPort: 18082 });
        const r = start('ip', ['netns', 'exec', NS_B, 'sh', AVAHI_BROWSE, VETH_B, '_mqtt._tcp'], {
          timeoutMs: 25_000,
        });
        const code = await r.exited;
        expect(r.stderr, r.stdout).toBe('');
        expect(code, r.stdout).toBe(0);
        // -p: =;iface;proto;name;type;domain;host;address;port;txt
        const resolved = r.stdout
          .split('\n')
          .filter((l) => l.startsWith('='))
          .map((l) => l.split(';'))
          .find((f) => f[3]?.replace(/\\032/g, ' ') === `Mothership avahi ${id}`);
        expect(resolved, r.stdout).toBeDefined();
        expect(resolved?.[4]).toBe('_mqtt._tcp');
        expect(resolved?.[7]).toBe(ADDR_A);
        expect(resolved?.[8]).toBe('18834');
        expect(resolved?.[9]).toContain('"version=1"');
        expect(resolved?.[9]).toContain('"ws_path=/mqtt"');
      },
      30_000,
    );
  },
);
