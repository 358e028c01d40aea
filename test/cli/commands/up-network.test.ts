import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgs } from '../../helpers/cli.js';
import { createNamespacePair, type NamespacePair, namespaceProblem } from '../../helpers/netns.js';

// The default broker must be reachable by boards on the same network and not by the internet. The
// broker runs in namespace A with a private address (192.168.x), an address on a public block that is
// a LAN here (100.64.5.x/24, as a campus or ISP-assigned range would be) and a lone public address
// (TEST-NET-2 198.51.100.1/32, a point-to-point route to B's .2); clients in namespace B connect to
// each, so the kernel picks the matching source address.
const problem = namespaceProblem();
if (problem) console.warn(`[up-network.test] SKIPPING: ${problem}`);

function run(argv: [string, string[]], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv[1], { env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe.skipIf(problem !== undefined)(
  `default anonymous policy across a real network${problem ? ` — SKIPPED: ${problem}` : ''}`,
  () => {
    let pair: NamespacePair;
    let broker: ReturnType<typeof spawn>;
    let out = '';

    beforeAll(async () => {
      pair = createNamespacePair('ms-up', {
        a: ['192.168.77.1/24', '100.64.5.1/24', '198.51.100.1 peer 198.51.100.2'],
        b: ['192.168.77.2/24', '100.64.5.2/24', '198.51.100.2 peer 198.51.100.1'],
      });
      const [cmd, args] = pair.exec(pair.a, [
        process.execPath,
        ...cliArgs(['up', '--no-mdns', '--no-ws', '-p', '1883']),
      ]);
      broker = spawn(cmd, args, { env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' } });
      broker.stdout!.on('data', (d) => (out += d));
      const deadline = Date.now() + 45_000;
      while (!/Stop with Ctrl\+C/.test(out)) {
        if (Date.now() > deadline) throw new Error(`broker did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    afterAll(() => {
      broker?.kill('SIGKILL');
      pair?.destroy();
    });

    for (const [where, address] of [
      ['on the LAN (192.168.x)', '192.168.77.1'],
      ["on a public block that is one of this machine's subnets", '100.64.5.1'],
    ])
      it(`a board ${where} connects anonymously`, async () => {
        const r = await run(
          pair.exec(pair.b, ['mosquitto_pub', '-h', address!, '-t', 'hello', '-m', 'hi']),
          30_000,
        );
        expect(r.out).toBe('');
        expect(r.code).toBe(0);
      });

    it('the banner warns about the printed address no local subnet surrounds, and only that one', () => {
      const warnings = out.split('\n').filter((l) => /^\s+Warning\s/.test(l));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/198\.51\.100\.1 is not on a private range .* need a username/);
      expect(out).toMatch(/MQTT\s+.*mqtt:\/\/100\.64\.5\.1:1883/);
      expect(out).toMatch(/On a board, set "broker": "192\.168\.77\.1" in config\.json\./);
    });

    it('a client from a public address is refused without credentials', async () => {
      const r = await run(
        pair.exec(pair.b, ['mosquitto_pub', '-h', '198.51.100.1', '-t', 'hello', '-m', 'hi']),
        30_000,
      );
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/not authori[sz]ed/i);
    });
  },
);
