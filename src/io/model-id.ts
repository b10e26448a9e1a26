// Hugging Face hub model ids: `owner/repo` (the files chosen from the repo), `owner/repo/path/file.gguf`, either
// with `@revision` after the repo, optionally prefixed `hf:`. The URLs they stand for are built in ./hub-urls.ts
// (loaded with the hub code, when an id is first loaded).
import { InvalidRequestError } from '../errors';

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

/**
 * A model string as the worker should see it: URLs relative to the page resolved against `base` (the worker's
 * own location differs); hub ids, absolute URLs and bytes unchanged.
 */
export function resolveAgainstPage<T>(model: T, base: string | undefined): T | string {
  if (typeof model !== 'string' || base === undefined || /^[a-z][a-z0-9+.-]*:/i.test(model) || parseModelId(model)) return model;
  return new URL(model, base).href;
}
