/**
 * A real Debian mosquitto broker on an ephemeral loopback port, the reference the pub/sub tests compare
 * against. Everything broker-specific stays here so the same tests can later run against Mothership's.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliArgs } from './cli.js';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts mosquitto listening on 127.0.0.1 only and resolves once it accepts connections (at most 5 s). */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<RunningMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'mothership-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${opts.allowAnonymous === false ? 'false' : 'true'}`,
      'persistence false',
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  // PUBSUB_BROKER=mothership runs the same config under `mothership up -c`, so the flag-by-flag
  // comparisons also prove our broker answers mosquitto's tools as mosquitto does.
  const child: ChildProcess =
    process.env.PUBSUB_BROKER === 'mothership'
      ? spawn(process.execPath, cliArgs(['up', '-c', conf, '--no-mdns', '--no-persistence']), {
          stdio: ['ignore', 'ignore', 'pipe'],
          cwd: dir,
          env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' },
        })
      : spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const deadline = Date.now() + 5000;
  for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
    if (child.exitCode !== null) break;
    if (await canConnect(port)) {
      return {
        port,
        stop: async () => {
          if (child.exitCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
            if (child.exitCode === null) child.kill('SIGKILL');
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`mosquitto did not start on port ${port}: ${stderr}`);
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
