// HTTP for model files: one fetch wrapper that turns network and HTTP failures into DownloadErrors saying what
// to check, the header parsing Range downloads need, and the retry policy (dropped connections, 5xx, 429).
import { DownloadError, abortError } from '../errors';
import type { ModelFetchOptions } from './fetch-options';

export interface HttpOptions {
  signal?: AbortSignal;
  /** Injected fetch (tests); defaults to globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
  /** Sent with every request (the hub's Authorization). */
  headers?: Record<string, string>;
  retry?: ModelFetchOptions['retry'];
}

export async function doFetch(url: string, options: HttpOptions, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (options.signal?.aborted) throw abortError();
  try {
    // no-store: the model cache (or the GPU) keeps the bytes; the HTTP cache would hold a second copy.
    return await fetchFn(url, { method, headers: { ...options.headers, ...headers }, signal: options.signal, cache: 'no-store' });
  } catch (e) {
    if (options.signal?.aborted || (e as { name?: string })?.name === 'AbortError') throw abortError();
    throw new DownloadError(
      `could not fetch ${url}: ${(e as Error)?.message ?? String(e)}. Check the URL and your connection; ` +
      `in a browser the server must also allow cross-origin requests (CORS) including the Range header`,
      { cause: e, retryable: true },
    );
  }
}

export function httpError(res: Response, url: string): DownloadError {
  res.body?.cancel().catch(() => {});
  const s = res.status;
  const hint =
    s === 404 ? 'the file does not exist at that URL — check the URL' :
    s === 401 || s === 403 ? 'access was denied — the model may be gated or private: accept its license on the hub and pass an access token (token option, $HF_TOKEN in Node), or download it and open it locally' :
    s === 416 ? 'the server cannot serve the byte range asked for — the file may have changed on the server; try again' :
    s === 429 ? 'the server is rate-limiting requests — wait and try again' :
    s >= 500 ? 'the server failed — try again later' :
    'check the URL';
  return new DownloadError(`HTTP ${s}${res.statusText ? ' ' + res.statusText : ''} fetching ${url}: ${hint}`, { status: s, retryable: s >= 500 || s === 429 });
}

export function contentLength(res: Response): number | undefined {
  const h = res.headers.get('content-length');
  if (h === null || res.headers.get('content-encoding')) return undefined; // encoded length != file length
  const n = Number(h);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export function parseContentRange(h: string | null): { start: number; end: number; total?: number } | undefined {
  const m = h ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(h.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** Retries in a row without progress, and the wait before each (doubling). */
export function retryPolicy(options: HttpOptions): { attempts: number; delayMs: number } {
  return { attempts: options.retry?.attempts ?? 4, delayMs: options.retry?.delayMs ?? 250 };
}

/** True for failures worth another try: dropped connections, 5xx, 429. */
export function isRetryable(e: unknown): boolean {
  return e instanceof DownloadError && e.retryable;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(abortError()); return; }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(abortError()); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Streams a body chunk by chunk to `onChunk`; a connection lost mid-body is a retryable DownloadError
 * (after `onChunk` saw every byte that did arrive).
 */
export async function streamBody(res: Response, url: string, signal: AbortSignal | undefined, onChunk: (chunk: Uint8Array) => Promise<void> | void): Promise<number> {
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    await onChunk(bytes);
    return bytes.length;
  }
  const reader = res.body.getReader();
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
        throw new DownloadError(`${url}: the connection dropped after ${n} bytes of the response (${(e as Error)?.message ?? String(e)})`, { cause: e, retryable: true });
      }
      if (chunk.done) { finished = true; break; }
      await onChunk(chunk.value);
      n += chunk.value.length;
    }
  } finally {
    if (!finished) reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
  return n;
}
