// How models are fetched: the hub, file choice, credentials, the cache and retries. Plain data, so the options
// cross the worker boundary as they are (createEngine → worker → loadModel → locateModel).
import { InvalidRequestError } from '../errors';

export interface ModelFetchOptions {
  /**
   * Base URL of the Hugging Face hub (or a mirror) for model ids like `owner/repo`: files are fetched from
   * `<hubUrl>/<owner>/<repo>/resolve/<revision>/<file>`. Default https://huggingface.co (in Node, $HF_ENDPOINT).
   */
  hubUrl?: string;
  /**
   * For an `owner/repo` id whose repo holds several GGUF files: the quantization to take ('Q4_K_M'), or a list
   * in order of preference. Default DEFAULT_QUANTIZATIONS (small but good: Q4_K_M first).
   */
  quantization?: string | string[];
  /** Access token for gated or private repos, sent only to the hub (in Node, default $HF_TOKEN). */
  token?: string;
  /**
   * Keep downloaded files in the local cache (browser: the origin-private file system; Node: `cacheDir`), so a
   * second load needs no network. Default: true for hub ids, false for plain URLs (read by Range requests).
   * false for a hub id streams its files by Range requests instead.
   */
  cache?: boolean;
  /** Node: the cache directory. Default $HEARTH_CACHE_DIR, else `hearth` under the user's cache directory. */
  cacheDir?: string;
  /** Refuse a download that would grow the cache beyond this many bytes (the storage estimate applies too). */
  cacheMaxBytes?: number;
  /** Failed requests (dropped connection, HTTP 5xx/429) are retried: `attempts` times in a row without progress (default 4), waiting `delayMs` (default 250) doubling each time. */
  retry?: { attempts?: number; delayMs?: number };
  /**
   * A server that sends nothing for this long — no response headers, or no next piece of the body — counts as
   * a dropped connection: retried as `retry` says, then a DownloadError saying the server stopped responding.
   * Default 30000 ms; Infinity waits forever.
   */
  idleTimeoutMs?: number;
}

const KEYS = ['hubUrl', 'quantization', 'token', 'cache', 'cacheDir', 'cacheMaxBytes', 'retry', 'idleTimeoutMs'] as const;

/** Just the fetch options of a larger options object (for passing them on), checked. Throws InvalidRequestError. */
export function fetchOptionsOf(options: ModelFetchOptions): ModelFetchOptions {
  const t = options.idleTimeoutMs;
  if (t !== undefined && !(typeof t === 'number' && t > 0)) {
    throw new InvalidRequestError(`idleTimeoutMs must be a number of milliseconds above 0 (Infinity: no limit), got ${typeof t === 'string' ? JSON.stringify(t) : String(t)}`);
  }
  const out: Record<string, unknown> = {};
  for (const k of KEYS) if (options[k] !== undefined) out[k] = options[k];
  return out as ModelFetchOptions;
}
