// The model cache: files downloaded once, read locally afterwards (offline too). A download streams to the
// store as it arrives and resumes with a Range request from the last byte stored; the bytes are hashed on the
// way, and the file counts as complete only after its size, and its SHA-256 where one is known (the hub's
// LFS hash from its file listing or the ETag), checked out. A mismatch discards the file. Where the store keeps
// what: cache-layout.ts.
import { DownloadError, InvalidRequestError, ResourceError, abortError, isAbortError } from '../errors';
import { formatBytes } from '../gpu/buffers';
import type { ByteSource } from './byte-source';
import { dataPath, keyOf, listingPath, metaPath, parseMeta, type Meta } from './cache-layout';
import { safeSegment, type CacheStore, type CacheWriter } from './cache-store';
import type { ModelFetchOptions } from './fetch-options';
import { contentLength, doFetch, httpError, isRetryable, parseContentRange, retryPolicy, sleep, streamBody, type HttpOptions } from './http';
import { hubBaseUrl, hubFileUrl } from './hub-urls';
import { parseModelId, type HubModelId } from './model-id';
import { Coverage, ProgressReporter, type LoadProgress, type ProgressCallback } from './progress';
import { isNodeRuntime } from './runtime';
import { createSha256, type Sha256 } from './sha256';

/** One file in the cache, as list() reports it. */
export interface CachedFile {
  url: string;
  /** The file's full size (0 while unknown). */
  size: number;
  /** Bytes stored so far (less than `size` for an interrupted download). */
  storedBytes: number;
  complete: boolean;
  /** SHA-256 of the complete file, and whether it was checked against one the server published. */
  sha256?: string;
  verified?: 'sha256' | 'size';
}

/** What a file should turn out to be (from the hub's listing); unknown fields are learned from the response. */
export interface ExpectedFile { size?: number; sha256?: string }

export interface CacheFetchOptions extends HttpOptions { onProgress?: ProgressCallback }

export class ModelCache {
  private constructor(readonly store: CacheStore, private readonly maxBytes: number | undefined) {}

  /** The cache for these options: a directory in Node, OPFS in browsers; undefined where there is no storage. */
  static async open(options: Pick<ModelFetchOptions, 'cacheDir' | 'cacheMaxBytes'> = {}): Promise<ModelCache | undefined> {
    if (options.cacheMaxBytes !== undefined && !(options.cacheMaxBytes >= 0)) throw new InvalidRequestError(`cacheMaxBytes must be a number of bytes, got ${options.cacheMaxBytes}`);
    if (isNodeRuntime()) {
      const nodeModule = './cache-node'; // a variable specifier keeps node:fs out of browser bundles
      const node = (await import(/* @vite-ignore */ nodeModule)) as typeof import('./cache-node');
      return new ModelCache(new node.DirectoryStore(options.cacheDir ?? node.defaultCacheDir()), options.cacheMaxBytes);
    }
    const { OpfsStore, opfsAvailable } = await import('./cache-opfs');
    return opfsAvailable() ? new ModelCache(new OpfsStore(), options.cacheMaxBytes) : undefined;
  }

  /** The directory (Node) or 'browser storage'. */
  get location(): string { return this.store.name; }

  // ---- reading -------------------------------------------------------------------------------

  /** The complete, size-checked entry for `url`, or undefined. */
  async complete(url: string): Promise<Meta | undefined> {
    const meta = await this.readMeta(url);
    if (!meta?.complete || meta.size === undefined) return undefined;
    return (await this.store.fileSize(dataPath(url))) === meta.size ? meta : undefined;
  }

  /** The cached file, reporting 'cache-read' progress as it is read; undefined when it is not (completely) cached. */
  async open(url: string, onProgress?: ProgressCallback): Promise<ByteSource | undefined> {
    if (!(await this.complete(url))) return undefined;
    return new ReportingSource(await this.store.openReader(dataPath(url), url), onProgress, 'cache-read');
  }

  /** The file from the cache, downloading (or resuming) it first when needed. */
  async fetch(url: string, expected: ExpectedFile, options: CacheFetchOptions): Promise<ByteSource> {
    if (!(await this.complete(url))) await this.download(url, expected, options);
    return (await this.open(url, options.onProgress))!;
  }

  /** Bytes still to download for these files (what an interrupted download already stored is subtracted). */
  async missingBytes(files: { url: string; size: number }[]): Promise<number> {
    let missing = 0;
    for (const f of files) {
      if (await this.complete(f.url)) continue;
      const meta = await this.readMeta(f.url);
      const stored = meta && !meta.complete && meta.size === f.size ? (await this.store.fileSize(dataPath(f.url))) ?? 0 : 0;
      missing += Math.max(0, f.size - stored);
    }
    return missing;
  }

