import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCli, runCli, startCli } from '../../helpers/cli.js';
import { subscribedMosquittoSub } from '../../helpers/mosquitto.js';

const exec = promisify(execFile);
let running: RunningCli | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function up(...extra: string[]) {
  running = startCli(['up', '-p', '0', '--ws-port', '0', '--host', '127.0.0.1', '--no-mdns', ...extra]);
  const mqttPort = Number((await running.waitFor(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/))[1]);
  const wsPort = Number((await running.waitFor(/WebSocket\s+ws:\/\/[^:]+:(\d+)\/mqtt/))[1]);
  return { mqttPort, wsPort };
}

describe('mothership up', () => {
  it("serves the seeds' mosquitto_sub/mosquitto_pub commands and logs connections", async () => {
    const { mqttPort } = await up();
    const sub = await subscribedMosquittoSub([
      '-p',
      String(mqttPort),
      '-v',
      '-t',
      'blue/btn/0',
      '-C',
      '1',
      '-W',
      '10',
    ]);
    await running!.waitFor(/New client connected from 127\.0\.0\.1 as \S+ \(p2, c1, k60\)/);
    await exec('mosquitto_pub', ['-p', String(mqttPort), '-t', 'blue/btn/0', '-m', '1']);
    expect(await sub.messages()).toEqual(['blue/btn/0 1']);
    const pub = await exec('mosquitto_pub', [
      '-p',
      String(mqttPort),
      '-d',
      '-t',
      'output',
      '-m',
      'on',
      '-q',
      '1',
    ]);
    expect(pub.stdout).toMatch(/received PUBACK \(Mid: 1, RC:0\)/);
    await running!.waitFor(/Client \S+ from 127\.0\.0\.1 \(p2\) disconnected\./);
  });

  it('serves MQTT over WebSocket at /mqtt', async () => {
    const { wsPort } = await up();
    const c = await mqtt.connectAsync(`ws://127.0.0.1:${wsPort}/mqtt`);
    await c.subscribeAsync('hello');
    const got = new Promise<string>((r) => c.on('message', (_t, p) => r(p.toString())));
    await c.publishAsync('hello', 'my name is blah');
    expect(await got).toBe('my name is blah');
    await c.endAsync();
  });

  it('prints the banner a newcomer needs: addresses, what boards can do, how to try it', async () => {
    await up();
    const out = running!.output();
    // Bound to loopback here; the LAN address a board uses is checked in up-network.test.ts.
    expect(out).toMatch(/Boards on the network cannot reach this broker: it listens on loopback only/);
    expect(out).toMatch(/Try it: {2}node \S+bin\/mothership\.js sub -h 127\.0\.0\.1 -p \d+ -t '#' -v/);
  });

  it('stops gracefully on SIGTERM: v5 clients get DISCONNECT 0x8B, exit code 0', async () => {
    const { mqttPort } = await up();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const reason = new Promise<number | undefined>((r) => c.on('disconnect', (p) => r(p.reasonCode)));
    const code = await running!.stop('SIGTERM');
    expect(await reason).toBe(0x8b);
    expect(code).toBe(0);
    running = undefined;
    c.end(true);
  });

  it('a port in use is one line naming the port and what to do, exit code 1, no stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const result = await runCli(['up', '-p', String(port), '--no-ws', '--host', '127.0.0.1', '--no-mdns']);
    blocker.close();
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`port ${port} .*already in use.*mosquitto`));
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('an unknown flag is a usage error, not a stack trace', async () => {
    const result = await runCli(['up', '--prot', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown option '--prot'/);
  });

  it('a flag without its value names the flag as typed; a bad port names the accepted range', async () => {
    const missing = await runCli(['up', '--data']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^mothership up: --data needs a value\n/);
    const dashed = await runCli(['up', '--data', '-x']);
    expect(dashed.stderr).toMatch(/--data needs a value \(write --data=VALUE for one starting with '-'\)/);
    const port = await runCli(['up', '-p', '70000']);
    expect(port.stderr).toMatch(/-p needs a port number 0\.\.65535, got '70000'/);
  });
});

describe('mothership up -v', () => {
  it('logs every packet in and out in mosquitto -v wording', async () => {
    const { mqttPort } = await up('-v');
    await exec('mosquitto_pub', [
      '-p',
      String(mqttPort),
      '-i',
      'board1',
      '-t',
      'output',
      '-m',
      'on',
      '-q',
      '1',
    ]);
    await running!.waitFor(/Received DISCONNECT from board1/);
    const out = running!.output();
    expect(out).toMatch(/Received CONNECT from board1 \(p2, c1, k60\)/);
    expect(out).toMatch(/Sending CONNACK to board1 \(0, 0\)/);
    expect(out).toMatch(/Received PUBLISH from board1 \(d0, q1, r0, m1, 'output', \.\.\. \(2 bytes\)\)/);
    expect(out).toMatch(/Sending PUBACK to board1 \(m1, rc0\)/);
  });
});
