// Hugging Face hub ids → the files of the model: the repo's file listing (from the cache when it is there, so
// a cached model loads offline), the files chosen from it (a GGUF by quantization preference, its split parts,
// or the safetensors set), and sources for them: downloaded into the model cache first, or read by Range
// requests (cache: false, or only the headers for a pre-flight check).
import { DownloadError, FormatError, InvalidRequestError, ResourceError } from '../errors';
import type { ByteSource } from './byte-source';
import { ModelCache } from './cache';
import { DEFAULT_QUANTIZATIONS } from './hub-defaults';
import type { FileSet, LocateOptions, ModelLocation } from './model-location';
import { doFetch, httpError, streamBody, type HttpOptions } from './http';
import { authHeaders, formatModelId, hubBaseUrl, hubFileUrl, hubTreeUrl } from './hub-urls';
import type { HubModelId } from './model-id';
import { openUrlSource, retrying } from './url-source';

/** A file of a hub repo: path in the repo, size, and the SHA-256 of LFS files. */
export interface HubFile { path: string; size: number; sha256?: string }

interface Listing { hub: string; repo: string; revision: string; files: HubFile[] }


/** What a model is made of: GGUF file(s) (split parts in order) or a safetensors repo's files under `folder`. */
export type ModelFiles = { kind: 'gguf'; files: HubFile[] } | { kind: 'safetensors'; folder: string; files: HubFile[] };

const SPLIT = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;
const SAFETENSORS_EXTRAS = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'chat_template.jinja', 'special_tokens_map.json'];

export async function locateHubModel(id: HubModelId, options: LocateOptions): Promise<ModelLocation> {
  const hub = hubBaseUrl(options);
  const cache = options.cache === false ? undefined : await ModelCache.open(options);
  const http: HttpOptions = { signal: options.signal, retry: options.retry, idleTimeoutMs: options.idleTimeoutMs, headers: authHeaders(hub, hub, options) };
  const listing = await repoListing(hub, id, cache, http);
  const chosen = chooseModelFiles(id, listing.files, options.quantization);
  const url = (f: HubFile) => hubFileUrl(hub, id, f.path);
  const name = formatModelId(id);
  const download = cache && !options.headerOnly;
  if (download) await cache.ensureSpace(await cache.missingBytes(chosen.files.map((f) => ({ url: url(f), size: f.size }))), name);

  /** The file from the cache (downloaded first unless headerOnly), or by Range requests. */
  const open = async (f: HubFile): Promise<ByteSource> => {
    if (download) return cache.fetch(url(f), { size: f.size, sha256: f.sha256 }, { ...http, onProgress: options.onProgress });
    return (await cache?.open(url(f), options.onProgress)) ?? openUrlSource(url(f), { ...http, onProgress: options.onProgress });
  };
  if (chosen.kind === 'gguf') {
    const parts: ByteSource[] = [];
    try {
      for (const f of chosen.files) parts.push(await open(f));
    } catch (e) {
      await Promise.all(parts.map((p) => p.close?.()));
      throw e;
    }
    return { kind: 'gguf', source: parts[0]!, ...(parts.length > 1 ? { parts } : {}) };
  }
  const inFolder = new Map(listing.files.filter((f) => dirOf(f.path) === chosen.folder).map((f) => [baseOf(f.path), f]));
  const files: FileSet = {
    name: hubFileUrl(hub, id, chosen.folder).replace(/\/+$/, ''),
    async open(file) {
      const f = inFolder.get(file);
      return f ? open(f) : undefined; // the listing says what exists: no request for absent files
    },
  };
  return { kind: 'repo', files };
}

/**
 * What loading `id` would download: its files' bytes, those not in the cache yet, and why the cache could not
 * take them (storage estimate, cacheMaxBytes), if it could not.
 */
