// The hub serves the built dashboard at / (no-cache) and its hashed assets (cached a year), a clear
// page when it was never built, and never a file outside its folder; /api/ and /metrics are unchanged.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Mothership, startMothership } from '../../src/app/mothership.js';
import { cleanup, hubUp, scratch } from './helpers.js';

const stopped: Mothership[] = [];
afterAll(async () => {
  for (const m of stopped) await m.stop();
  await cleanup();
});

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function hubServing(dir: string): Promise<string> {
  const m = await startMothership({
    port: 0,
    wsPort: 0,
    host: '127.0.0.1',
    persistence: false,
    mdns: false,
    dashboardDir: dir,
    logFormat: 'json',
  });
  stopped.push(m);
  return `http://127.0.0.1:${m.listeners.find((l) => l.protocol === 'websockets')!.port}`;
}

describe('the hub serves the dashboard', () => {
  it('/ is the built index.html, never cached; hashed assets are cached for a year with their type', async () => {
    const { base } = await hubUp();
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await index.text();
    expect(html).toContain('<title>Mothership</title>');
    const built = readFileSync(fileURLToPath(new URL('../../dist/web/index.html', import.meta.url)), 'utf8');
    expect(html).toBe(built);
    const js = html.match(/src="(assets\/app-[^"]+\.js)"/)![1]!;
    const asset = await fetch(`${base}/${js}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const manifest = await fetch(`${base}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toBe('application/manifest+json; charset=utf-8');
    expect((await fetch(`${base}/assets/app-NOPE.js`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('/api/ and /metrics answer as before', async () => {
    const { base } = await hubUp();
    const missing = await fetch(`${base}/api/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('MS_HUB_NOT_FOUND');
    expect((await fetch(`${base}/api/devices`)).status).toBe(200);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('never serves a file outside its folder, however the path is spelled', async () => {
    const root = await scratch();
    const web = join(root, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<title>ok</title>');
    writeFileSync(join(root, 'secret.txt'), 'TOP-SECRET');
    const base = await hubServing(web);
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/index.html%00.txt',
      '/%E0%A4%A',
    ]) {
      const res = await rawGet(base, path);
      expect(res.body, path).not.toContain('TOP-SECRET');
      expect([400, 404], path).toContain(res.status);
    }
    expect((await rawGet(base, '/')).body).toBe('<title>ok</title>');
  });

  it('without a build, / says how to build it', async () => {
    const base = await hubServing(join(await scratch(), 'not-built'));
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toMatch(/dashboard is not built[\s\S]*npm run build/);
    expect((await fetch(`${base}/api/devices`)).status).toBe(200);
  });
});
