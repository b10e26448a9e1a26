// Hugging Face hub model ids and the URLs they stand for. Ids are `owner/repo` (the files chosen from the
// repo), `owner/repo/path/file.gguf`, either with `@revision` after the repo, optionally prefixed `hf:`. Every
// hub URL is built here, in the hub's layout: `<hub>/<owner>/<repo>/resolve/<revision>/<file>` for files and
// `<hub>/api/models/<owner>/<repo>/tree/<revision>` for the file listing.
import { InvalidRequestError } from '../errors';
import type { ModelFetchOptions } from './fetch-options';
import { isNodeRuntime } from './runtime';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubModelId {
  /** 'owner/name'. */
  repo: string;
  /** Branch, tag or commit; 'main' unless the id says `@revision`. */
  revision: string;
  /** A file (or folder) in the repo, when the id names one. */
  path?: string;
}

const NAME = '[A-Za-z0-9][A-Za-z0-9_.-]*';
const ID = new RegExp(`^(?:hf:)?(${NAME})/(${NAME})(?:@([A-Za-z0-9_.%-]+))?(?:/(.+))?$`);
/** A two-part name ending like a file ('models/x.gguf') is a relative path or URL, not a repo. */
const FILE_LIKE = /\.(gguf|json|safetensors|bin|jinja)$/i;

/** The hub id `text` spells, or undefined when it is a URL, a path or anything else. */
export function parseModelId(text: string): HubModelId | undefined {
  const forced = text.startsWith('hf:');
  const m = ID.exec(text);
  if (!m) {
    if (forced) throw new InvalidRequestError(`'${text}' is not a Hugging Face model id; write hf:owner/repo, hf:owner/repo/file.gguf or hf:owner/repo@revision`);
    return undefined;
  }
  const [, owner, name, revision, path] = m;
  if (!forced && path === undefined && revision === undefined && FILE_LIKE.test(name!)) return undefined;
  if ([owner, name].some((s) => s === '.' || s === '..')) return undefined;
  if (path !== undefined && path.split('/').some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return { repo: `${owner}/${name}`, revision: revision ? decodeURIComponent(revision) : 'main', ...(path !== undefined ? { path } : {}) };
}

/** 'owner/repo@revision/path' (revision shown when not main), for messages. */
export function formatModelId(id: HubModelId): string {
  return `${id.repo}${id.revision === 'main' ? '' : `@${id.revision}`}${id.path ? `/${id.path}` : ''}`;
}

/** The hub base URL: the option, else $HF_ENDPOINT in Node, else huggingface.co; without a trailing slash. */
export function hubBaseUrl(options: Pick<ModelFetchOptions, 'hubUrl'>): string {
  const env = isNodeRuntime() ? process.env.HF_ENDPOINT : undefined;
  const base = (options.hubUrl || env || DEFAULT_HUB_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(base)) throw new InvalidRequestError(`hubUrl must be an http(s) URL, got '${base}'`);
  return base;
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** `<hub>/<owner>/<repo>/resolve/<revision>/<file>`. */
export function hubFileUrl(hub: string, id: HubModelId, file: string): string {
  return `${hub}/${id.repo}/resolve/${encodeURIComponent(id.revision)}/${encodePath(file)}`;
}

/** The hub API's recursive file listing of a revision (paths, sizes, LFS SHA-256s). */
export function hubTreeUrl(hub: string, id: HubModelId): string {
  return `${hub}/api/models/${id.repo}/tree/${encodeURIComponent(id.revision)}?recursive=true`;
}

/** The access token for `url`: only requests to the hub carry it. */
export function authHeaders(url: string, hub: string, options: Pick<ModelFetchOptions, 'token'>): Record<string, string> {
  const token = options.token ?? (isNodeRuntime() ? process.env.HF_TOKEN : undefined);
  if (!token || new URL(url).origin !== new URL(hub).origin) return {};
  return { Authorization: `Bearer ${token}` };
}

/**
 * A model string as the worker should see it: URLs relative to the page resolved against `base` (the worker's
 * own location differs); hub ids, absolute URLs and bytes unchanged.
 */
export function resolveAgainstPage<T>(model: T, base: string | undefined): T | string {
  if (typeof model !== 'string' || base === undefined || /^[a-z][a-z0-9+.-]*:/i.test(model) || parseModelId(model)) return model;
  return new URL(model, base).href;
}
