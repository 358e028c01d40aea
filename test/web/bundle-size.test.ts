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

  it('index.html loads hashed assets from this host only, and the manifest', () => {
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const a of assets) expect(a).toMatch(/^assets\/app-[A-Z0-9]{8}\.(js|css)$/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('<link rel="manifest" href="manifest.webmanifest">');
    const manifest = JSON.parse(readFileSync(join(web, 'manifest.webmanifest'), 'utf8')) as {
      icons: unknown[];
    };
    expect(manifest.icons.length).toBeGreaterThan(0);
    // Besides what index.html loads, assets/ holds only the chunks the entry imports (uPlot, loaded with
    // the first chart): no stale bundles.
    const entry = readFileSync(join(web, assets.find((a) => a.endsWith('.js'))!), 'utf8');
    for (const file of readdirSync(join(web, 'assets')))
      if (!assets.includes(`assets/${file}`)) {
        expect(file).toMatch(/^chunk-[A-Z0-9]{8}\.js$/);
        expect(entry).toContain(file);
      }
  });

  it('≤ 60 KB gzipped JS and ≤ 10 KB gzipped CSS, with the charting library out of the first load', () => {
    const files = readdirSync(join(web, 'assets')).map((f) => `assets/${f}`);
    const js = files.filter((a) => a.endsWith('.js')).reduce((n, a) => n + gz(a), 0);
    const first = assets.filter((a) => a.endsWith('.js')).reduce((n, a) => n + gz(a), 0);
    const css = files.filter((a) => a.endsWith('.css')).reduce((n, a) => n + gz(a), 0);
    expect(js).toBeGreaterThan(20 * 1024); // the app, Preact and uPlot are in it
    expect(js).toBeLessThanOrEqual(60 * 1024);
    expect(first).toBeLessThan(js - 10 * 1024); // uPlot (~20 KB) comes with the first chart
    expect(css).toBeLessThanOrEqual(10 * 1024);
    // No script reaches for another host at run time (a CDN, fonts).
    for (const a of files)
      expect(readFileSync(join(web, a), 'utf8')).not.toMatch(/https:\/\/(cdn|fonts|unpkg)/);
  });
});
