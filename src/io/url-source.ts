// A model on a web server as a ByteSource. With HTTP Range support only the bytes asked for are
// fetched (the GGUF header first, then tensors); a server that ignores Range gets downloaded once
// into memory. Network and HTTP failures become DownloadErrors that say what to check.
import { DownloadError, abortError } from '../errors';
import { checkRange, type ByteSource } from './byte-source';
import { ProgressReporter, type ProgressCallback } from './progress';

export interface UrlSourceOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Injected fetch (tests, custom headers); defaults to globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

export class UrlSource implements ByteSource {
  /** True while reads are served by Range requests; false once the whole file is in memory. */
  get rangeSupported(): boolean { return this.memory === undefined; }
  private readonly fetched = new Coverage();
  private readonly reporter: ProgressReporter;

  constructor(
    readonly name: string,
    readonly size: number,
    private memory: Uint8Array | undefined,
    private readonly options: UrlSourceOptions,
  ) {
    this.reporter = new ProgressReporter(options.onProgress, name, size, 'download');
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    if (this.memory) return this.memory.subarray(offset, offset + length);
    const res = await doFetch(this.name, this.options, { Range: `bytes=${offset}-${offset + length - 1}` });
    if (res.status === 200) {
      // The server stopped honouring Range: take the whole body once and serve from memory.
      this.memory = await readBody(res, this.name, this.size, this.options.signal, (n) => this.reporter.report(n));
      if (this.memory.length !== this.size) throw sizeChanged(this.name, this.size, this.memory.length);
      return this.memory.subarray(offset, offset + length);
    }
    if (res.status !== 206) throw httpError(res, this.name);
    const range = parseContentRange(res.headers.get('content-range'));
    if (range && (range.start !== offset || (range.total !== undefined && range.total !== this.size))) {
      await res.body?.cancel();
      throw new DownloadError(`${this.name}: the server answered a request for bytes ${offset}-${offset + length - 1} with bytes ${range.start}-${range.end}/${range.total ?? '*'}; the file may have changed on the server — reload and try again`);
    }
    // Header windows overlap, so progress counts bytes of the file fetched at least once.
    const base = this.fetched.bytes;
    const fresh = this.fetched.uncovered(offset, offset + length);
    const bytes = await readBody(res, this.name, length, this.options.signal, (n) => this.reporter.report(base + Math.round((n * fresh) / length)));
    if (bytes.length !== length) {
      throw new DownloadError(`${this.name}: asked the server for ${length} bytes at offset ${offset} but got ${bytes.length}; the connection may have dropped — try again`);
    }
    this.fetched.add(offset, offset + length);
    return bytes;
  }
}

/**
 * Opens a URL: learns the size with a `Range: bytes=0-0` request. If the server answers 200 (no Range
 * support) the body of that same response is downloaded into memory, with progress.
 */
export async function openUrlSource(url: string, options: UrlSourceOptions = {}): Promise<UrlSource> {
  const res = await doFetch(url, options, { Range: 'bytes=0-0' });
  if (res.status === 206) {
    await res.body?.cancel().catch(() => {});
    const total = parseContentRange(res.headers.get('content-range'))?.total ?? (await sizeFromHead(url, options));
    return new UrlSource(url, total, undefined, options);
  }
  if (res.status === 416) {
    // Only an empty file cannot satisfy bytes=0-0.
    await res.body?.cancel().catch(() => {});
    return new UrlSource(url, 0, new Uint8Array(0), options);
  }
  if (res.status !== 200) throw httpError(res, url);
  const declared = contentLength(res);
  const reporter = new ProgressReporter(options.onProgress, url, declared ?? 0, 'download');
  const bytes = await readBody(res, url, declared, options.signal, (n) => reporter.report(n));
  if (declared !== undefined && bytes.length !== declared) {
    throw new DownloadError(`${url}: the download ended after ${bytes.length} of ${declared} bytes; the connection may have dropped — try again`);
  }
  return new UrlSource(url, bytes.length, bytes, options);
}

