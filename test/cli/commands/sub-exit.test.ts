// Exit codes and output as mosquitto_sub/mosquitto_pub: TLS verification failure exits 8; a v5 sub
// told by the server that it is shutting down exits 0 quietly; -E prints nothing, not even retained.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../helpers/broker.js';
import { type RunningCli, runCli, startCli } from '../../helpers/cli.js';

const exec = promisify(execFile);

/** mosquitto's own tool, for the same case: exit code and output. */
async function mosquitto(
  tool: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(tool, args);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('TLS verification failure', () => {
  let up: RunningCli;
  let port: number;
  let wrongCa: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-tls-exit-'));
    expect((await runCli(['certs', '--out', join(dir, 'right')])).code).toBe(0);
    expect((await runCli(['certs', '--out', join(dir, 'wrong')])).code).toBe(0);
    wrongCa = join(dir, 'wrong', 'ca.crt');
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      `listener 0 127.0.0.1\ncertfile ${join(dir, 'right', 'server.crt')}\nkeyfile ${join(dir, 'right', 'server.key')}\nallow_anonymous true\npersistence false\n`,
    );
    up = startCli(['up', '-c', conf, '--no-mdns']);
    port = Number((await up.waitFor(/mqtts:\/\/127\.0\.0\.1:(\d+)/))[1]);
  });
  afterAll(() => up.stop());

  for (const tool of ['sub', 'pub'] as const) {
    it(`${tool} against a server its --cafile did not sign exits 8 with mosquitto_${tool}'s message`, async () => {
      const args = ['--cafile', wrongCa, '-h', '127.0.0.1', '-p', String(port), '-t', 'x'];
      const extra = tool === 'sub' ? ['-C', '1'] : ['-m', 'hi'];
      const ours = await runCli([tool, ...args, ...extra]);
      expect({ code: ours.code, stderr: ours.stderr }).toEqual({
        code: 8,
        stderr: 'Error: A TLS error occurred.\n',
      });
      // mosquitto's tool gives this when the handshake fails in its network loop, and 1 with
      // "Unable to connect (A TLS error occurred.)." when it fails inside its blocking connect (a race
      // seen run to run). Node's handshake always completes after the TCP connect: the first case.
      const theirs = await mosquitto(`mosquitto_${tool}`, [...args, ...extra]);
      expect([
        { code: 8, stderr: 'Error: A TLS error occurred.\n' },
        { code: 1, stderr: 'Unable to connect (A TLS error occurred.).\n' },
      ]).toContainEqual({ code: theirs.code, stderr: theirs.stderr });
    });
  }
});

describe('mothership sub and the server', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  it('-E prints nothing for retained messages (it exits at the SUBACK, as mosquitto_sub)', async () => {
    const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await pub.publishAsync('kept/a', 'retained one', { qos: 1, retain: true });
    await pub.publishAsync('kept/b', 'retained two', { qos: 1, retain: true });
    await pub.endAsync();
    const args = ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'kept/#', '-v', '-E'];
    const theirs = await mosquitto('mosquitto_sub', args);
    const ours = await runCli(['sub', ...args]);
    expect(theirs).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(ours).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a v5 sub told the server is shutting down (DISCONNECT 0x8B) exits 0 quietly', async () => {
    const own = await startBroker();
    const sub = startCli([
      'sub',
      '-V',
      '5',
      '-i',
      'shutdown-sub',
      '-h',
      '127.0.0.1',
      '-p',
      String(own.port),
      '-t',
      'x',
    ]);
    const subscribedNow = new Promise<void>((resolve) => {
      own.broker.on('subscribe', (id: string) => {
        if (id === 'shutdown-sub') resolve();
      });
    });
    await subscribedNow;
    await own.close();
    expect(await sub.exited()).toBe(0);
    expect(sub.output()).toBe('');
  });
});
