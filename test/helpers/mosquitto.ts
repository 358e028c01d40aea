/**
 * A real Debian mosquitto broker on an ephemeral loopback port, the reference the tests compare
 * against, and its tools. `launchMosquitto` is the one way tests start a broker from a mosquitto.conf
 * (mosquitto itself, or `mothership up` given the same config): free port, config file, wait until it
 * accepts connections, stop, restart, clean up.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliArgs } from './cli.js';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

/** A free TCP port on 127.0.0.1, chosen by the kernel and released again. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once 127.0.0.1:port accepts a connection (polled every 50 ms). With `proc`, fails as
 * soon as that process exits instead of waiting out the deadline.
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

export interface LaunchOptions {
  /** mosquitto.conf lines after `listener <port> 127.0.0.1`, which always comes first. */
  config: string[];
  /** Where the config is written (and the broker's working directory); default: a new temp dir, removed by close(). */
  dir?: string;
  /** The config's file name in `dir`; default mosquitto.conf. */
  confName?: string;
  /** Listen here instead of on a free port. */
  port?: number;
  /** Run this instead of `mosquitto -c <conf>` (e.g. `mothership up`), with the same port and config. */
  command?: (conf: string, port: number) => [string, string[]];
  /** Bounds a hang only: a broker that exits fails at once. Default 15 s (a loaded 2-core machine). */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 3 s. */
  stopTimeoutMs?: number;
}

export interface LaunchedBroker {
  port: number;
  dir: string;
  /** What the broker wrote on stdout and stderr so far. */
  log(): string;
  /** SIGTERM (SIGKILL after stopTimeoutMs) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no goodbye to anyone. */
  kill(): Promise<void>;
  /** Start again on the same port with the same config (after stop or kill). */
  restart(): Promise<void>;
  /** Kill if still running, and remove the files launchMosquitto made. */
  close(): Promise<void>;
}

/** Starts mosquitto (or `command`) on 127.0.0.1 and resolves once it accepts connections. */
export async function launchMosquitto(o: LaunchOptions): Promise<LaunchedBroker> {
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'mothership-mosquitto-'));
  const port = o.port ?? (await freePort());
  const conf = join(dir, o.confName ?? 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, ...o.config, ''].join('\n'));
  const [command, args] = o.command?.(conf, port) ?? [MOSQUITTO_BIN, ['-c', conf]];
  let proc: ChildProcess | undefined;
  let log = '';

  const launch = async () => {
    const p = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: dir,
      env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' },
    });
    const append = (d: Buffer) => {
      log += d;
      if (log.length > 256_000) log = log.slice(-128_000); // a long run's log stays bounded
    };
    p.stdout?.on('data', append);
    p.stderr?.on('data', append);
    proc = p;
    try {
      await waitForPort(port, o.startTimeoutMs ?? 15_000, p);
    } catch (e) {
      p.kill('SIGKILL');
      throw new Error(`${(e as Error).message}: ${log}`);
    }
  };
  const end = async (signal: NodeJS.Signals) => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    const guard = setTimeout(() => p.kill('SIGKILL'), o.stopTimeoutMs ?? 3000);
    await exited;
    clearTimeout(guard);
  };
  const removeFiles = () => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await launch();
  } catch (e) {
    removeFiles();
    throw e;
  }
  return {
    port,
    dir,
    log: () => log,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: launch,
    close: async () => {
      await end('SIGKILL');
      removeFiles();
    },
  };
}

export interface MosquittoOptions {
  /** allow_anonymous; true unless told otherwise */
  allowAnonymous?: boolean;
  /** extra mosquitto.conf lines */
  extraConfig?: string[];
}

export interface RunningMosquitto {
  port: number;
  stop(): Promise<void>;
}

/** Starts mosquitto listening on 127.0.0.1 only, for the pub/sub tools to run against. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<RunningMosquitto> {
  const broker = await launchMosquitto({
    config: [
      `allow_anonymous ${opts.allowAnonymous === false ? 'false' : 'true'}`,
      'persistence false',
      ...(opts.extraConfig ?? []),
    ],
    // PUBSUB_BROKER=mothership runs the same config under `mothership up -c`, so the flag-by-flag
    // comparisons also prove our broker answers mosquitto's tools as mosquitto does.
    command:
      process.env.PUBSUB_BROKER === 'mothership'
        ? (conf) => [process.execPath, cliArgs(['up', '-c', conf, '--no-mdns', '--no-persistence'])]
        : undefined,
  });
  return {
    port: broker.port,
    stop: async () => {
      await broker.stop();
      await broker.close();
    },
  };
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Which implementation of a tool: mosquitto's reference binary or ours (the built CLI). */
export type Impl = 'mosquitto' | 'mothership';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