  /** Refuses (ResourceError) before a download of `bytes` that the storage or cacheMaxBytes cannot take. */
  async ensureSpace(bytes: number, what: string): Promise<void> {
    if (bytes <= 0) return;
    await this.store.persist?.();
    const available = await this.store.available();
    if (available !== undefined && bytes > available) {
      throw new ResourceError(`${what} needs ${formatBytes(bytes)} of storage to download, but only ${formatBytes(available)} is available in ${this.store.name}. Delete cached models you no longer need (ModelCache.delete/clear), free disk space, or load it with cache: false to stream it without storing it.`);
    }
    if (this.maxBytes !== undefined) {
      const used = await this.size();
      if (used + bytes > this.maxBytes) {
        throw new ResourceError(`${what} needs ${formatBytes(bytes)} more in the model cache, which holds ${formatBytes(used)} of its ${formatBytes(this.maxBytes)} limit (cacheMaxBytes). Delete cached models you no longer need, or raise the limit.`);
      }
    }
  }

  // ---- hub listings --------------------------------------------------------------------------

  async readListing<T>(hub: string, id: HubModelId): Promise<T | undefined> {
    const text = await this.store.readText(listingPath(hub, id));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined; // a damaged listing is fetched again
    }
  }

  async writeListing(hub: string, id: HubModelId, listing: unknown): Promise<void> {
    await this.store.writeText(listingPath(hub, id), JSON.stringify(listing));
  }

  // ---- management ----------------------------------------------------------------------------

  /** Every cached file, complete or not. */
  async list(): Promise<CachedFile[]> {
    const out: CachedFile[] = [];
    for (const path of await this.store.list('meta')) {
      if (!path.endsWith('.json')) continue;
      const meta = parseMeta(await this.store.readText(path));
      if (!meta) continue;
      const storedBytes = (await this.store.fileSize(dataPath(meta.url))) ?? 0;
      const complete = meta.complete && storedBytes === meta.size;
      out.push({ url: meta.url, size: meta.size ?? 0, storedBytes, complete, ...(complete && meta.sha256 ? { sha256: meta.sha256, verified: meta.verified } : {}) });
    }
    return out.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  }

  /** Bytes the cached files take (interrupted downloads included). */
  async size(): Promise<number> {
    let total = 0;
    for (const path of await this.store.list('files')) total += (await this.store.fileSize(path)) ?? 0;
    return total;
  }

  /**
   * Removes a model: a hub id (`owner/repo` — every revision and file of it — or `owner/repo@revision`, on the
   * hub of `options.hubUrl`) or a URL (that one file). Returns how many files were removed.
   */
  async delete(model: string, options: Pick<ModelFetchOptions, 'hubUrl'> = {}): Promise<number> {
    const id = /^https?:\/\//i.test(model) ? undefined : parseModelId(model);
    if (!id) {
      if (!/^https?:\/\//i.test(model)) throw new InvalidRequestError(`delete() takes a hub model id (owner/repo) or a URL, got '${model}'`);
      const had = (await this.store.fileSize(dataPath(model))) !== undefined || (await this.readMeta(model)) !== undefined;
      await this.store.remove(metaPath(model));
      await this.store.remove(dataPath(model));
      return had ? 1 : 0;
    }
    const hub = hubBaseUrl(options);
    const revisionGiven = /@/.test(model);
    // files/<host>/<owner>/<repo>/resolve/<revision>/...
    const repoKey = keyOf(hubFileUrl(hub, { ...id, path: undefined }, 'x')).split('/').slice(0, 3).join('/');
    const prefix = revisionGiven ? `${repoKey}/resolve/${safeSegment(id.revision)}` : repoKey;
    const count = (await this.store.list(`files/${prefix}`)).length;
    await this.store.remove(`files/${prefix}`);
    await this.store.remove(`meta/${prefix}`);
    await this.store.remove(revisionGiven ? listingPath(hub, id) : listingPath(hub, id).replace(/\/[^/]*$/, ''));
    return count;
  }

  /** Removes everything. */
  async clear(): Promise<void> {
    await this.store.remove('');
  }

  // ---- downloading ---------------------------------------------------------------------------

  private async readMeta(url: string): Promise<Meta | undefined> {
    return parseMeta(await this.store.readText(metaPath(url)));
  }

  private async writeMeta(meta: Meta): Promise<void> {
    await this.store.writeText(metaPath(meta.url), JSON.stringify(meta));
  }

  /**
   * Downloads `url` into the cache, resuming what an earlier attempt stored when it is the same file (same
   * size, hash and ETag). Dropped connections and 5xx/429 answers are retried from the last byte stored.
   */
  private async download(url: string, expected: ExpectedFile, options: CacheFetchOptions): Promise<void> {
    const data = dataPath(url);
    const old = await this.readMeta(url);
    const sameFile = old !== undefined && !old.complete
      && (expected.size === undefined || old.size === undefined || old.size === expected.size)
      && (expected.sha256 === undefined || old.sha256 === undefined || old.sha256 === expected.sha256);
    const state: DownloadState = {
      url, size: expected.size ?? (sameFile ? old.size : undefined), sha256: expected.sha256 ?? (sameFile ? old.sha256 : undefined),
      etag: sameFile ? old.etag : undefined, offset: sameFile ? (await this.store.fileSize(data)) ?? 0 : 0,
      hash: await createSha256(), writer: undefined as unknown as CacheWriter, restarted: false,
    };
    if (state.size !== undefined && state.offset > state.size) state.offset = 0;
    if (state.offset > 0) await this.rehash(state, options.signal);
    state.writer = await this.store.openWriter(data, state.offset);
    const resumedFrom = state.offset;
    const reporter = new ProgressReporter(options.onProgress, url, state.size ?? 0, 'download');
    reporter.report(state.offset, resumedFrom);
    const { attempts, delayMs } = retryPolicy(options);
    try {
      await this.writeMeta({ url, size: state.size, sha256: state.sha256, etag: state.etag, complete: false, updated: Date.now() });
      for (let failures = 0; state.size === undefined || state.offset < state.size;) {
        const before = state.offset;
        try {
          await this.request(state, options, (n) => reporter.report(n, resumedFrom));
          if (state.offset < state.size!) {
            throw new DownloadError(`${url}: the response ended after byte ${state.offset} of ${state.size}; the connection may have dropped`, { retryable: true });
          }
        } catch (e) {
          if (!isRetryable(e)) throw e;
          failures = state.offset > before ? 0 : failures + 1;
          if (failures > attempts) throw e;
          if (failures > 0) await sleep(delayMs * 2 ** (failures - 1), options.signal);
        }
      }
      await state.writer.close();
      const actual = state.hash.hex();
      if (state.sha256 !== undefined && actual !== state.sha256) {
        throw discard(new DownloadError(`${url}: the downloaded file's SHA-256 is ${actual}, but the server published ${state.sha256}: it was corrupted on the way (or changed on the server). The cached copy was discarded; try again.`));
      }
      await this.writeMeta({ url, size: state.size, sha256: actual, verified: state.sha256 ? 'sha256' : 'size', etag: state.etag, complete: true, updated: Date.now() });
    } catch (e) {
      await state.writer.close().catch(() => {});
      if (discarded.has(e as object)) {
        await this.store.remove(metaPath(url));
        await this.store.remove(data);
      }
      // Anything else (abort, HTTP errors, retries exhausted) keeps the bytes that arrived for a later resume.
      throw isAbortError(e) ? abortError('Model loading was aborted.') : e;
    }
  }

  /** One GET (a Range request from state.offset when resuming), streamed to the store. */
  private async request(state: DownloadState, options: CacheFetchOptions, onBytes: (n: number) => void): Promise<void> {
    const { url } = state;
    const res = await doFetch(url, options, state.offset > 0 ? { Range: `bytes=${state.offset}-` } : {});
    if (res.status === 416 && state.offset > 0 && !state.restarted) {
      // The stored part is as long as the file or longer: the file changed. Start over once.
      await res.body?.cancel().catch(() => {});
      await this.restart(state);
      return;
    }
    if (res.status !== 200 && res.status !== 206) throw httpError(res, url);
    const etag = res.headers.get('etag') ?? undefined;
    // An ETag is read as SHA-256 only from the server the URL names (the hub's resolve endpoint, a mirror): a CDN
    // behind a redirect may put another hash there (the hub's Xet storage does).
    const published = res.redirected ? undefined : sha256FromEtag(res);
    let total: number | undefined;
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      const length = contentLength(res);
      if (!range || range.start !== state.offset || (length !== undefined && length !== range.end - range.start + 1)) {
        await res.body?.cancel().catch(() => {});
        throw discard(new DownloadError(`${url}: the server answered a request for bytes ${state.offset}- with Content-Range '${res.headers.get('content-range')}' and Content-Length ${length}, which do not match; the cached part was discarded — try again`));
      }
      total = range.total;
      if (state.etag !== undefined && etag !== undefined && etag !== state.etag && !state.restarted) {
        await res.body?.cancel().catch(() => {}); // a different file than the stored part came from
        await this.restart(state);
        return;
      }
    } else {
      if (state.offset > 0) await this.restart(state); // the server ignored Range: the body is the whole file
      total = contentLength(res);
    }
    if (published !== undefined) {
      if (state.sha256 === undefined) state.sha256 = published;
      else if (published !== state.sha256) {
        await res.body?.cancel().catch(() => {});
        throw discard(new DownloadError(`${url}: the server's ETag says SHA-256 ${published}, but the hub's listing said ${state.sha256}; the repo changed since it was listed — delete it from the model cache and load it again`));
      }
    }
    if (total !== undefined) {
      if (state.size === undefined) state.size = total;
      else if (total !== state.size) {
        await res.body?.cancel().catch(() => {});
        throw discard(new DownloadError(`${url}: the server says the file is ${total} bytes, but ${state.size} were expected (from the hub's listing or an earlier response); the cached part was discarded — try again`));
      }
    }
    if (etag !== undefined && etag !== state.etag) {
      state.etag = etag;
      await this.writeMeta({ url, size: state.size, sha256: state.sha256, etag, complete: false, updated: Date.now() });
    }
    await streamBody(res, url, options, async (chunk) => {
      if (state.size !== undefined && state.offset + chunk.length > state.size) {
        throw discard(new DownloadError(`${url}: the server sent more than the ${state.size} bytes the file has; the cached part was discarded — try again`));
      }
      state.hash.update(chunk);
      await state.writer.write(chunk);
      state.offset += chunk.length;
      onBytes(state.offset);
    });
    if (state.size === undefined) state.size = state.offset; // no length given: the body's end is the file's end
  }

  private async restart(state: DownloadState): Promise<void> {
    state.restarted = true;
    await state.writer.close();
    state.offset = 0;
    state.hash = await createSha256();
    state.writer = await this.store.openWriter(dataPath(state.url), 0);
  }

  /** Hashes the bytes an interrupted download stored, so the hash continues where they end. */
  private async rehash(state: DownloadState, signal: AbortSignal | undefined): Promise<void> {
    const reader = await this.store.openReader(dataPath(state.url), state.url);
    try {
      const step = 16 << 20;
      for (let at = 0; at < state.offset; at += step) {
        if (signal?.aborted) throw abortError('Model loading was aborted.');
        state.hash.update(await reader.read(at, Math.min(step, state.offset - at)));
      }
    } finally {
      await reader.close?.();
    }
  }
}

