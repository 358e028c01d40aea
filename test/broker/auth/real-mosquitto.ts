/**
 * Debian's real mosquitto broker and mosquitto_passwd, for tests whose point is to compare our
 * behaviour with theirs. Everything stays on 127.0.0.1 with ephemeral ports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs mosquitto_passwd with `args`, feeding `input` on stdin. */
export async function mosquittoPasswd(args: string[], input = ''): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(MOSQUITTO_PASSWD, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    // A tool may exit without reading its input (a usage error): that is its answer, not a test failure.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RealBroker {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Starts mosquitto on a free 127.0.0.1 port with `lines` (security settings) in its config. */
export async function startMosquitto(dir: string, lines: string[]): Promise<RealBroker> {
  const port = await freePort();
  const conf = join(dir, `mosquitto-${port}.conf`);
  // Run as ourselves: as root, mosquitto would switch to user mosquitto, who cannot read our temp dir.
  const user = `user ${userInfo().username}`;
  await writeFile(conf, [user, `listener ${port} 127.0.0.1`, ...lines, 'log_type all', ''].join('\n'));
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf]);
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const deadline = Date.now() + 5000;
  while (!/running/.test(log)) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
    if (Date.now() > deadline) throw new Error(`mosquitto did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    log: () => log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export type ConnectOutcome = { ok: true; client: MqttClient } | { ok: false; returnCode: number | undefined };

/** Connects with MQTT 3.1.1 and reports the CONNACK outcome (never retries). */
export async function tryConnect(
  port: number,
  options: { clientId: string; username?: string; password?: string },
): Promise<ConnectOutcome> {
  const client = mqtt.connect({
    host: '127.0.0.1',
    port,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 3000,
    clean: true,
    ...options,
  });
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ ok: true, client }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ ok: false, returnCode: (err as { code?: number }).code });
    });
    client.once('close', () => resolve({ ok: false, returnCode: undefined }));
  });
}
