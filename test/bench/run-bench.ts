import { spawn } from 'node:child_process';

/** Runs `npm run bench -- <args>` (bench/run.ts under tsx) to its end, SIGKILLed past `boundMs`. */
export async function runBench(
  args: string[],
  boundMs: number,
): Promise<{ code: number | null; log: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    log += d.toString();
  });
  // A bound, not a target: a loaded machine runs the bench several times slower.
  const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, log };
}
