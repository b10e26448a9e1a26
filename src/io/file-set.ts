// Where a model lives, and the files of a multi-file model (a Hugging Face repo: config.json, tokenizer.json,
// *.safetensors) as a set addressed by relative name. All URL handling of model locations is here (hub ids and
// their URLs: ./model-id.ts, ./hub-urls.ts, ./hub.ts): a base URL serves `<base>/<file>` (the layout of
// https://huggingface.co/<repo>/resolve/main/<file>); in Node, a directory serves its files. A GGUF is one
// ByteSource, or several for a split GGUF (`<name>-00001-of-00003.gguf` names all three parts).
import { DownloadError, FormatError, InvalidRequestError } from '../errors';
import { MemorySource, type ByteSource } from './byte-source';
import type { FileSet, FileSetOptions, LocateOptions, ModelLocation } from './model-location';
import { parseModelId } from './model-id';
import { isNodeRuntime } from './runtime';
import { openUrlSource } from './url-source';

/** Files named like these, given directly, stand for the repo they are in. */
const REPO_FILE = /(^|\/)(config\.json|[^/]*\.safetensors|model\.safetensors\.index\.json)$/i;

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** `<base>/<file>` with exactly one slash between them. */
export function repoFileUrl(base: string, file: string): string {
  return `${base.replace(/\/+$/, '')}/${file}`;
}

function urlFileSet(base: string, options: FileSetOptions = {}): FileSet {
  const name = base.replace(/\/+$/, '');
  return {
    name,
    async open(file) {
      try {
        return await openUrlSource(repoFileUrl(name, file), options);
      } catch (e) {
        if (e instanceof DownloadError && e.status === 404) return undefined;
        throw e;
      }
    },
  };
}

/**
 * Bytes → a GGUF in memory. A hub id (`owner/repo`, `owner/repo/file.gguf`, `owner/repo@revision/...`; see
 * ./model-id.ts) → its files from the hub, through the model cache. A URL whose path ends in .gguf → that GGUF;
 * one that names a repo file → that repo; any other URL is a repo when `<url>/config.json` is a JSON object,
 * else a GGUF. In Node, an existing path wins over a hub id of the same spelling: a directory is a repo and any
 * other path a GGUF file (or a repo file, as for URLs).
 */
export async function locateModel(model: string | URL | ArrayBuffer | Uint8Array, options: LocateOptions = {}): Promise<ModelLocation> {
  if (model instanceof ArrayBuffer || model instanceof Uint8Array) return { kind: 'gguf', source: new MemorySource(model, 'model.gguf') };
  const text = model instanceof URL ? model.href : model;
  const id = /^(https?|file):/i.test(text) ? undefined : parseModelId(text);
  if (id && !(isNodeRuntime() && (await pathExists(text)))) {
    // Loaded when first needed: a page that only loads URLs never downloads the hub and cache code.
    const { locateHubModel } = await import('./hub');
    return locateHubModel(id, options);
  }
  const isUrl = /^https?:\/\//i.test(text) || !isNodeRuntime();
  if (isUrl) {
    const url = /^https?:\/\//i.test(text) ? text : new URL(text, globalThis.location?.href).href;
    const path = new URL(url).pathname.replace(/\/+$/, '');
    if (/\.gguf$/i.test(path)) return ggufLocation(url, (u) => openUrl(u, options));
    if (REPO_FILE.test(path)) return { kind: 'repo', files: urlFileSet(url.slice(0, url.lastIndexOf('/')), options) };
    const files = urlFileSet(url, options);
    if (await hasJsonObject(files, 'config.json')) return { kind: 'repo', files };
    return { kind: 'gguf', source: await openUrl(url, options) };
  }
  // A variable specifier keeps the Node-only file reader out of browser bundles.
  const fileSourceModule = './file-source';
  const node = (await import(/* @vite-ignore */ fileSourceModule)) as typeof import('./file-source');
  const path = text.startsWith('file:') ? new URL(text).pathname : text;
  if (await node.isDirectory(path)) return { kind: 'repo', files: node.directoryFileSet(path) };
  if (REPO_FILE.test(path.replace(/\\/g, '/'))) return { kind: 'repo', files: node.directoryFileSet(path.replace(/[\\/][^\\/]*$/, '') || '.') };
  return ggufLocation(path, (p) => node.openFileSource(p));
}

