// Where the model cache's store keeps what: files/<host>/<path of the URL> (the bytes), meta/<same>.json (url,
// size, sha256, etag, complete), listings/<hub host>/<owner>/<repo>/<revision>.json (a hub repo's file listing,
// so an id resolves offline).
import { safeSegment } from './cache-store';
import type { HubModelId } from './model-id';

/** A cached file's record (meta/<key>.json). */
export interface Meta {
  url: string;
  size?: number;
  /** Expected (while downloading) or actual (once complete) SHA-256. */
  sha256?: string;
  verified?: 'sha256' | 'size';
  etag?: string;
  complete: boolean;
  updated: number;
}

/** The record `text` holds; undefined for none or a damaged one. */
export function parseMeta(text: string | undefined): Meta | undefined {
  if (text === undefined) return undefined;
  try {
    const m = JSON.parse(text) as Meta;
    return typeof m.url === 'string' && typeof m.complete === 'boolean' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** host[_port]/path segments of a URL, each made safe for a file system. */
export function keyOf(url: string): string {
  const u = new URL(url);
  const segments = u.pathname.split('/').filter(Boolean).map((s) => safeSegment(decodeURIComponent(s)));
  if (u.search) segments.push(safeSegment(u.search));
  return [safeSegment(u.host), ...segments].join('/');
}

export const dataPath = (url: string) => `files/${keyOf(url)}`;
export const metaPath = (url: string) => `meta/${keyOf(url)}.json`;
export function listingPath(hub: string, id: HubModelId): string {
  const [owner, name] = id.repo.split('/') as [string, string];
  return `listings/${safeSegment(new URL(hub).host)}/${safeSegment(owner)}/${safeSegment(name)}/${safeSegment(id.revision)}.json`;
}
