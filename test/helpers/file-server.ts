// A static HTTP server on 127.0.0.1 for model files, with or without Range support, counting requests.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServer {
  /** Origin, e.g. http://127.0.0.1:40123; files are served at `${url}/<name>`. */
  url: string;
  /** Requests received so far. */
  requests: number;
  close(): Promise<void>;
}

/** Serves `files` by path ('/m.gguf' → bytes); anything else is a 404. */
export function serveFiles(files: Record<string, Uint8Array>, options: { range: boolean }): Promise<FileServer> {
  const state = { requests: 0 };
  const server = createServer((req, res) => {
    state.requests++;
    const bytes = files[req.url ?? ''];
    if (!bytes) { res.writeHead(404).end('not found'); return; }
    const m = options.range ? /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '') : null;
    if (m) {
      const start = Number(m[1]), end = Math.min(Number(m[2]), bytes.length - 1);
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': end - start + 1 });
      res.end(Buffer.from(bytes.subarray(start, end + 1)));
    } else {
      res.writeHead(200, { 'Content-Length': bytes.length });
      res.end(Buffer.from(bytes));
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      get requests() { return state.requests; },
      close: () => new Promise<void>((done) => server.close(() => done())),
    });
  }));
}
