// Retrieval over the user's own documents: split, embed, store, search, and prompts that cite what was found.
import type { DocumentStore } from './store';
export { createIndex } from './document-index';
export type { AddOptions, DocumentIndex, DocumentInput, IndexedDocument, IndexOptions, IndexProgress, Passage, SearchHit } from './document-index';
export { prefixesFor, type EmbedFunction, type EmbedKind, type EmbedderOptions } from './embedder';
export { citedSources, DEFAULT_INSTRUCTIONS, groundedMessages, groundedPrompt, type GroundedPromptOptions } from './grounded';
export { documentText, documentTypeOf, type DocumentType } from './parse';
export { splitPassages, type PassageSpan, type SplitOptions } from './split';
export { memoryStore, type DocumentStore, type StoredDocument } from './store';
export { indexedDBStore } from './idb-store';

/**
 * Node: documents in the directory `dir` (<id>.json and <id>.f32 per document). Its code loads on first use
 * through a variable specifier, which keeps node:fs out of browser bundles.
 */
export function directoryStore(dir: string): DocumentStore {
  let store: Promise<DocumentStore> | undefined;
  const open = () => (store ??= (async () => {
    const nodeModule = './file-store';
    return ((await import(/* @vite-ignore */ nodeModule)) as typeof import('./file-store')).directoryStore(dir);
  })());
  return {
    load: async () => (await open()).load(),
    put: async (doc) => (await open()).put(doc),
    delete: async (id) => (await open()).delete(id),
  };
}