function command(impl: Impl, tool: 'pub' | 'sub', args: string[]): [string, string[]] {
  // stdbuf: mosquitto's tools block-buffer a piped stdout, so waitFor would never see their lines.
  if (impl === 'mosquitto') return ['/usr/bin/stdbuf', ['-oL', `/usr/bin/mosquitto_${tool}`, ...args]];
  return [process.execPath, cliArgs([tool, ...args])];
}

/**
 * How long done() lets a tool run before killing it. A guard against a hang, not a deadline: every
 * caller waits for a tool that exits by itself. It sits just under vitest's testTimeout (60 s) so a
 * hang fails with the tool's output rather than a bare test timeout. Shorter guards (10 s, then 18 s)
 * killed healthy `mothership sub` runs on a loaded 2-core machine, and the comparison then failed on
 * `code: null` and empty output.
 */
const HANG_GUARD_MS = 55_000;

/** A running pub/sub process whose output can be awaited line by line. */
export interface RunningTool {
  /** resolves once stdout contains `text` (rejects after timeoutMs) */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** resolves when the process exits; rejects if it had to be killed after timeoutMs */
  done(timeoutMs?: number): Promise<ToolResult>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts mosquitto_pub/sub or `mothership pub/sub` with a UTC clock and mDNS off (tests must never
 * send multicast).
 */
export function startTool(
  impl: Impl,
  tool: 'pub' | 'sub',
  args: string[],
  stdin?: string | Buffer,
): RunningTool {
  const [bin, argv] = command(impl, tool, args);
  const child = spawn(bin, argv, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      MOTHERSHIP_NO_MDNS: '1',
      TZ: 'UTC',
      XDG_CONFIG_HOME: join(tmpdir(), 'mothership-none'),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d) => {
    stdout += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  // The tool may exit without reading its input (a usage error): that is its answer.
  child.stdin.on('error', () => {});
  if (stdin !== undefined) child.stdin.end(stdin);
  else if (tool === 'pub') child.stdin.end();
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    waitFor(text, timeoutMs = 45_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`${impl} ${tool}: no "${text}" within ${timeoutMs} ms; got ${stdout}${stderr}`)),
          timeoutMs,
        );
        const check = () => {
          if (stdout.includes(text)) {
            clearTimeout(timer);
            resolve();
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`${impl} ${tool} exited before "${text}": ${stdout}${stderr}`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    async done(timeoutMs = HANG_GUARD_MS) {
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      if (killed) {
        throw new Error(
          `${impl} ${tool} ${args.join(' ')}: still running after ${timeoutMs} ms, killed; stdout: ${stdout} stderr: ${stderr}`,
        );
      }
      return { stdout, stderr, code };
    },
    kill(signal = 'SIGTERM') {
      child.kill(signal);
    },
  };
}

/** Runs a tool to completion. */
export function runTool(
  impl: Impl,
  tool: 'pub' | 'sub',
  args: string[],
  stdin?: string | Buffer,
  timeoutMs?: number,
): Promise<ToolResult> {
  return startTool(impl, tool, args, stdin).done(timeoutMs);
}

/**
 * Makes the two tools' output comparable: program names, per-implementation topics (tests name topics
 * after the implementation so runs don't see each other), broker-assigned and random client ids.
 */
export function normalise(r: ToolResult): ToolResult {
  const fix = (s: string) =>
    s
      .replace(/mosquitto_(pub|sub)/g, 'mothership $1')
      .replace(/\/mosquitto\b/g, '/mothership')
      .replace(/auto-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/g, 'auto-ID')
      .replace(/mosq-[A-Za-z0-9]{18}/g, 'mosq-ID');
  return { stdout: fix(r.stdout), stderr: fix(r.stderr), code: r.code };
}

/**
 * Starts Debian's mosquitto_sub with `-d` and resolves once its SUBACK is in, so what is published
 * next cannot race the subscription. `messages` gives the output without the debug lines.
 */
export async function subscribedMosquittoSub(
  args: string[],
): Promise<{ tool: RunningTool; messages(): Promise<string[]> }> {
  const tool = startTool('mosquitto', 'sub', ['-d', ...args]);
  await tool.waitFor('received SUBACK');
  return {
    tool,
    async messages() {
      const { stdout } = await tool.done();
      return stdout.split('\n').filter((l) => l !== '' && !/^(Client |Subscribed )/.test(l));
    },
  };
}

/**
 * Debian's mosquitto_pub from loopback to `port` (topic `t`, payload `x` unless `args` say otherwise):
 * its exit code and stderr, for "let in or refused" checks.
 */
export async function mosquittoPubResult(
  port: number,
  args: string[] = [],
): Promise<{ code: number; stderr: string }> {
  try {
    const r = await promisify(execFile)('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(port), '-t', 't', '-m', 'x'],
      ...args,
    ]);
    return { code: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}
