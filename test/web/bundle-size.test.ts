// The dashboard stays within its budget: ≤ 60 KB of gzipped JavaScript and ≤ 10 KB of CSS
// (the global setup builds dist/web with scripts/build-web.mjs), every asset named by its content hash
// and nothing loaded from another host.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const web = fileURLToPath(new URL('../../dist/web', import.meta.url));
const gz = (file: string) => gzipSync(readFileSync(join(web, file)), { level: 9 }).length;

describe('dashboard bundle', () => {
  const html = readFileSync(join(web, 'index.html'), 'utf8');
  const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
  const entry = assets.find((a) => a.endsWith('.js') && a.startsWith('assets/app-'))!;
  /** The chunks a script imports: statically (`from"./chunk-…"`) or when a screen shows (`import("./chunk-…")`). */
  const importsOf = (file: string, kind: 'static' | 'dynamic') =>
    [
      ...readFileSync(join(web, file), 'utf8').matchAll(
        kind === 'static'
          ? /from\s*"\.\/(chunk-[A-Z0-9]{8}\.js)"/g
          : /import\("\.\/(chunk-[A-Z0-9]{8}\.js)"\)/g,
      ),
    ].map((m) => `assets/${m[1]}`);
  const closure = (start: string[], kinds: ('static' | 'dynamic')[]) => {
    const seen = new Set<string>();
    const visit = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const k of kinds) for (const i of importsOf(f, k)) visit(i);
    };
    for (const f of start) visit(f);
    return seen;
  };

  it('index.html loads hashed assets from this host only, and the manifest', () => {
    expect(entry).toMatch(/^assets\/app-[A-Z0-9]{8}\.js$/);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const a of assets) expect(a).toMatch(/^assets\/(app|chunk)-[A-Z0-9]{8}\.(js|css)$/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('<link rel="manifest" href="manifest.webmanifest">');
    const manifest = JSON.parse(readFileSync(join(web, 'manifest.webmanifest'), 'utf8')) as {
      icons: unknown[];
    };
    expect(manifest.icons.length).toBeGreaterThan(0);
    // What the entry imports statically is preloaded with it, nothing more.
    const preloaded = assets.filter((a) => a.startsWith('assets/chunk-'));
    expect(new Set([entry, ...preloaded])).toEqual(closure([entry], ['static']));
    // Besides that, assets/ holds only chunks the app reaches (the other screens, uPlot): no stale bundles.
    const reachable = closure([entry], ['static', 'dynamic']);
    for (const file of readdirSync(join(web, 'assets')))
      if (file.endsWith('.js')) expect(reachable).toContain(`assets/${file}`);
  });

  it('≤ 60 KB gzipped JS and ≤ 10 KB gzipped CSS; the first load is the shell and Devices, without the charts', () => {
    const files = readdirSync(join(web, 'assets')).map((f) => `assets/${f}`);
    const js = files.filter((a) => a.endsWith('.js')).reduce((n, a) => n + gz(a), 0);
    const firstLoad = [...closure([entry], ['static'])];
    const first = firstLoad.reduce((n, a) => n + gz(a), 0);
    const css = files.filter((a) => a.endsWith('.css')).reduce((n, a) => n + gz(a), 0);
    expect(js).toBeGreaterThan(20 * 1024); // the app, Preact and uPlot are in it
    expect(js).toBeLessThanOrEqual(60 * 1024);
    expect(first).toBeLessThanOrEqual(12 * 1024);
    // uPlot (its plot overlay's class) and the other screens come later.
    for (const f of firstLoad) {
      const text = readFileSync(join(web, f), 'utf8');
      expect(text).not.toContain('u-over');
      expect(text).not.toContain('data-screen":"topics');
    }
    expect(css).toBeLessThanOrEqual(10 * 1024);
    // No script reaches for another host at run time (a CDN, fonts).
    for (const a of files)
      expect(readFileSync(join(web, a), 'utf8')).not.toMatch(/https:\/\/(cdn|fonts|unpkg)/);
  });
});
