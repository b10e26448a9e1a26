// The production build (vite build, the project's config) served as static files on 127.0.0.1 under a
// path prefix — like a real deployment at https://host/some/path/ — with CORS (so other origins can embed
// it) and Range (as the engine reads models). Also: a folder for test artifacts such as screenshots.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { build } from 'vite';
import { repoRoot } from './browser';

export interface BuildOutput {
  dir: string;
  /** What the build printed (the embed budget and service worker lines). */
  log: string;
}

/** Builds the app into a fresh temporary folder (the checkout's dist/ is left alone). */
export async function buildApp(): Promise<BuildOutput> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-dist-'));
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => { lines.push(args.map(String).join(' ')); };
  try {
    await build({ configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'silent', build: { outDir: dir, emptyOutDir: true } });
  } finally {
    console.log = log;
  }
  return { dir, log: lines.join('\n') };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.webmanifest': 'application/manifest+json', '.png': 'image/png', '.json': 'application/json',
  '.gguf': 'application/octet-stream', '.wasm': 'application/wasm', '.LICENSE': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  /** Origin, e.g. http://127.0.0.1:40123 (no trailing slash). */
  origin: string;
  /** Where the files are: `${origin}${prefix}` (ends with '/'). */
  url: string;
  /** Paths requested so far (for assertions about what was fetched). */
  requests: string[];
  /** Replaces a served file's bytes (e.g. a new sw.js, to simulate a deploy). */
  override(path: string, body: Buffer | string | undefined): void;
  close(): Promise<void>;
}

/** Serves `dir` at `${origin}${prefix}`; other paths are 404. `pages` adds extra files by path (a host page). */
export async function serveStatic(dir: string, prefix = '/', pages: Record<string, string> = {}): Promise<StaticServer> {
  const requests: string[] = [];
  const overrides = new Map<string, Buffer | string>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    let body: Buffer | string | undefined = overrides.get(path) ?? pages[path];
    let type = TYPES[extname(path)] ?? 'application/octet-stream';
    if (body === undefined && path.startsWith(prefix)) {
      const rel = normalize(path.slice(prefix.length) || 'index.html').replace(/^(\.\.[/\\])+/, '');
      const file = join(dir, rel.endsWith('/') ? `${rel}index.html` : rel);
      try {
        if (statSync(file).isFile()) {
          body = readFileSync(file);
          type = TYPES[extname(file)] ?? type;
        }
      } catch { /* 404 below */ }
    } else if (body !== undefined && path in pages) type = TYPES[extname(path)] ?? 'text/html; charset=utf-8';
    if (body === undefined) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found'); return; }
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : bytes.length - 1, bytes.length - 1);
      if (start >= bytes.length) { res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` }).end(); return; }
      res.writeHead(206, { 'Content-Type': type, 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' });
      res.end(req.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length, 'Accept-Ranges': 'bytes' });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  };
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}${prefix}`,
    requests,
    override: (path, body) => { if (body === undefined) overrides.delete(path); else overrides.set(path, body); },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** test-artifacts/<name> under the checkout (ignored by git), created if needed. */
export function artifactDir(name: string): string {
  const dir = join(repoRoot, 'test-artifacts', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
