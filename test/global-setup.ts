/**
 * Builds dist/ (and the dashboard, dist/web) once before any test runs: tests spawn the CLI as users run it (bin/mothership.js on
 * the compiled JavaScript), not through a TypeScript loader per process, which on a loaded machine
 * cost each spawned process seconds of CPU. `npm install` builds dist/ too (the `prepare` script),
 * but it may be older than the sources being tested, so it is always rebuilt here.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
    // as `npm run build`: the sim's .mjs and .py files next to its compiled code
    execFileSync(process.execPath, ['scripts/copy-assets.mjs'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed, so the CLI tests cannot run:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  // The dashboard the hub serves at / and the browser tests load (scripts/build-web.mjs).
  const { buildWeb } = (await import(new URL('../scripts/build-web.mjs', import.meta.url).href)) as {
    buildWeb(root: string, options: { quiet: boolean }): Promise<unknown>;
  };
  await buildWeb(root, { quiet: true });
}
