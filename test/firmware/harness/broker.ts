// The broker the firmware tests run against: Mothership's own (`mothership up` as a real process,
// so stop is SIGTERM and kill is SIGKILL). FIRMWARE_BROKER=mosquitto runs them against Debian's
// mosquitto instead, for comparison; every test goes through startBroker().
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliArgs } from '../../helpers/cli.js';

export interface TestBroker {
  port: number;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: no goodbye to anyone. */
  kill(): Promise<void>;
  /** Start again on the same port (after stop/kill). */
  restart(): Promise<void>;
  /** Stop for good and remove the generated files. */
  close(): Promise<void>;
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

function brokerCommand(port: number, conf: string): [string, string[]] {
  if (process.env.FIRMWARE_BROKER === 'mosquitto') return [MOSQUITTO, ['-c', conf]];
  return [
    process.execPath,
    cliArgs(['up', '-p', String(port), '--host', '127.0.0.1', '--no-ws', '--no-mdns']),
  ];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once 127.0.0.1:port accepts a connection. With `proc`, fails as soon as that process
 * exits instead of waiting out the deadline.
 */
export async function waitForPort(port: number, timeoutMs = 5000, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && (proc.exitCode !== null || proc.signalCode !== null)) {
      throw new Error(`broker exited (${proc.exitCode ?? proc.signalCode}) before listening on ${port}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port });
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`broker did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * How long a broker may take to listen. `mothership up` from source (node + tsx) listens in ~0.6 s
 * on an idle machine but took over 5 s (the old limit) with three test files and their boards on
 * two cores; tls.test.ts already gives it 15 s. A crash fails at once (waitForPort watches the
 * process), so this only bounds a hang.
 */
const START_GUARD_MS = 15_000;

export async function startBroker(): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'fw-broker-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  let proc: ChildProcess | undefined;

  const launch = async () => {
    const [command, args] = brokerCommand(port, conf);
    const p = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: dir,
      env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' },
    });
    let err = '';
    p.stderr?.on('data', (d) => {
      err += d;
    });
    proc = p;
    try {
      await waitForPort(port, START_GUARD_MS, p);
    } catch (e) {
      p.kill('SIGKILL');
      throw new Error(`${(e as Error).message}: ${err}`);
    }
  };
  const end = async (signal: NodeJS.Signals) => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  };

  await launch();
  return {
    port,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: launch,
    close: async () => {
      await end('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
