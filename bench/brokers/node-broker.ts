import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST, spawnBroker } from './spawn.js';
import type { RunningBroker } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');

/** Starts one of the bench/brokers/*-server.ts scripts in its own Node process. */
export function startNodeBroker(
  name: string,
  script: string,
  env: Record<string, string> = {},
): Promise<RunningBroker> {
  return spawnBroker({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', join(here, script), HOST],
    cwd: repoRoot,
    env,
  });
}
