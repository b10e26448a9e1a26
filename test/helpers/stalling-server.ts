// A local HTTP server (127.0.0.1, Range, CORS) serving one file at /m.gguf that stalls on purpose: before the
// response headers, after them, or halfway through the body, per request as the test queues it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the server answers a GET: normally, never (not even headers), headers only, or half the body. */
export type Mode = 'ok' | 'no-headers' | 'headers-only' | 'half-body';

export class StallingServer {
  /** Modes for the next GETs, in order; after them `then`. */
  queue: Mode[] = [];
  then: Mode = 'ok';
  readonly ranges: (string | undefined)[] = [];
  url = '';
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((req, res) => this.handle(req, res));

  constructor(private readonly file: Uint8Array) {}

  async start(): Promise<void> {
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/m.gguf`;
  }

  set(modes: Mode[], then: Mode): void {
    this.queue = [...modes];
    this.then = then;
    this.ranges.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // CORS, so pages on another origin (the Chromium test) can read it.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    this.ranges.push(req.headers.range);
    const mode = this.queue.shift() ?? this.then;
    if (mode === 'no-headers') return; // the connection stays open, nothing is ever sent
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Math.min(Number(m[2]), this.file.length - 1) : this.file.length - 1;
    res.writeHead(m ? 206 : 200, {
      'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes',
      ...(m ? { 'Content-Range': `bytes ${start}-${end}/${this.file.length}` } : {}),
    });
    const body = Buffer.from(this.file.subarray(start, end + 1));
    if (mode === 'headers-only') { res.flushHeaders(); return; }
    if (mode === 'half-body') { res.write(body.subarray(0, Math.floor(body.length / 2))); return; }
    res.end(body);
  }
}

