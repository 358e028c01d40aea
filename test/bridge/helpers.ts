/**
 * What the bridge tests share: a Mothership in this process from a config text (free loopback ports,
 * a scratch data folder), MQTT.js clients that collect what they receive, and waiting for conditions
 * (never for time).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { mothershipDirectives } from '../../src/app/config-file.js';
import { type Mothership, startMothership } from '../../src/app/mothership.js';
import { parseConfig } from '../../src/config/mosquitto-conf.js';
import { passwordFile } from '../hub/helpers.js';

const dirs: string[] = [];
const running: Mothership[] = [];
const clients: MqttClient[] = [];

export async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ms-bridge-'));
  dirs.push(d);
  return d;
}

export async function cleanup(): Promise<void> {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
  for (const m of running.splice(0)) await m.stop();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
}

export interface Node {
  m: Mothership;
  port: number;
  url: string;
  dir: string;
  /** The config file the node was started from (rewrite it and call m.reload() to reload). */
  configFile: string;
  /** The hub's API base (http://127.0.0.1:<port>/api), when started with the hub. */
  api: string | undefined;
}

/** `mothership up -c` in this process: the config's lines after a loopback listener on a free port. */
export async function node(lines: string[] = [], dir?: string, hub = false): Promise<Node> {
  const d = dir ?? (await scratch());
  const ws = hub ? ['listener 0 127.0.0.1', 'protocol websockets'] : [];
  const text = ['listener 0 127.0.0.1', ...ws, 'log_dest none', ...lines, ''].join('\n');
  const configFile = join(d, 'mothership.conf');
  await writeFile(configFile, text);
  const m = await startMothership({
    config: parseConfig(text, configFile, mothershipDirectives()),
    configPath: configFile,
    dataDir: join(d, 'data'),
    mdns: false,
    hub,
    logFormat: 'json',
  });
  running.push(m);
  const port = m.listeners[0]!.port;
  const http = m.listeners.find((l) => l.protocol === 'websockets');
  return {
    m,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir: d,
    configFile,
    api: http && `http://127.0.0.1:${http.port}/api`,
  };
}

/** Stops a node started by `node()` (its data folder stays, for a restart). */
export async function stopNode(n: Node): Promise<void> {
  running.splice(running.indexOf(n.m), 1);
  await n.m.stop();
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

export interface Collector {
  client: MqttClient;
  messages: Received[];
  /** Resolves once `count` messages matched `pred` (bounded by the test's timeout). */
  until(pred: (m: Received) => boolean, count?: number): Promise<Received[]>;
}

export async function client(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, protocolVersion: 5, ...options });
  clients.push(c);
  return c;
}

/** A client subscribed to `filter` that keeps everything it receives. */
export async function collector(url: string, filter: string, qos: 0 | 1 | 2 = 1): Promise<Collector> {
  const c = await client(url);
  const messages: Received[] = [];
  const waiters: (() => void)[] = [];
  c.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos });
    for (const w of waiters.splice(0)) w();
  });
  await c.subscribeAsync(filter, { qos });
  return {
    client: c,
    messages,
    until(pred, count = 1) {
      return new Promise((resolve) => {
        const check = () => {
          const hits = messages.filter(pred);
          if (hits.length >= count) resolve(hits);
          else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Polls `check` every 25 ms until it returns a value (for state we cannot await as an event). */
export async function eventually<T>(
  check: () => T | undefined | false,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A `connection cloud` block to a remote on this port (through the test's proxy), then these lines. */
export function cloudBridge(port: number, ...lines: string[]): string[] {
  return [
    'connection cloud',
    `address 127.0.0.1:${port}`,
    'remote_clientid hub-a',
    'restart_timeout 1 2',
    ...lines,
  ];
}

/** A hub (API on) that lets no one in anonymously: `admin` (password a) has write on $hub/admin, `bob` (b) not. */
export async function adminAndBobHub(): Promise<Node> {
  const dir = await scratch();
  const passwords = await passwordFile(dir, { admin: 'a', bob: 'b' });
  const acl = join(dir, 'acl');
  await writeFile(
    acl,
    'user admin\ntopic write $hub/admin\ntopic readwrite #\nuser bob\ntopic readwrite #\n',
  );
  return node(['allow_anonymous false', `password_file ${passwords}`, `acl_file ${acl}`], dir, true);
}

/** Logs in to a hub's API; the session cookie as a request header. */
export async function login(api: string, username: string, password: string): Promise<{ cookie: string }> {
  const res = await fetch(`${api}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mothership': '1' },
    body: JSON.stringify({ username, password }),
  });
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]! };
}
