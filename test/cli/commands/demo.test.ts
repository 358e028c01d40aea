import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCli, startCli } from '../../helpers/cli.js';

const exec = promisify(execFile);
let running: RunningCli | undefined;
afterEach(() => {
  running?.child.kill('SIGKILL');
  running = undefined;
});

async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('mothership demo: the seeds world in one command', () => {
  it('six boards of the seeds come online, the seed 004 command lights the DHT board LED, its readings land in history, Ctrl+C stops it all', async () => {
    const demo = startCli(['demo', '-p', '0', '--ws-port', '0', '--host', '127.0.0.1', '--no-mdns']);
    running = demo;
    await demo.waitFor(/Demo: 6 simulated boards/, 120_000);
    const mqttPort = Number(demo.output().match(/MQTT\s+mqtt:\/\/127\.0\.0\.1:(\d+)/)![1]);
    const httpPort = Number(demo.output().match(/Open\s+http:\/\/localhost:(\d+)\//)![1]);
    expect(demo.output()).toContain(`mosquitto_pub -p ${mqttPort} -t output -m on -q 1`);

    const api = `http://127.0.0.1:${httpPort}`;
    const online = await eventually(
      async () => {
        const { devices } = (await (await fetch(`${api}/api/devices`)).json()) as {
          devices: { id: string; ours: boolean; online: boolean }[];
        };
        const ours = devices.filter((d) => d.ours && d.online).map((d) => d.id);
        return ours.length >= 6 ? ours.sort() : undefined;
      },
      'six boards online',
      120_000,
    );
    expect(online).toEqual(['blue', 'dht1', 'green', 'machine1', 'machine2', 'mothership1']);

    // Seed 004's own command, through Debian's mosquitto_pub.
    const before = demo.output().length;
    await exec('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(mqttPort),
      '-t',
      'output',
      '-m',
      'on',
      '-q',
      '1',
    ]);
    await eventually(
      async () => (/dht1: LED on/.test(demo.output().slice(before)) ? true : undefined),
      "dht1's LED on",
      60_000,
    );

    const series = await eventually(
      async () => {
        const { series } = (await (await fetch(`${api}/api/series?filter=testincr`)).json()) as {
          series: { field: string; unit: string }[];
        };
        return series.length >= 2 ? series : undefined;
      },
      "dht1's readings in history",
      120_000,
    );
    expect(series.map((s) => [s.field, s.unit])).toEqual([
      ['/h', '%'],
      ['/t', '°C'],
    ]);

    demo.child.kill('SIGINT');
    expect(await demo.exited()).toBe(0);
    running = undefined;
  }, 300_000);

  it('a config with only a WebSocket listener is one clear line, not a stack trace', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'ms-demo-conf-'));
    const conf = join(dir, 'ws-only.conf');
    writeFileSync(conf, 'listener 0 127.0.0.1\nprotocol websockets\n');
    const demo = startCli(['demo', '-c', conf, '--no-mdns']);
    running = demo;
    expect(await demo.exited()).toBe(1);
    expect(demo.stderr().trim().split('\n')).toEqual([
      "mothership demo: the demo's boards need a plain (non-TLS) MQTT listener, and the config sets none: add 'listener 1883'",
    ]);
    running = undefined;
  }, 60_000);
});
