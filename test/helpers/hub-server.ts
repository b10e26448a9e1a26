// A local Hugging Face hub on 127.0.0.1 for loading tests: the hub's URL layout (`/<owner>/<repo>/resolve/
// <revision>/<file>`, `/api/models/<owner>/<repo>/tree/<revision>`), Range and HEAD requests, ETags (the
// SHA-256 for LFS-style files, as the hub's LFS ETags are), CORS for pages on another port, gated repos, and
// fault injection: dropped connections, HTTP errors, wrong Content-Length, corrupted bytes, slow bodies.
// Files are served from memory or, for large sparse files, from disk.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HubFileSpec {
  path: string;
  /** The bytes, or a file on disk (`size` bytes) streamed from there. */
  bytes?: Uint8Array;
  diskPath?: string;
  size?: number;
  /** LFS file (SHA-256 ETag and lfs entry in the listing); default: every .gguf/.safetensors file. */
  lfs?: boolean;
  /** The SHA-256 to publish (computed from `bytes` when omitted; a disk file without it is published as non-LFS). */
  sha256?: string;
}

/** One injected failure, applied to resolve requests that match `file` (default: any), `times` times (default once). */
export interface Fault {
  file?: string;
  times?: number;
  /** Answer with this HTTP status instead. */
  status?: number;
  /** Send only this many body bytes, then destroy the connection. */
  dropAfter?: number;
  /** Flip the bits of the byte at this file offset. */
  corruptAt?: number;
  /** Declare a Content-Length this much larger than the body, then close the connection. */
  contentLengthDelta?: number;
  /** Send the body in 16 KiB pieces this many milliseconds apart. */
  slowMs?: number;
}

export interface HubRequest { method: string; path: string; range?: string; status: number; authorized: boolean }

interface Repo { revision: string; files: Map<string, HubFileSpec & { size: number; sha256?: string; lfs: boolean }>; token?: string }

export class LocalHub {
  readonly requests: HubRequest[] = [];
  private readonly repos = new Map<string, Repo>();
  private readonly faults: (Fault & { left: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private server = createServer((req, res) => { this.handle(req, res).catch((e) => { res.destroy(e as Error); }); });
  url = '';

  static async start(): Promise<LocalHub> {
    const hub = new LocalHub();
    await hub.listen();
    return hub;
  }

  private listen(port = 0): Promise<void> {
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => {
      this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
      resolve();
    }));
  }

  /** Adds (or replaces) `owner/repo` at `revision` (default main); `token`: gated, needs `Authorization: Bearer <token>`. */
  addRepo(repo: string, files: HubFileSpec[], options: { revision?: string; token?: string } = {}): void {
    const revision = options.revision ?? 'main';
    const map = new Map<string, HubFileSpec & { size: number; sha256?: string; lfs: boolean }>();
    for (const f of files) {
      const size = f.bytes?.length ?? f.size;
      if (size === undefined) throw new Error(`hub-server: ${f.path} needs bytes or a size`);
      const sha256 = f.sha256 ?? (f.bytes ? createHash('sha256').update(f.bytes).digest('hex') : undefined);
      map.set(f.path, { ...f, size, sha256, lfs: (f.lfs ?? /\.(gguf|safetensors)$/.test(f.path)) && sha256 !== undefined });
    }
    this.repos.set(`${repo}@${revision}`, { revision, files: map, token: options.token });
  }

