/**
 * The dashboard's built files (scripts/build-web.mjs writes them to dist/web): `/` is index.html,
 * never cached so a new build is picked up at the next load; `/assets/` holds content-hashed names,
 * cached for a year. Nothing outside the folder is ever served, whatever the path says.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The page talks only to this host: its API and its live WebSocket. */
const CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export const NOT_BUILT =
  'The Mothership dashboard is not built.\n\n' +
  'In the mothership folder, run:\n\n    npm run build\n\n' +
  '(it compiles the server and bundles the page with scripts/build-web.mjs into dist/web), then reload.\n' +
  'The API is under /api/ (docs/api.md); MQTT over WebSocket is at /mqtt.\n';

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

/** The file a URL path names inside `root`, or undefined when it would leave it. */
export function fileInside(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const base = resolve(root);
  const file = resolve(base, `.${decoded === '/' ? '/index.html' : decoded}`);
  return file.startsWith(base + sep) ? file : undefined;
}

export class StaticFiles {
  constructor(private readonly root: string) {}

  /** Answers GET/HEAD for a path outside /api/ and /metrics. */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, `${req.method} is not allowed here\n`);
    }
    const file = fileInside(this.root, pathname);
    if (!file) return text(res, 404, 'Not found\n');
    const found = await stat(file).catch(() => undefined);
    if (!found?.isFile()) {
      // No index.html at all: the page was never built.
      const index = await stat(resolve(this.root, 'index.html')).catch(() => undefined);
      if (!index) return text(res, 503, NOT_BUILT);
      return text(res, 404, 'Not found\n');
    }
    const isIndex = extname(file) === '.html';
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': found.size,
      'cache-control': pathname.startsWith('/assets/') ? IMMUTABLE : 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(isIndex ? { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await new Promise<void>((done) => {
      const stream = createReadStream(file);
      stream.on('error', () => {
        res.destroy();
        done();
      });
      stream.on('end', done);
      stream.pipe(res);
    });
  }
}
