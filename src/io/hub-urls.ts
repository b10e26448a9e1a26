// Every hub URL is built here, in the hub's layout: `<hub>/<owner>/<repo>/resolve/<revision>/<file>` for files
// and `<hub>/api/models/<owner>/<repo>/tree/<revision>` for the file listing; and the hub's access token, which
// goes to the hub only.
import { InvalidRequestError } from '../errors';
import type { ModelFetchOptions } from './fetch-options';
import type { HubModelId } from './model-id';
import { isNodeRuntime } from './runtime';

const DEFAULT_HUB_URL = 'https://huggingface.co';

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