  /** Queues a failure for the next matching resolve request(s). */
  fault(f: Fault): void {
    this.faults.push({ ...f, left: f.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests for files (resolve URLs) so far, optionally only for paths ending in `file`. */
  fileRequests(file?: string): HubRequest[] {
    return this.requests.filter((r) => r.path.includes('/resolve/') && (!file || r.path.endsWith(`/${file}`)));
  }

  /** Stops accepting connections and cuts open ones (a server gone offline). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Serves again on the same port after stop(). */
  async restart(): Promise<void> {
    const port = Number(new URL(this.url).port);
    this.server = createServer((req, res) => { this.handle(req, res).catch((e) => { res.destroy(e as Error); }); });
    await this.listen(port);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    const log: HubRequest = { method: req.method ?? 'GET', path, range: req.headers.range, status: 200, authorized: false };
    this.requests.push(log);
    const send = (status: number, headers: Record<string, string | number> = {}, body?: string) => {
      log.status = status;
      res.writeHead(status, { ...CORS, ...headers });
      res.end(body);
    };
    if (req.method === 'OPTIONS') return send(204, { 'Access-Control-Max-Age': 600 });

    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(path);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repo = tree ? this.repos.get(`${tree[1]}@${tree[2]}`) : resolve ? this.repos.get(`${resolve[1]}@${resolve[2]}`) : undefined;
    if (!repo) return send(404, { 'Content-Type': 'application/json', 'X-Error-Code': 'RepoNotFound' }, JSON.stringify({ error: 'Repository not found' }));
    log.authorized = repo.token === undefined || req.headers.authorization === `Bearer ${repo.token}`;
    if (!log.authorized) return send(req.headers.authorization ? 403 : 401, { 'Content-Type': 'application/json' }, JSON.stringify({ error: 'Access to this repo is restricted' }));

    if (tree) {
      const entries: unknown[] = [];
      const dirs = new Set<string>();
      for (const f of repo.files.values()) {
        for (let i = f.path.indexOf('/'); i >= 0; i = f.path.indexOf('/', i + 1)) dirs.add(f.path.slice(0, i));
        entries.push({
          type: 'file', path: f.path, size: f.lfs ? 134 : f.size, oid: gitOid(f.path),
          ...(f.lfs ? { lfs: { oid: f.sha256, size: f.size, pointerSize: 134 } } : {}),
        });
      }
      for (const d of dirs) entries.push({ type: 'directory', path: d, size: 0, oid: gitOid(d) });
      return send(200, { 'Content-Type': 'application/json' }, JSON.stringify(entries));
    }

    const file = repo.files.get(resolve![3]!);
    if (!file) return send(404, { 'X-Error-Code': 'EntryNotFound' }, 'Entry not found');
    const fault = this.takeFault(file.path);
    if (fault?.status) return send(fault.status, {}, `injected ${fault.status}`);

    const etag = file.lfs ? `"${file.sha256}"` : `"${gitOid(file.path)}"`;
    const headers: Record<string, string | number> = { 'Accept-Ranges': 'bytes', ETag: etag, 'Content-Type': 'application/octet-stream' };
    if (file.lfs) Object.assign(headers, { 'X-Linked-Etag': etag, 'X-Linked-Size': file.size });
    let start = 0, end = file.size - 1, status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), file.size - 1) : file.size - 1;
      if (start >= file.size || start > end) return send(416, { 'Content-Range': `bytes */${file.size}` });
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${file.size}`;
    }
    headers['Content-Length'] = end - start + 1 + (fault?.contentLengthDelta ?? 0);
    log.status = status;
    res.writeHead(status, { ...CORS, ...headers });
    if (req.method === 'HEAD') { res.end(); return; }
    await this.body(res, file, start, end, fault);
  }

  private takeFault(path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => f.left > 0 && (!f.file || f.file === path));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (--f.left <= 0) this.faults.splice(i, 1);
    return f;
  }

  /** Writes bytes [start, end] of the file, applying the fault; resolves when done or cut. */
  private async body(res: ServerResponse, file: HubFileSpec, start: number, end: number, fault: Fault | undefined): Promise<void> {
    let sent = 0;
    const limit = fault?.dropAfter ?? Infinity;
    const piece = fault?.slowMs ? 16 * 1024 : 1 << 20;
    const write = (chunk: Uint8Array, at: number): Promise<boolean> => new Promise((resolve) => {
      if (res.destroyed) { resolve(false); return; }
      if (fault?.corruptAt !== undefined && fault.corruptAt >= at && fault.corruptAt < at + chunk.length) {
        chunk = Uint8Array.from(chunk);
        chunk[fault.corruptAt - at] ^= 0xff;
      }
      const ok = res.write(chunk);
      if (ok) resolve(true);
      else res.once('drain', () => resolve(true));
    });
    const source = file.bytes ? undefined : createReadStream(file.diskPath!, { start, end, highWaterMark: piece });
    const chunks: AsyncIterable<Uint8Array> = source ?? (async function* () {
      for (let at = start; at <= end; at += piece) yield file.bytes!.subarray(at, Math.min(end + 1, at + piece));
    })();
    try {
      for await (const c of chunks) {
        const at = start + sent;
        const take = Math.min(c.length, limit - sent);
        if (take > 0 && !(await write(c.subarray(0, take), at))) return;
        sent += take;
        if (sent >= limit) {
          // Flush what was written, then cut the connection mid-body.
          await new Promise((r) => setTimeout(r, 20));
          res.destroy();
          return;
        }
        if (fault?.slowMs) await new Promise((r) => setTimeout(r, fault.slowMs));
      }
    } finally {
      source?.destroy();
    }
    if (fault?.contentLengthDelta) {
      await new Promise((r) => setTimeout(r, 20));
      res.destroy(); // the declared length never arrives
      return;
    }
    res.end();
  }
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Range, Authorization, Content-Type',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Expose-Headers': 'Content-Range, Content-Length, ETag, X-Linked-Etag, X-Linked-Size, Accept-Ranges, Link, X-Error-Code',
};

/** A stable stand-in for a git blob id (40 hex digits). */
function gitOid(path: string): string {
  return createHash('sha1').update(path).digest('hex');
}
