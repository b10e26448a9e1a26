// A model on a web server as a ByteSource. With HTTP Range support only the bytes asked for are
// fetched (the GGUF header first, then tensors); a server that ignores Range gets downloaded once
// into memory. A read whose connection drops (or that meets a 5xx) asks again for the bytes still missing.
// Network and HTTP failures become DownloadErrors that say what to check.
import { DownloadError } from '../errors';
import { checkRange, type ByteSource } from './byte-source';
import { contentLength, doFetch, httpError, isRetryable, parseContentRange, retryPolicy, sleep, streamBody, type HttpOptions } from './http';
import { Coverage, ProgressReporter, type ProgressCallback } from './progress';

export interface UrlSourceOptions extends HttpOptions {
  onProgress?: ProgressCallback;
}

export class UrlSource implements ByteSource {
  /** True while reads are served by Range requests; false once the whole file is in memory. */
  get rangeSupported(): boolean { return this.memory === undefined; }
  /** Range reads report 'download' progress themselves. */
  get reportsProgress(): boolean { return this.rangeSupported; }
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

  endProgress(): void {
    if (this.rangeSupported) this.reporter.report(this.size);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    if (this.memory) return this.memory.subarray(offset, offset + length);
    const out = new Uint8Array(length);
    // Header windows overlap, so progress counts bytes of the file fetched at least once.
    const base = this.fetched.bytes;
    const fresh = this.fetched.uncovered(offset, offset + length);
    const { attempts, delayMs } = retryPolicy(this.options);
    // Bytes of `out` filled so far: kept across a response that fails midway, so a retry asks for the rest only.
    const filled = { n: 0 };
    for (let failures = 0; ;) {
      const before = filled.n;
      try {
        await this.fetchInto(out, offset, filled, () => this.reporter.report(base + Math.round((filled.n * fresh) / length)));
        const whole = this.memory as Uint8Array | undefined; // set by fetchInto when the server ignored Range
        if (whole) return whole.subarray(offset, offset + length);
        if (filled.n === length) break;
        throw new DownloadError(`${this.name}: asked the server for ${length} bytes at offset ${offset} but the response ended after ${filled.n}; the connection may have dropped — try again`, { retryable: true });
      } catch (e) {
        if (!isRetryable(e)) throw e;
        failures = filled.n > before ? 0 : failures + 1;
        if (failures > attempts) throw e;
        if (failures > 0) await sleep(delayMs * 2 ** (failures - 1), this.options.signal);
      }
    }
    this.fetched.add(offset, offset + length);
    return out;
  }

  /** One Range request for out[filled.n..] (file bytes offset + filled.n ..), advancing filled.n as bytes arrive. */
  private async fetchInto(out: Uint8Array, offset: number, filled: { n: number }, onBytes: () => void): Promise<void> {
    const start = offset + filled.n, end = offset + out.length - 1;
    const res = await doFetch(this.name, this.options, { Range: `bytes=${start}-${end}` });
    if (res.status === 200) {
      // The server stopped honouring Range: take the whole body once and serve from memory.
      const whole = await readBody(res, this.name, this.size, this.options, (n) => this.reporter.report(n));
      if (whole.length !== this.size) throw sizeChanged(this.name, this.size, whole.length);
      this.memory = whole;
      filled.n = out.length;
      return;
    }
    if (res.status !== 206) throw httpError(res, this.name);
    const range = parseContentRange(res.headers.get('content-range'));
    if (range && (range.start !== start || range.end > end || (range.total !== undefined && range.total !== this.size))) {
      await res.body?.cancel();
      throw new DownloadError(`${this.name}: the server answered a request for bytes ${start}-${end} with bytes ${range.start}-${range.end}/${range.total ?? '*'}; the file may have changed on the server — reload and try again`);
    }
    await streamBody(res, this.name, this.options, (chunk) => {
      if (filled.n + chunk.length > out.length) throw new DownloadError(`${this.name}: the server sent more than the ${end - start + 1} bytes asked for at offset ${start}`);
      out.set(chunk, filled.n);
      filled.n += chunk.length;
      onBytes();
    });
  }
}

/**
 * Opens a URL: learns the size with a `Range: bytes=0-0` request. If the server answers 200 (no Range
 * support) the body of that same response is downloaded into memory, with progress.
 */
export async function openUrlSource(url: string, options: UrlSourceOptions = {}): Promise<UrlSource> {
  const res = await retrying(options, () => doFetch(url, options, { Range: 'bytes=0-0' }).then((r) => (r.status >= 500 || r.status === 429 ? Promise.reject(httpError(r, url)) : r)));
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
  const bytes = await readBody(res, url, declared, options, (n) => reporter.report(n));
  if (declared !== undefined && bytes.length !== declared) {
    throw new DownloadError(`${url}: the download ended after ${bytes.length} of ${declared} bytes; the connection may have dropped — try again`);
  }
  return new UrlSource(url, bytes.length, bytes, options);
}

/** `attempt` again after retryable failures (HttpOptions.retry), waiting longer each time. */
export async function retrying<T>(options: HttpOptions, attempt: () => Promise<T>): Promise<T> {
  const { attempts, delayMs } = retryPolicy(options);
  for (let failures = 0; ; failures++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isRetryable(e) || failures >= attempts) throw e;
      await sleep(delayMs * 2 ** failures, options.signal);
    }
  }
}

async function sizeFromHead(url: string, options: UrlSourceOptions): Promise<number> {
  const res = await doFetch(url, options, {}, 'HEAD');
  const n = res.ok ? contentLength(res) : undefined;
  if (n === undefined) throw new DownloadError(`${url}: the server does not say how large the file is (no Content-Range total or Content-Length); download the file and open it locally instead`);
  return n;
}

function sizeChanged(url: string, expected: number, got: number): DownloadError {
  return new DownloadError(`${url}: the file is now ${got} bytes, not ${expected}; it changed on the server — reload and try again`);
}

/** Streams a body into one buffer (preallocated when the length is known), reporting progress. */
async function readBody(
  res: Response, url: string, expected: number | undefined, options: HttpOptions,
  onBytes: (received: number) => void,
): Promise<Uint8Array> {
  let buf = new Uint8Array(expected ?? 1024 * 1024);
  let n = 0;
  await streamBody(res, url, options, (c) => {
    if (n + c.length > buf.length) {
      const grown = new Uint8Array(Math.max(buf.length * 2, n + c.length));
      grown.set(buf.subarray(0, n));
      buf = grown;
    }
    buf.set(c, n);
    n += c.length;
    onBytes(n);
  });
  return n === buf.length ? buf : buf.slice(0, n);
}
