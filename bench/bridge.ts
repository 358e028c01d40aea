/**
 * The bridge's figures (issue 16): messages/s forwarded hub -> remote with the link up (QoS 1), and the
 * drain rate of a queue built up during an outage, for Mothership's bridge and mosquitto's with the
 * same `connection` block; the remote is a Mothership in this process, behind a TCP proxy.
 * Usage: node --import tsx bench/bridge.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { mothershipDirectives } from '../src/app/config-file.js';
import { startMothership } from '../src/app/mothership.js';
import { parseConfig } from '../src/config/mosquitto-conf.js';
import { cliArgs } from '../test/helpers/cli.js';
import { launchMosquitto } from '../test/helpers/mosquitto.js';
import { startTcpProxy } from '../test/helpers/tcp-proxy.js';

process.env.MOTHERSHIP_NO_MDNS = '1';
const quick = process.argv.includes('--quick');
const N = quick ? 2_000 : 20_000;

async function remoteNode() {
  const dir = mkdtempSync(join(tmpdir(), 'ms-bench-bridge-'));
  const text = 'listener 0 127.0.0.1\nlog_dest none\nmax_queued_messages 0\n';
  const m = await startMothership({
    config: parseConfig(text, join(dir, 'm.conf'), mothershipDirectives()),
    dataDir: join(dir, 'data'),
    mdns: false,
    hub: false,
  });
  const stop = async () => {
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { port: m.listeners[0]!.port, stop };
}

/** Publishes N QoS 1 messages at the hub (acknowledged), resolves when the remote has them all. */
async function run(kind: 'mothership' | 'mosquitto'): Promise<{ forward: number; drain: number }> {
  const remote = await remoteNode();
  const proxy = await startTcpProxy(remote.port);
  const block = [
    'connection cloud',
    `address 127.0.0.1:${proxy.port}`,
    'remote_clientid bench-hub',
    'restart_timeout 1 2',
    'cleansession false',
    'topic bench/# out 1',
  ];
  const hub = await launchMosquitto({
    config: ['allow_anonymous true', 'log_dest none', 'max_queued_messages 0', ...block],
    ...(kind === 'mothership'
      ? {
          command: (conf: string) =>
            [process.execPath, cliArgs(['up', '-c', conf, '--no-mdns'])] as [string, string[]],
        }
      : {}),
  });
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${remote.port}`, { reconnectPeriod: 0 });
  await sub.subscribeAsync('bench/#', { qos: 1 });
  let received = 0;
  let waiter: (() => void) | undefined;
  sub.on('message', () => {
    received++;
    if (received >= N) waiter?.();
  });
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.port}`, { reconnectPeriod: 0 });
  const all = () =>
    new Promise<void>((resolve) => {
      waiter = resolve;
      if (received >= N) resolve();
    });
  const publish = async () => {
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) acks.push(pub.publishAsync(`bench/t${i % 10}`, `m${i}`, { qos: 1 }));
    await Promise.all(acks);
  };
  // Let the bridge connect.
  for (let t = 0; t < 200 && proxy.open === 0; t++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));

  let t0 = performance.now();
  await publish();
  await all();
  const forward = N / ((performance.now() - t0) / 1000);

  received = 0;
  proxy.down();
  proxy.reset();
  await new Promise((r) => setTimeout(r, 500));
  await publish();
  t0 = performance.now();
  proxy.up();
  await all();
  const drain = N / ((performance.now() - t0) / 1000);

  await sub.endAsync(true);
  await pub.endAsync(true);
  await hub.close();
  await proxy.close();
  await remote.stop();
  return { forward, drain };
}

const rows: Record<string, { forward: number; drain: number }> = {};
for (const kind of ['mothership', 'mosquitto'] as const) rows[kind] = await run(kind);
console.log(`bridge, ${N} QoS 1 messages, hub -> remote (a Mothership) on loopback:`);
for (const [kind, r] of Object.entries(rows))
  console.log(
    `  ${kind.padEnd(11)} forward ${Math.round(r.forward)} msg/s   drain after an outage ${Math.round(r.drain)} msg/s`,
  );
process.exit(0);
