// The seeds' own command-line clients, run as the tutorials run them (plus -h/-p for our port).
import { type ChildProcess, execFile, spawn } from 'node:child_process';

export interface Sub {
  lines: string[];
  /** performance.now() when each of `lines` arrived, index for index */
  times: number[];
  proc: ChildProcess;
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
  count(re: RegExp): number;
  stop(): void;
}

/** mosquitto_sub ... ; resolves once the subscription is acknowledged (-d prints SUBACK). */
export async function mosquittoSub(port: number, args: string[]): Promise<Sub> {
  const proc = spawn(
    'stdbuf',
    ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(port), '-d', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const times: number[] = [];
  let buf = '';
  proc.stdout?.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    const now = performance.now();
    for (const line of parts) {
      lines.push(line);
      times.push(now);
    }
  });
  const sub: Sub = {
    lines,
    times,
    proc,
    count: (re) => lines.filter((l) => re.test(l)).length,
    async waitFor(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find((l) => re.test(l));
        if (hit) return hit;
        if (Date.now() > deadline || proc.exitCode !== null) {
          throw new Error(`mosquitto_sub saw no ${re} in ${timeoutMs} ms:\n${lines.slice(-10).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => {
      proc.kill('SIGKILL');
    },
  };
  await sub.waitFor(/received SUBACK/, 5000);
  return sub;
}

export function mosquittoPub(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'mosquitto_pub',
      ['-h', '127.0.0.1', '-p', String(port), ...args],
      { timeout: 5000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}
