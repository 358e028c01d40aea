// `mothership demo` end to end, as a newcomer runs it: the process prints its ports, the seeds' own
// mosquitto_sub/mosquitto_pub commands and the hub's HTTP API see the six boards' world, and faults
// typed on its stdin (Wi-Fi loss, a broker restart) are recovered from by the boards themselves
// without losing a QoS 1 message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoPub, mosquittoSub, type Sub } from '../../firmware/harness/seeds.js';
import { type RunningCli, startCli } from '../../helpers/cli.js';

let demo: RunningCli;
let mqttPort: number;
let api: string;
const subs: Sub[] = [];
const sub = async (args: string[]) => {
  const s = await mosquittoSub(mqttPort, args);
  subs.push(s);
  return s;
};
const type = (line: string) => demo.child.stdin!.write(`${line}\n`);

async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}:\n${demo.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The first output line matching `re` printed after `from` characters of output. */
const printed = (from: number, re: RegExp, ms: number) =>
  eventually(
    async () =>
      demo
        .output()
        .slice(from)
        .split('\n')
        .find((l) => re.test(l)),
    `${re}`,
    ms,
  );

const getJson = async <T>(path: string) => (await (await fetch(`${api}${path}`)).json()) as T;

beforeAll(async () => {
  demo = startCli(['demo', '-p', '0', '--ws-port', '0', '--host', '127.0.0.1', '--no-mdns']);
  const online = await demo.waitFor(/all 6 boards online in ([\d.]+) s/, 120_000);
  console.log(`[figure] demo: all 6 boards online ${online[1]} s after the process started`);
  mqttPort = Number(demo.output().match(/MQTT\s+mqtt:\/\/127\.0\.0\.1:(\d+)/)![1]);
  api = `http://127.0.0.1:${Number(demo.output().match(/Open\s+http:\/\/localhost:(\d+)\//)![1])}`;
}, 150_000);
afterAll(async () => {
  for (const s of subs) s.stop();
  if (demo?.child.exitCode === null) demo.child.kill('SIGKILL');
});

describe('mothership demo: the seeds world in one command', () => {
  it('prints the seeds commands with its port, and the hub lists the six boards online', async () => {
    expect(demo.output()).toContain(`mosquitto_pub -p ${mqttPort} -t output -m on -q 1`);
    expect(demo.output()).toContain(`mosquitto_sub -p ${mqttPort} -v -t 'blue/btn/0'`);
    const online = await eventually(
      async () => {
        const { devices } = await getJson<{ devices: { id: string; ours: boolean; online: boolean }[] }>(
          '/api/devices',
        );
        const ours = devices.filter((d) => d.ours && d.online).map((d) => d.id);
        return ours.length >= 6 ? ours.sort() : undefined;
      },
      'six boards online',
      60_000,
    );
    expect(online).toEqual(['blue', 'dht1', 'green', 'machine1', 'machine2', 'mothership1']);
  }, 90_000);

  it("seeds 000/001: machine1's hello reaches machine2 and the `received` notification comes back", async () => {
    const s = await sub(['-v', '-t', 'hello', '-t', 'notification']);
    await s.waitFor(/^hello I say hello to you #\d+$/, 30_000);
    await s.waitFor(/^notification received$/, 30_000);
    // machine1 toggles its LED for each notification it receives: the answer reached it
    const from = demo.output().length;
    await printed(from, /^machine1: LED (on|off)$/, 30_000);
    const { messages } = await getJson<{ messages: { payload: string; clientId?: string }[] }>(
      '/api/messages?topic=notification&limit=1',
    );
    expect(messages[0]?.payload).toBe('received');
  }, 90_000);

  it("seed 002: blue's button (pressed on the demo's stdin) lights green's LED", async () => {
    const s = await sub(['-v', '-t', 'blue/btn/0']);
    await s.waitFor(/^blue\/btn\/0 1$/, 20_000); // released (active low)
    const from = demo.output().length;
    type('press blue 3');
    await s.waitFor(/^blue\/btn\/0 0$/, 20_000);
    await printed(from, /^green: LED on$/, 20_000);
    await printed(from, /^green: LED off$/, 30_000); // released again
  }, 90_000);

  it('seed 004: `mosquitto_pub -t output -m on -q 1` lights the DHT board LED; its readings land in history as t (°C) and h (%)', async () => {
    const from = demo.output().length;
    await mosquittoPub(mqttPort, ['-t', 'output', '-m', 'on', '-q', '1']);
    await printed(from, /^dht1: LED on$/, 30_000);
    await mosquittoPub(mqttPort, ['-t', 'output', '-m', 'off', '-q', '1']);
    await printed(from, /^dht1: LED off$/, 30_000);

    const series = await eventually(
      async () => {
        const { series } = await getJson<{ series: { field: string; unit: string }[] }>(
          '/api/series?filter=testincr',
        );
        return series.length >= 2 ? series : undefined;
      },
      "dht1's readings in history",
      60_000,
    );
    expect(series.map((s) => [s.field, s.unit]).sort()).toEqual([
      ['/h', '%'],
      ['/t', '°C'],
    ]);
    const { points } = await getJson<{ points: { n: number; avg: number }[] }>(
      '/api/series/points?topic=testincr&field=/t&width=100',
    );
    expect(points.reduce((n, p) => n + p.n, 0)).toBeGreaterThan(0);
    expect(points[0]!.avg).toBeGreaterThan(10); // the day's curve around 21 °C
    expect(points[0]!.avg).toBeLessThan(32);
  }, 120_000);

  it('Wi-Fi lost, then the broker restarted: every board is online again by itself, no QoS 1 message lost', async () => {
    // A persistent QoS 1 session: what the boards publish while it is away (the broker restarting)
    // is kept for it, so a gap can only be the boards' (or the broker's) doing.
    const observer = await sub([
      '-c',
      '-i',
      'demo-observer',
      '-q',
      '1',
      '-v',
      '-t',
      'to_mothership',
      '-t',
      'hello',
    ]);
    const numbers = (topic: string) =>
      observer.lines
        .map((l) => new RegExp(`^${topic} .* #(\\d+)$`).exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]));
    await observer.waitFor(/^to_mothership Test to mothership #\d+$/, 30_000);
    // both counts must have started, or the first number of one is Infinity (seen on a loaded machine)
    await observer.waitFor(/^hello .* #\d+$/, 30_000);
    const first = {
      to_mothership: Math.min(...numbers('to_mothership')),
      hello: Math.min(...numbers('hello')),
    };

    let from = demo.output().length;
    type('wifi-off all 8');
    await printed(from, /^\S+ wifi-off 6 boards for 8 s$/, 10_000);
    const wifi = await printed(from, /all 6 boards online in ([\d.]+) s/, 120_000);

    from = demo.output().length;
    type('broker-restart 2');
    await printed(from, /broker restarted$/, 60_000);
    const broker = await printed(from, /all 6 boards online in ([\d.]+) s/, 120_000);
    console.log(
      `[figure] demo: back online after Wi-Fi loss (8 s) ${/in ([\d.]+) s/.exec(wifi)![1]} s; after a broker restart (2 s down) ${/in ([\d.]+) s/.exec(broker)![1]} s`,
    );

    // Messages published after everything is back: then every earlier one must have arrived.
    const last = Math.max(...numbers('to_mothership'));
    await observer.waitFor(new RegExp(`^to_mothership Test to mothership #${last + 3}$`), 60_000);
    for (const topic of ['to_mothership', 'hello'] as const) {
      const seen = new Set(numbers(topic));
      expect(
        seen.size,
        `${topic} numbers seen by the observer\n${demo.output().slice(-3000)}`,
      ).toBeGreaterThan(0);
      const top = Math.max(...seen);
      const gaps = [];
      for (let i = first[topic]; i <= top; i++) if (!seen.has(i)) gaps.push(i);
      expect({ topic, gaps }).toEqual({ topic, gaps: [] });
      expect(top - first[topic]).toBeGreaterThan(5); // the count spans the faults
    }
    expect(demo.output()).not.toMatch(/rebooting/); // recovered by the firmware, not by a reset
    // the hub is the restarted broker's, and sees the boards again
    const { devices } = await getJson<{ devices: { id: string; online: boolean }[] }>('/api/devices');
    expect(devices.filter((d) => d.online && d.id !== 'demo-observer').length).toBeGreaterThanOrEqual(6);
  }, 300_000);

  it('Ctrl+C stops it all, exit code 0', async () => {
    demo.child.kill('SIGINT');
    expect(await demo.exited()).toBe(0);
  }, 60_000);

  it('a config with only a WebSocket listener is one clear line, not a stack trace', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'ms-demo-conf-'));
    const conf = join(dir, 'ws-only.conf');
    writeFileSync(conf, 'listener 0 127.0.0.1\nprotocol websockets\n');
    const bad = startCli(['demo', '-c', conf, '--no-mdns']);
    expect(await bad.exited()).toBe(1);
    expect(bad.stderr().trim().split('\n')).toEqual([
      "mothership demo: the demo's boards need a plain (non-TLS) MQTT listener, and the config sets none: add 'listener 1883'",
    ]);
  }, 60_000);
});