export async function hubDownloadNeeds(id: HubModelId, options: LocateOptions): Promise<{ bytes: number; missing: number; storageProblem?: string }> {
  const hub = hubBaseUrl(options);
  const cache = options.cache === false ? undefined : await ModelCache.open(options);
  const http: HttpOptions = { signal: options.signal, retry: options.retry, idleTimeoutMs: options.idleTimeoutMs, headers: authHeaders(hub, hub, options) };
  const chosen = chooseModelFiles(id, (await repoListing(hub, id, cache, http)).files, options.quantization);
  const files = chosen.files.map((f) => ({ url: hubFileUrl(hub, id, f.path), size: f.size }));
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  if (!cache) return { bytes, missing: bytes };
  const missing = await cache.missingBytes(files);
  try {
    await cache.ensureSpace(missing, formatModelId(id));
    return { bytes, missing };
  } catch (e) {
    if (!(e instanceof ResourceError)) throw e;
    return { bytes, missing, storageProblem: e.message };
  }
}

/** The repo's files: the cached listing, else the hub's (then cached). */
async function repoListing(hub: string, id: HubModelId, cache: ModelCache | undefined, http: HttpOptions): Promise<Listing> {
  const cached = await cache?.readListing<Listing>(hub, id);
  if (cached && Array.isArray(cached.files)) return cached;
  const files = await fetchRepoFiles(hub, id, http);
  const listing: Listing = { hub, repo: id.repo, revision: id.revision, files };
  await cache?.writeListing(hub, id, listing);
  return listing;
}

/** Every file of the revision, following the listing's pages (Link: <...>; rel="next"). */
async function fetchRepoFiles(hub: string, id: HubModelId, http: HttpOptions): Promise<HubFile[]> {
  const files: HubFile[] = [];
  for (let next: string | undefined = hubTreeUrl(hub, id); next;) {
    const pageUrl: string = next;
    // The body is read inside the retries: a listing cut off or stalled midway is asked for again.
    const { res, text } = await retrying(http, async () => {
      const r = await doFetch(pageUrl, http);
      if (r.status >= 500 || r.status === 429) throw httpError(r, pageUrl);
      return { res: r, text: r.ok ? await readText(r, pageUrl, http) : '' };
    });
    if (res.status === 404 || res.status === 401 || res.status === 403) {
      res.body?.cancel().catch(() => {});
      const why = res.status === 404 ? 'was not found' : 'is not accessible (gated or private: accept its terms on the hub and pass an access token — the token option, or $HF_TOKEN in Node)';
      throw new DownloadError(`the model ${formatModelId(id)} ${why} on ${hub} (HTTP ${res.status}); check the id${id.revision !== 'main' ? ' and the revision' : ''}`, { status: res.status });
    }
    if (!res.ok) throw httpError(res, pageUrl);
    let entries: unknown;
    try {
      entries = JSON.parse(text);
    } catch (e) {
      throw new DownloadError(`${pageUrl} did not answer with a JSON file listing; is ${hub} a Hugging Face hub (hubUrl)?`, { cause: e });
    }
    if (!Array.isArray(entries)) throw new DownloadError(`${pageUrl} did not answer with a JSON file listing; is ${hub} a Hugging Face hub (hubUrl)?`);
    for (const e of entries as Record<string, unknown>[]) {
      if (e?.type !== 'file' || typeof e.path !== 'string') continue;
      const lfs = e.lfs as { oid?: unknown; size?: unknown } | undefined;
      const size = typeof lfs?.size === 'number' ? lfs.size : typeof e.size === 'number' ? e.size : undefined;
      if (size === undefined) continue;
      files.push({ path: e.path, size, ...(typeof lfs?.oid === 'string' && /^[0-9a-f]{64}$/i.test(lfs.oid) ? { sha256: lfs.oid.toLowerCase() } : {}) });
    }
    const link = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '');
    next = link ? new URL(link[1]!, pageUrl).href : undefined;
  }
  return files;
}

/**
 * The files that make the model `id` names: the GGUF it names (with every part of a split GGUF), else, in the
 * repo (or the folder it names), the GGUF of the first quantization in `quantization` (default
 * DEFAULT_QUANTIZATIONS), else the safetensors set (config.json, tokenizer files, weights).
 */
