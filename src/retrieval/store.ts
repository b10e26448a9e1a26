// Where an index keeps its documents: one record per document (its text, its passages' offsets, their vectors)
// behind a small interface, so a document is written or deleted on its own. In memory by default; IndexedDB in
// browsers (idb-store.ts); a directory in Node (file-store.ts).
import type { DocumentType } from './parse';
import type { PassageSpan } from './split';

export interface StoredDocument {
  id: string;
  title: string;
  type: DocumentType | 'pdf';
  /** The document's plain text; passages are spans of it. */
  text: string;
  /** Milliseconds since the epoch. */
  added: number;
  /** Which embedder made the vectors (vectors of different embedders do not compare). */
  embedder: string;
  dimensions: number;
  passages: PassageSpan[];
  /** passages.length × dimensions values, unit-length rows. */
  vectors: Float32Array;
}

export interface DocumentStore {
  /** Every stored document (any order). */
  load(): Promise<StoredDocument[]>;
  /** Adds or replaces the document with this id. */
  put(doc: StoredDocument): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Keeps documents in this Map only (gone with the page); pass one store to several indexes to share it. */
export function memoryStore(): DocumentStore {
  const docs = new Map<string, StoredDocument>();
  return {
    load: async () => [...docs.values()].map((d) => ({ ...d, passages: d.passages.slice(), vectors: d.vectors.slice() })),
    put: async (doc) => { docs.set(doc.id, { ...doc, passages: doc.passages.slice(), vectors: doc.vectors.slice() }); },
    delete: async (id) => { docs.delete(id); },
  };
}
