import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The published entry point, which runs the compiled dist/ that test/global-setup.ts builds once per
 * run. Spawning a TypeScript loader per process instead cost seconds of CPU each on a loaded machine,
 * enough to push every CLI test past its timeout.
 */
export const CLI_ENTRY = `${root}/bin/mothership.js`;

/** argv (after the node binary) that runs `mothership <args>` as built by `npm run build`. */
export function cliArgs(args: string[]): string[] {
  return [CLI_ENTRY, ...args];
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh working folder per process, so each `up` gets its own ./mothership-data. */
function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'ms-cli-'));
}

/** Runs `mothership <args>` to completion (mDNS always off in tests). */
export function runCli(
  args: string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), {
      cwd: scratchDir(),
      env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mothership ${args.join(' ')} did not finish; stdout: ${stdout} stderr: ${stderr}`));
    }, options.timeoutMs ?? 50_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // The command may exit without reading its input (a usage error): that is its answer.
    child.stdin.on('error', () => {});
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export interface RunningCli {
  child: ChildProcess;
  /** stdout and stderr as they interleaved. */
  output(): string;
  /** stdout alone. */
  stdout(): string;
  /** stderr alone. */
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once the process ends by itself. */
  exited(): Promise<number | null>;
}

/** Starts a long-running `mothership <args>` (e.g. `up`) and lets the test watch its output. */
export function startCli(args: string[], cwd = scratchDir()): RunningCli {
  const child = spawn(process.execPath, cliArgs(args), {
    cwd,
    env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' },
  });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitFor(pattern, ms = 45_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = out.match(pattern);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${pattern}: ${out}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms: ${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    exited: () => exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      // Bounds a hang; a graceful stop may wait up to shutdownGraceMs + 1 s for slow clients.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