export function chooseModelFiles(id: HubModelId, files: HubFile[], quantization?: string | string[]): ModelFiles {
  const name = formatModelId(id);
  let scope = files;
  let folder = '';
  if (id.path !== undefined) {
    const exact = files.find((f) => f.path === id.path);
    if (exact && /\.gguf$/i.test(exact.path)) return { kind: 'gguf', files: splitParts(exact, files, name) };
    if (exact) {
      folder = dirOf(exact.path);
    } else if (files.some((f) => f.path.startsWith(`${id.path}/`))) {
      folder = id.path;
    } else {
      throw new InvalidRequestError(`${name}: the repo has no file or folder '${id.path}'${fileHint(files)}`);
    }
    scope = files.filter((f) => dirOf(f.path) === folder || f.path.startsWith(`${folder}/`));
  }
  const ggufs = scope.filter((f) => /\.gguf$/i.test(f.path) && !/mmproj|imatrix/i.test(baseOf(f.path)));
  const firsts = ggufs.filter((f) => { const m = SPLIT.exec(f.path); return !m || Number(m[2]) === 1; }).sort((a, b) => a.path.localeCompare(b.path));
  if (firsts.length > 0 && !(id.path !== undefined && /\.(json|safetensors)$/i.test(id.path))) {
    const preferences = quantization === undefined ? DEFAULT_QUANTIZATIONS : Array.isArray(quantization) ? quantization : [quantization];
    for (const q of preferences) {
      const tag = new RegExp(`(^|[^A-Za-z0-9])${q.replace(/[^A-Za-z0-9_]/g, '')}(?![A-Za-z0-9_])`, 'i');
      const match = firsts.find((f) => tag.test(baseOf(f.path).replace(/\.gguf$/i, '').replace(/-\d{5}-of-\d{5}$/, '')));
      if (match) return { kind: 'gguf', files: splitParts(match, files, name) };
    }
    throw new InvalidRequestError(`${name} has no GGUF file of quantization ${preferences.join(', ')}; it has ${firsts.map((f) => f.path).join(', ')}. Pass quantization, or name the file (${id.repo}/<file>.gguf).`);
  }
  const at = (file: string) => scope.find((f) => f.path === (folder ? `${folder}/${file}` : file));
  const config = at('config.json');
  const single = at('model.safetensors');
  const index = at('model.safetensors.index.json');
  if (!config || (!single && !index)) {
    throw new FormatError(`${name} has no GGUF file and no safetensors model (config.json with model.safetensors or model.safetensors.index.json)${folder ? ` in ${folder}` : ''}${fileHint(files)}`);
  }
  const shards = single ? [single] : scope.filter((f) => dirOf(f.path) === folder && /^model-\d+-of-\d+\.safetensors$/.test(baseOf(f.path)));
  const extras = SAFETENSORS_EXTRAS.map(at).filter((f): f is HubFile => f !== undefined);
  return { kind: 'safetensors', folder, files: [config, ...extras, ...(index && !single ? [index] : []), ...shards] };
}

/** A split GGUF's parts in order (all of them must be listed), or just the file. */
function splitParts(file: HubFile, files: HubFile[], name: string): HubFile[] {
  const m = SPLIT.exec(file.path);
  if (!m) return [file];
  const count = Number(m[3]);
  const parts: HubFile[] = [];
  for (let i = 1; i <= count; i++) {
    const path = `${m[1]}-${String(i).padStart(5, '0')}-of-${m[3]}.gguf`;
    const part = files.find((f) => f.path === path);
    if (!part) throw new FormatError(`${name}: ${file.path} is part of a ${count}-part GGUF, but the repo has no ${path}`);
    parts.push(part);
  }
  return parts;
}

function fileHint(files: HubFile[]): string {
  const shown = files.slice(0, 12).map((f) => f.path);
  return files.length === 0 ? ' (the repo is empty)' : `; it has ${shown.join(', ')}${files.length > shown.length ? ', …' : ''}`;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

async function readText(res: Response, url: string, http: HttpOptions): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  await streamBody(res, url, http, (chunk) => { text += decoder.decode(chunk, { stream: true }); });
  return text + decoder.decode();
}