interface DownloadState {
  url: string;
  size: number | undefined;
  sha256: string | undefined;
  etag: string | undefined;
  /** Bytes stored (and hashed) so far. */
  offset: number;
  hash: Sha256;
  writer: CacheWriter;
  /** Set once the download started over; it does not start over twice. */
  restarted: boolean;
}

/** Errors after which the stored part cannot be trusted: the download discards it. */
const discarded = new WeakSet<object>();
function discard<E extends Error>(e: E): E {
  discarded.add(e);
  return e;
}

/** A source whose reads report `phase` progress: bytes of the file read at least once (header windows overlap). */
export class ReportingSource implements ByteSource {
  readonly reportsProgress = true;
  private readonly reporter: ProgressReporter;
  private readonly seen = new Coverage();
  constructor(private readonly inner: ByteSource, onProgress: ProgressCallback | undefined, phase: LoadProgress['phase']) {
    this.reporter = new ProgressReporter(onProgress, inner.name, inner.size, phase);
  }
  get name(): string { return this.inner.name; }
  get size(): number { return this.inner.size; }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const bytes = await this.inner.read(offset, length);
    this.seen.add(offset, offset + length);
    this.reporter.report(this.seen.bytes);
    return bytes;
  }
  endProgress(): void {
    this.reporter.report(this.size);
  }
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/** The SHA-256 an ETag carries: the hub's LFS files have their content hash as (X-Linked-)ETag. */
export function sha256FromEtag(res: Response): string | undefined {
  for (const h of ['x-linked-etag', 'etag']) {
    const m = /^(?:W\/)?"?([0-9a-f]{64})"?$/i.exec(res.headers.get(h)?.trim() ?? '');
    if (m) return m[1]!.toLowerCase();
  }
  return undefined;
}