/** One GGUF, or every part of a split GGUF when `name` is one part (`-00002-of-00003.gguf`). */
async function ggufLocation(name: string, open: (name: string) => Promise<ByteSource>): Promise<ModelLocation> {
  const m = SPLIT.exec(name);
  if (!m) return { kind: 'gguf', source: await open(name) };
  const parts: ByteSource[] = [];
  try {
    for (let i = 1; i <= Number(m[2]); i++) parts.push(await open(`${name.slice(0, m.index)}-${String(i).padStart(5, '0')}-of-${m[2]}.gguf`));
  } catch (e) {
    await Promise.all(parts.map((p) => p.close?.()));
    throw e;
  }
  return { kind: 'gguf', source: parts[0]!, parts };
}

/** A URL by Range requests, or with `cache: true` through the model cache (downloaded first unless headerOnly). */
async function openUrl(url: string, options: LocateOptions): Promise<ByteSource> {
  const cache = options.cache === true ? await (await import('./cache')).ModelCache.open(options) : undefined;
  const cached = await cache?.open(url, options.onProgress);
  if (cached) return cached;
  const remote = await openUrlSource(url, options);
  if (!cache || options.headerOnly) return remote;
  await cache.ensureSpace(await cache.missingBytes([{ url, size: remote.size }]), url);
  return cache.fetch(url, { size: remote.size }, options);
}

async function pathExists(path: string): Promise<boolean> {
  const fsModule = 'node:fs/promises';
  const { stat } = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises');
  return stat(path).then(() => true, () => false);
}

async function hasJsonObject(files: FileSet, file: string): Promise<boolean> {
  let source: ByteSource | undefined;
  try {
    source = await files.open(file);
  } catch (e) {
    // Not a repo (e.g. a server that answers every unknown path with an error): let the GGUF path report.
    if (e instanceof DownloadError) return false;
    throw e;
  }
  if (!source || source.size > 1 << 20) return false;
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(await source.read(0, source.size)));
    return typeof json === 'object' && json !== null && !Array.isArray(json);
  } catch {
    return false; // an HTML fallback page, say
  }
}

/** The text of `file` as JSON; undefined when the set lacks it and it is optional. */
export async function readJsonFile(files: FileSet, file: string, required: boolean, maxBytes = 64 << 20): Promise<unknown> {
  const source = await files.open(file);
  if (!source) {
    if (!required) return undefined;
    throw new InvalidRequestError(`${files.name} has no ${file}; a Hugging Face model needs config.json, tokenizer.json and model.safetensors (or model.safetensors.index.json with its shards)`);
  }
  try {
    if (source.size > maxBytes) throw new FormatError(`${repoFileUrl(files.name, file)} is ${source.size} bytes, too large for ${file}`);
    const text = new TextDecoder('utf-8', { ignoreBOM: false }).decode(await source.read(0, source.size));
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new FormatError(`${repoFileUrl(files.name, file)} is not valid JSON (${(e as Error).message})`, { cause: e });
    }
  } finally {
    await source.close?.();
  }
}

/** The text of an optional file (a chat_template.jinja), or undefined. */
export async function readTextFile(files: FileSet, file: string, maxBytes = 16 << 20): Promise<string | undefined> {
  const source = await files.open(file);
  if (!source) return undefined;
  try {
    if (source.size > maxBytes) throw new FormatError(`${repoFileUrl(files.name, file)} is ${source.size} bytes, too large for ${file}`);
    return new TextDecoder().decode(await source.read(0, source.size));
  } finally {
    await source.close?.();
  }
}
