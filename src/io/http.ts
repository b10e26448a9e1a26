// HTTP for model files: one fetch wrapper that turns network and HTTP failures into DownloadErrors saying what
// to check, the header parsing Range downloads need, the retry policy (dropped connections, 5xx, 429), and the
// idle timeout: a server that accepts the connection and then sends nothing would otherwise leave a load pending forever.
import { DownloadError, abortError } from '../errors';
import type { ModelFetchOptions } from './fetch-options';

export interface HttpOptions {
  signal?: AbortSignal;
  /** Injected fetch (tests); defaults to globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
  /** Sent with every request (the hub's Authorization). */
  headers?: Record<string, string>;
  retry?: ModelFetchOptions['retry'];
  /** ModelFetchOptions.idleTimeoutMs. */
  idleTimeoutMs?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Longer than setTimeout can wait (it would fire at once): no idle timer at all. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onIdle` once `ms` pass without a `poke()`. The clock runs from creation; `stop()` ends it. Both the
 * wait for the response headers and every wait for the next piece of the body count.
 */
class IdleTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  fired = false;
  constructor(private readonly ms: number, private readonly onIdle: () => void) { this.poke(); }
  poke(): void {
    this.stop();
    if (this.ms > MAX_TIMER_MS) return;
    this.timer = setTimeout(() => { this.fired = true; this.onIdle(); }, this.ms);
  }
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function idleTimeoutOf(options: Pick<HttpOptions, 'idleTimeoutMs'>): number {
  return options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
}

/** Retryable, like a dropped connection: a server that stalled once may answer the next request. */
function stalledError(url: string, ms: number, when: string): DownloadError {
  return new DownloadError(
    `${url}: the server stopped responding (no data for ${formatSeconds(ms)} ${when}). Check that the server is up; ` +
    `if it is only slow, allow it more time with the idleTimeoutMs option (now ${ms} ms)`,
    { retryable: true },
  );
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

export async function doFetch(url: string, options: HttpOptions, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (options.signal?.aborted) throw abortError();
  // Our own controller, so the idle timer can end a request the caller's signal knows nothing of; the caller's
  // signal still aborts it, body included.
  const controller = new AbortController();
  const ms = idleTimeoutOf(options);
  const idle = new IdleTimer(ms, () => controller.abort());
  try {
    // no-store: the model cache (or the GPU) keeps the bytes; the HTTP cache would hold a second copy.
    const signal = options.signal ? eitherSignal(options.signal, controller.signal) : controller.signal;
    return await fetchFn(url, { method, headers: { ...options.headers, ...headers }, signal, cache: 'no-store' });
  } catch (e) {
    if (options.signal?.aborted) throw abortError();
    if (idle.fired) throw stalledError(url, ms, 'waiting for the response headers');
    if ((e as { name?: string })?.name === 'AbortError') throw abortError();
    throw new DownloadError(
      `could not fetch ${url}: ${(e as Error)?.message ?? String(e)}. Check the URL and your connection; ` +
      `in a browser the server must also allow cross-origin requests (CORS) including the Range header`,
      { cause: e, retryable: true },
    );
  } finally {
    idle.stop();
  }
}

/** Aborted when either is (AbortSignal.any where the runtime has it: it holds its sources weakly). */
function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const any = (AbortSignal as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
  if (any) return any.call(AbortSignal, [a, b]);
  const both = new AbortController();
  for (const s of [a, b]) s.addEventListener('abort', () => both.abort(), { once: true });
  return both.signal;
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
export async function streamBody(
  res: Response, url: string, options: Pick<HttpOptions, 'signal' | 'idleTimeoutMs'>, onChunk: (chunk: Uint8Array) => Promise<void> | void,
): Promise<number> {
  const { signal } = options;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    await onChunk(bytes);
    return bytes.length;
  }
  const reader = res.body.getReader();
  const ms = idleTimeoutOf(options);
  let n = 0;
  let finished = false;
  // Cancelling the reader ends its pending read (and the connection), so a silent server cannot hold us.
  const idle = new IdleTimer(ms, () => { reader.cancel().catch(() => {}); });
  try {
    for (;;) {
      if (signal?.aborted) throw abortError();
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        idle.poke();
        chunk = await reader.read();
        idle.stop();
      } catch (e) {
        if (signal?.aborted) throw abortError();
        if (idle.fired) throw stalledError(url, ms, `after ${n} bytes of the response`);
        throw new DownloadError(`${url}: the connection dropped after ${n} bytes of the response (${(e as Error)?.message ?? String(e)})`, { cause: e, retryable: true });
      }
      if (idle.fired) throw stalledError(url, ms, `after ${n} bytes of the response`);
      if (chunk.done) { finished = true; break; }
      await onChunk(chunk.value);
      n += chunk.value.length;
    }
  } finally {
    idle.stop();
    if (!finished) reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
  return n;
}
