#!/usr/bin/env node
/**
 * Bundles the dashboard (src/web) with esbuild into dist/web: index.html, the web app manifest and
 * its icon, and assets/ with content-hashed names (the hub caches those for a year and never caches
 * index.html). Nothing is fetched at run time: the page works on a LAN with no internet. Prints the
 * gzipped sizes against the budget (test/web/bundle-size.test.ts asserts them).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const BUDGET = { js: 60 * 1024, css: 10 * 1024 };

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/** Builds into `<root>/dist/web`; returns the files and their gzipped sizes. */
export async function buildWeb(root = fileURLToPath(new URL('..', import.meta.url)), { quiet = false } = {}) {
  const src = join(root, 'src', 'web');
  const out = join(root, 'dist', 'web');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: join(src, 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    // Each screen but Devices, and uPlot, are chunks loaded when first shown.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    target: ['chrome100', 'firefox100', 'safari15'],
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const meta = result.metafile.outputs;
  const outputs = Object.keys(meta).map((f) => join(root, f));
  const js = outputs.filter((f) => f.endsWith('.js'));
  const css = outputs.filter((f) => f.endsWith('.css'));
  const entry = js.filter((f) => basename(f).startsWith('app-'));
  // The first load: the entry and what it imports statically (the other screens and uPlot come later).
  const first = new Set();
  const visit = (name) => {
    if (first.has(name)) return;
    first.add(name);
    for (const i of meta[name].imports) if (i.kind === 'import-statement') visit(i.path);
  };
  for (const f of Object.keys(meta)) if (basename(f).startsWith('app-') && f.endsWith('.js')) visit(f);
  const firstJs = [...first].map((f) => join(root, f));
  const tags = [
    ...css.map((f) => `<link rel="stylesheet" href="assets/${basename(f)}">`),
    // Fetched with the entry, not after it is parsed.
    ...firstJs
      .filter((f) => !entry.includes(f))
      .map((f) => `<link rel="modulepreload" href="assets/${basename(f)}">`),
    ...entry.map((f) => `<script type="module" src="assets/${basename(f)}"></script>`),
  ].join('\n    ');
  const html = readFileSync(join(src, 'index.html'), 'utf8').replace('<!-- assets -->', tags);
  writeFileSync(join(out, 'index.html'), html);
  copyFileSync(join(src, 'manifest.webmanifest'), join(out, 'manifest.webmanifest'));
  copyFileSync(join(src, 'icon.svg'), join(out, 'icon.svg'));
  const gz = (files) => files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  const sizes = { js: gz(js), firstJs: gz(firstJs), css: gz(css) };
  if (!quiet)
    console.log(
      `dashboard: JS ${kb(sizes.js)} gzipped (budget ${kb(BUDGET.js)}; ${kb(sizes.firstJs)} in the first load, the rest as screens and the first chart show), CSS ${kb(sizes.css)} gzipped (budget ${kb(BUDGET.css)}) in ${join('dist', 'web')}`,
    );
  return { out, js, css, sizes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWeb().catch((err) => {
    console.error(`dashboard build failed: ${err.message}`);
    process.exit(1);
  });
}
