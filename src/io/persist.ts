// Persistent storage for the model cache, asked from the page (browsers offer persist() to pages only, not to
// the engine's worker). Kept apart from ./cache.ts so the page does not load the cache code for it.
import type { ModelFetchOptions } from './fetch-options';
import { parseModelId } from './model-id';

/**
 * On a page (not in a worker, where browsers lack persist()), asks for persistent storage when `model` will be
 * cached (a hub id, or any model with cache: true), so the browser does not evict gigabytes of weights under
 * storage pressure. Fire and forget: a refusal only means the cache may be evicted.
 */
export function requestPersistentStorage(model: unknown, options: Pick<ModelFetchOptions, 'cache'>): void {
  const storage = typeof navigator !== 'undefined' ? (navigator.storage as (StorageManager & { persist?: () => Promise<boolean> }) | undefined) : undefined;
  if (typeof storage?.persist !== 'function' || options.cache === false) return;
  const cached = options.cache === true || (typeof model === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(model) && parseModelId(model) !== undefined);
  if (cached) void storage.persisted().then((done) => done || storage.persist!()).catch(() => {});
}
