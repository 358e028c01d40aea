import { spawn } from 'node:child_process';
import net from 'node:net';
import { nofileLimit } from '../lib/proc.js';
import { BrokerUnavailable, type RunningBroker } from './types.js';

/**
 * Open-file limit every broker process gets: 65535, or the hard limit when that is lower and this
 * process may not raise it (10,000 idle connections need more than the usual 1024).
 */
export const BROKER_NOFILE = Math.min(65535, nofileLimit().hard);
export const HOST = '127.0.0.1';

export function freePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once host:port accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing accepts connections on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  /** The port, when the launcher chose it; otherwise the child prints `PORT <n>` on stdout. */
  port?: number;
  startTimeoutMs?: number;
  env?: Record<string, string>;
  onStop?: () => void;
}

/**
 * Starts a broker under prlimit(1) (so its open-file limit is raised without a shell in between:
 * prlimit execs the broker, and the pid we get is the broker's own). A child that prints
 * `UNAVAILABLE <why>` and exits is reported as not available.
 */
export async function spawnBroker(spec: SpawnSpec): Promise<RunningBroker> {
  const child = spawn(
    'prlimit',
    [`--nofile=${BROKER_NOFILE}:${nofileLimit().hard}`, '--', spec.command, ...spec.args],
    {
      cwd: spec.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production', ...spec.env },
    },
  );
  let out = '';
  let exited = false;
  let exitCode: number | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exited = true;
      exitCode = code;
      resolve();
    });
  });
  let wake: () => void = () => {};
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
    wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const timeoutMs = spec.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;

  const kill = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exitPromise;
    clearTimeout(t);
    spec.onStop?.();
  };

  try {
    let port = spec.port;
    while (port === undefined) {
      const unavailable = /^UNAVAILABLE (.*)$/m.exec(out);
      if (unavailable) throw new BrokerUnavailable(unavailable[1]!);
      const m = /^PORT (\d+)$/m.exec(out);
      if (m) {
        port = Number(m[1]);
        break;
      }
      if (exited)
        throw new Error(`${spec.name} exited (code ${exitCode}) before listening: ${out.trim().slice(-500)}`);
      if (Date.now() > deadline) throw new Error(`${spec.name} did not print its port in ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    await Promise.race([
      waitForPort(HOST, port, Math.max(1000, deadline - Date.now())),
      exitPromise.then(() => {
        throw new Error(`${spec.name} exited (code ${exitCode}): ${out.trim().slice(-500)}`);
      }),
    ]);
    return {
      name: spec.name,
      pid: child.pid!,
      host: HOST,
      port,
      output: () => out,
      alive: () => !exited,
      stop: kill,
    };
  } catch (e) {
    await kill();
    throw e;
  }
}
