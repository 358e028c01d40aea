import { type ChildProcess, spawn } from 'node:child_process';

/** A child process whose output is collected, bounded in time: it is killed after `timeoutMs`. */
export interface Running {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves once stdout+stderr match `pattern`; rejects after `ms` or if the process exits first. */
  waitOutput(pattern: RegExp, ms?: number): Promise<string>;
  kill(): void;
}

const live = new Set<ChildProcess>();
/** Kills every process started through `start` that is still running (call from afterEach). */
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

export function start(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Running {
  const child = spawn(command, args, {
    env: options.env ?? { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C.UTF-8' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    wake();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    wake();
  });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  let hasExited = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      hasExited = true;
      clearTimeout(timer);
      live.delete(child);
      wake();
      resolve(code);
    });
    child.on('error', (err) => {
      stderr += String(err);
    });
  });
  const running: Running = {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    async waitOutput(pattern, ms = 8000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const all = stdout + stderr;
        const m = pattern.exec(all);
        if (m) return m[0];
        if (hasExited) throw new Error(`${command} exited without printing ${pattern}: ${all}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${command} did not print ${pattern} within ${ms} ms: ${all}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
  return running;
}

/** Runs to completion (bounded by `timeoutMs`) and returns exit code and output. */
export async function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; stdin?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = start(command, args, options);
  const code = await r.exited;
  return { code, stdout: r.stdout, stderr: r.stderr };
}

/** Polls `check` every 20 ms until it is true; rejects after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
