import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HOST, spawnBroker } from './spawn.js';
import { BrokerUnavailable, type RunningBroker } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
/** Bundles land beside bench/brokers so that node_modules and relative paths resolve as from the source. */
const buildDir = join(here, '..', '.build');

const bundles = new Map<string, Promise<string>>();

/**
 * Worker threads a server starts, bundled beside it under the name the code looks for next to itself
 * (as dist/ has it): the history recorder's writer thread.
 */
const workers: Record<string, Record<string, string>> = {
  'mothership-server.ts': { 'history-worker': join(repoRoot, 'src', 'hub', 'history', 'history-worker.ts') },
};

/**
 * Compiles a bench/brokers/*-server.ts script (and the TypeScript it imports, e.g. src/) into one
 * ES module, with npm packages left as imports. The broker then runs on plain `node`: no TypeScript
 * loader thread in its process to add ~40 MB to its RSS or CPU to its figures. Once per bench run.
 */
function bundle(script: string): Promise<string> {
  let done = bundles.get(script);
  if (!done) {
    done = (async () => {
      mkdirSync(buildDir, { recursive: true });
      const outfile = join(buildDir, script.replace(/\.ts$/, '.mjs'));
      const entries: [string, string][] = [
        [join(here, script), outfile],
        ...Object.entries(workers[script] ?? {})
          .filter(([, entry]) => existsSync(entry)) // an older tree without it (A/B runs)
          .map(([name, entry]): [string, string] => [entry, join(buildDir, `${name}.js`)]),
      ];
      for (const [entry, out] of entries) {
        await build({
          entryPoints: [entry],
          outfile: out,
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node20',
          packages: 'external',
          logLevel: 'silent',
        });
      }
      return outfile;
    })();
    bundles.set(script, done);
  }
  return done;
}

/** Starts one of the bench/brokers/*-server.ts scripts, compiled, in its own Node process. */
export async function startNodeBroker(
  name: string,
  script: string,
  env: Record<string, string> = {},
): Promise<RunningBroker> {
  let file: string;
  try {
    file = await bundle(script);
  } catch (e) {
    const first = String((e as Error).message ?? e)
      .split('\n')
      .slice(0, 2)
      .join(' ');
    throw new BrokerUnavailable(`${script} does not compile: ${first}`);
  }
  return spawnBroker({
    name,
    command: process.execPath,
    // BENCH_NODE_ARGS, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof', profiles the Node brokers under load.
    args: [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), file, HOST],
    cwd: repoRoot,
    env,
  });
}
