import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningCli, startCli } from '../../helpers/cli.js';

/** A free TCP port on loopback, chosen by the kernel and released again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

const made: string[] = [];
/** A fresh scratch directory; removed by cleanupScratch(). */
export function scratch(prefix = 'ms-up-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
export function cleanupScratch(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Every `up` started here, so afterAll can SIGKILL what a failed test left running. */
const running = new Set<RunningCli>();
export function killAllUp(): void {
  for (const r of running)
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  running.clear();
}

/**
 * Starts the real `mothership up` on loopback only (no WebSocket, no mDNS) with its data in `dataDir`,
 * and waits for the banner. `extra` adds flags (e.g. --no-persistence, -c FILE, --recover).
 */
export async function startUp(
  port: number,
  dataDir: string | undefined,
  extra: string[] = [],
  cwd?: string,
  bannerMs = 60_000,
): Promise<RunningCli> {
  const args = ['up', '-p', String(port), '--host', '127.0.0.1', '--no-ws', '--no-mdns'];
  if (dataDir !== undefined) args.push('--data', dataDir);
  args.push(...extra);
  const up = startCli(args, cwd ?? scratch('ms-up-cwd-'));
  running.add(up);
  await up.waitFor(/Mothership is up/, bannerMs);
  return up;
}

/** SIGKILL, no goodbye; resolves once the process is gone (bounded). */
export async function killHard(up: RunningCli): Promise<void> {
  await up.stop('SIGKILL');
  running.delete(up);
}

/** SIGTERM: the graceful stop; resolves with the exit code (SIGKILL after 15 s, by the helper). */
export async function stopGracefully(up: RunningCli): Promise<number | null> {
  const code = await up.stop('SIGTERM');
  running.delete(up);
  // A stop that does not end in 0 once failed in a full run and never alone: its output says why.
  if (code !== 0)
    console.error(`mothership up ended with ${code} after SIGTERM; its output:\n${up.output().slice(-4000)}`);
  return code;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 20 ms until true; rejects after `ms` naming `what`. */
export async function waitUntil(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves with `p`, or rejects after `ms` naming `what`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
