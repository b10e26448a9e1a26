// Documents in IndexedDB (database `name`, object store 'documents', one record per document; the vectors stay a
// Float32Array, which structured clone keeps as it is), so they survive a reload and never leave the browser.
import { ResourceError } from '../errors';
import type { DocumentStore, StoredDocument } from './store';

const STORE = 'documents';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
  });
}

/** Opens (creating when needed) the IndexedDB database `name` as a document store. */
export function indexedDBStore(name = 'hearth-documents'): DocumentStore {
  let db: Promise<IDBDatabase> | undefined;
  const open = () => {
    if (typeof indexedDB === 'undefined') throw new ResourceError('this environment has no IndexedDB; use memoryStore() (or directoryStore(dir) in Node)');
    db ??= (() => {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => { r.result.createObjectStore(STORE, { keyPath: 'id' }); };
      return request(r);
    })();
    return db;
  };
  const write = async (fn: (s: IDBObjectStore) => void) => {
    const tx = (await open()).transaction(STORE, 'readwrite');
    fn(tx.objectStore(STORE));
    await done(tx);
  };
  return {
    load: async () => request((await open()).transaction(STORE).objectStore(STORE).getAll() as IDBRequest<StoredDocument[]>),
    put: (doc) => write((s) => s.put(doc)),
    delete: (id) => write((s) => s.delete(id)),
  };
}
