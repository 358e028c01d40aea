/**
 * Debian's real mosquitto broker and mosquitto_passwd, for tests whose point is to compare our
 * behaviour with theirs. Everything stays on 127.0.0.1 with ephemeral ports.
 */
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, launchMosquitto } from '../../helpers/mosquitto.js';
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

export interface RealBroker {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Starts mosquitto on a free 127.0.0.1 port with `lines` (security settings) in its config. */
export async function startMosquitto(dir: string, lines: string[]): Promise<RealBroker> {
  const port = await freePort();
  const broker = await launchMosquitto({
    dir,
    port,
    confName: `mosquitto-${port}.conf`,
    // Run as ourselves: as root, mosquitto would switch to user mosquitto, who cannot read our temp dir.
    config: [`user ${userInfo().username}`, ...lines, 'log_type all'],
  });
  return { port, log: broker.log, stop: broker.stop };
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