async function doFetch(url: string, options: UrlSourceOptions, headers: Record<string, string>): Promise<Response> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (options.signal?.aborted) throw abortError();
  try {
    return await fetchFn(url, { headers, signal: options.signal });
  } catch (e) {
    if (options.signal?.aborted || (e as { name?: string })?.name === 'AbortError') throw abortError();
    throw new DownloadError(
      `could not fetch ${url}: ${(e as Error)?.message ?? String(e)}. Check the URL and your connection; ` +
      `in a browser the server must also allow cross-origin requests (CORS) including the Range header`,
      { cause: e },
    );
  }
}

async function sizeFromHead(url: string, options: UrlSourceOptions): Promise<number> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await fetchFn(url, { method: 'HEAD', signal: options.signal });
  } catch (e) {
    if (options.signal?.aborted) throw abortError();
    throw new DownloadError(`could not fetch ${url}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  const n = res.ok ? contentLength(res) : undefined;
  if (n === undefined) throw new DownloadError(`${url}: the server does not say how large the file is (no Content-Range total or Content-Length); download the file and open it locally instead`);
  return n;
}

function httpError(res: Response, url: string): DownloadError {
  res.body?.cancel().catch(() => {});
  const s = res.status;
  const hint =
    s === 404 ? 'the file does not exist at that URL — check the URL' :
    s === 401 || s === 403 ? 'access was denied — the model may be gated or need a login; download it and open it locally' :
    s === 429 ? 'the server is rate-limiting requests — wait and try again' :
    s >= 500 ? 'the server failed — try again later' :
    'check the URL';
  return new DownloadError(`HTTP ${s}${res.statusText ? ' ' + res.statusText : ''} fetching ${url}: ${hint}`, { status: s });
}

function contentLength(res: Response): number | undefined {
  const h = res.headers.get('content-length');
  if (h === null || res.headers.get('content-encoding')) return undefined; // encoded length != file length
  const n = Number(h);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function parseContentRange(h: string | null): { start: number; end: number; total?: number } | undefined {
  const m = h ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(h.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

function sizeChanged(url: string, expected: number, got: number): DownloadError {
  return new DownloadError(`${url}: the file is now ${got} bytes, not ${expected}; it changed on the server — reload and try again`);
}

/** Streams a body into one buffer (preallocated when the length is known), reporting progress. */
async function readBody(
  res: Response, url: string, expected: number | undefined, signal: AbortSignal | undefined,
  onBytes: (received: number) => void,
): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  let buf = new Uint8Array(expected ?? 1024 * 1024);
  let n = 0;
  let finished = false;
  try {
    for (;;) {
      if (signal?.aborted) throw abortError();
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (signal?.aborted) throw abortError();
        throw new DownloadError(`${url}: the download failed after ${n} bytes: ${(e as Error)?.message ?? String(e)} — try again`, { cause: e });
      }
      if (chunk.done) { finished = true; break; }
      const c = chunk.value;
      if (n + c.length > buf.length) {
        const grown = new Uint8Array(Math.max(buf.length * 2, n + c.length));
        grown.set(buf.subarray(0, n));
        buf = grown;
      }
      buf.set(c, n);
      n += c.length;
      onBytes(n);
    }
  } finally {
    if (!finished) reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
  return n === buf.length ? buf : buf.slice(0, n);
}

/** Union of byte ranges [start, end), kept merged and sorted. */
class Coverage {
  private spans: [number, number][] = [];
  bytes = 0;

  /** How many bytes of [start, end) are not covered yet. */
  uncovered(start: number, end: number): number {
    let overlap = 0;
    for (const [a, b] of this.spans) overlap += Math.max(0, Math.min(b, end) - Math.max(a, start));
    return end - start - overlap;
  }

  add(start: number, end: number): void {
    const merged: [number, number][] = [];
    for (const span of [...this.spans, [start, end] as [number, number]].sort((x, y) => x[0] - y[0])) {
      const last = merged[merged.length - 1];
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else merged.push([span[0], span[1]]);
    }
    this.spans = merged;
    this.bytes = merged.reduce((sum, [a, b]) => sum + b - a, 0);
  }
}
