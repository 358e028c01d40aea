/**
 * The package version, read from package.json, so there is one place to change it. Found by walking
 * up from this module: `../package.json` from src/ (tests, tsx) and dist/ (the built CLI), further up
 * when a tool bundles this module elsewhere in the tree (the benchmark's esbuild output).
 */
import { readFileSync } from 'node:fs';

function packageVersion(): string {
  for (let url = new URL('../package.json', import.meta.url); ; ) {
    try {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mothership' && pkg.version) return pkg.version;
    } catch {
      // not here: look one folder up
    }
    const up = new URL('../../package.json', url);
    if (up.href === url.href) return '0.0.0-unknown';
    url = up;
  }
}

export const VERSION: string = packageVersion();
