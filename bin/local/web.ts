import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { WEB_SECURITY_HEADERS } from '../../web/headers';

/**
 * The dashboard under `npm start` (issue 13): built with Vite into web/dist when its sources are newer than the
 * build (or there is none), then served at `/` on the API's own port. Files are served with the same security
 * headers CloudFront adds in AWS (web/headers.ts); a path that is no file is the app's (index.html), as the
 * single-page app routes on the client. Hashed assets are cached for a year, index.html never.
 */
export const WEB_ROOT = resolve(__dirname, '../../web');
export const WEB_DIST = join(WEB_ROOT, 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** The newest modification time under a directory (the build's inputs). */
const newestUnder = (dir: string): number => {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
};

/** Whether web/dist is missing or older than what it is built from. */
export const webBuildIsStale = (): boolean => {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const inputs = Math.max(newestUnder(join(WEB_ROOT, 'src')), ...['index.html', 'vite.config.mts', 'headers.ts'].map((file) => statSync(join(WEB_ROOT, file)).mtimeMs));
  return inputs > built;
};

/** Builds the dashboard with Vite (a child process: Vite is ESM and this runtime is CommonJS), if it is stale. */
export const ensureWebBuild = (options: { force?: boolean; quiet?: boolean } = {}): { built: boolean; ms: number } => {
  const started = performance.now();
  if (!options.force && !webBuildIsStale()) return { built: false, ms: 0 };
  // vite's package.json exports no bin path; its bin is beside the package root.
  const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', join(WEB_ROOT, 'vite.config.mts'), '--logLevel', options.quiet ? 'error' : 'warn'], {
    cwd: WEB_ROOT,
    stdio: options.quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
  });
  if (result.status !== 0) throw new Error(`the dashboard's build failed (vite exited ${result.status ?? result.signal}); see above`);
  return { built: true, ms: Math.round(performance.now() - started) };
};

/** Answers a GET or HEAD for the dashboard; false if the request is not the dashboard's (the API's, or another method). */
export const serveWeb = (req: IncomingMessage, res: ServerResponse, pathname: string, dist = WEB_DIST): boolean => {
  const method = (req.method ?? 'GET').toUpperCase();
  if ((method !== 'GET' && method !== 'HEAD') || pathname === '/api' || pathname.startsWith('/api/')) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    decoded = '/';
  }
  // Inside dist only: a `..` that climbs out is the app's path, not a file.
  const candidate = normalize(join(dist, decoded));
  const inside = candidate.startsWith(dist + sep);
  const isFile = inside && existsSync(candidate) && statSync(candidate).isFile();
  const file = isFile ? candidate : join(dist, 'index.html');
  if (!existsSync(file)) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...WEB_SECURITY_HEADERS });
    res.end('The dashboard is not built: restart npm start, which builds it.');
    return true;
  }
  const body = readFileSync(file);
  const hashed = isFile && decoded.startsWith('/assets/');
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...WEB_SECURITY_HEADERS,
  });
  res.end(method === 'HEAD' ? undefined : body);
  return true;
};
