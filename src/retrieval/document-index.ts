// createIndex: documents split into passages, embedded, kept in a store and searched by cosine similarity. Each
// document is written whole or not at all; writes (add, remove) run one after another in the order called.
import type { Engine } from '../engine/api';
import { abortError, InvalidRequestError } from '../errors';
import { toEmbedder, type EmbedFunction, type Embedder, type EmbedderOptions } from './embedder';
import { documentText, type DocumentType } from './parse';
import { splitPassages, type SplitOptions } from './split';
import { memoryStore, type DocumentStore, type StoredDocument } from './store';
import { VectorTable } from './vectors';

export interface DocumentInput {
  /** Default: a new random id. A document with an id already in the index replaces it. */
  id?: string;
  title: string;
  /** The content, as `type` says (default 'text'); 'pdf' marks text already taken out of a PDF. */
  text: string;
  type?: DocumentType | 'pdf';
}

export interface IndexedDocument { id: string; title: string; type: StoredDocument['type']; added: number; chars: number; passages: number }

export interface Passage {
  docId: string;
  /** 0-based position among the document's passages. */
  passage: number;
  /** Offsets of the passage in the document's plain text. */
  start: number;
  end: number;
  text: string;
}

export interface SearchHit extends Passage {
  title: string;
  /** Cosine similarity to the query, at most 1. */
  score: number;
}

export interface IndexProgress { done: number; total: number; document: string }

export interface IndexOptions extends EmbedderOptions, SplitOptions {
  /** An Engine loaded for embeddings, or a function from texts to vectors. */
  embedder: Engine | EmbedFunction;
  /** Default memoryStore(). */
  store?: DocumentStore;
  /** Passages per embedder call (default 16): progress and cancellation happen between calls. */
  batchSize?: number;
  /** Progress of embedding again, at open, documents that another embedder indexed. */
  onProgress?: (p: IndexProgress) => void;
}

export interface AddOptions {
  /** Passages embedded so far of all the documents in this call. */
  onProgress?: (p: IndexProgress) => void;
  /** Stops between embedder calls with an AbortError; the documents finished before stay in the index. */
  signal?: AbortSignal;
}

export interface DocumentIndex {
  readonly embedder: string;
  /** Values per vector (undefined until the first document). */
  readonly dimensions: number | undefined;
  documents(): IndexedDocument[];
  /** A document's plain text and its passages' offsets (undefined for an unknown id). */
  document(id: string): (IndexedDocument & { text: string; passageSpans: { start: number; end: number }[] }) | undefined;
  passage(docId: string, index: number): Passage | undefined;
  add(docs: DocumentInput[], options?: AddOptions): Promise<IndexedDocument[]>;
  /** The k passages most similar to `query`, best first. */
  search(query: string, k?: number): Promise<SearchHit[]>;
  /** Whether there was such a document. */
  remove(id: string): Promise<boolean>;
}

const newId = () => (typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);

function checkInputs(docs: unknown): DocumentInput[] {
  if (!Array.isArray(docs) || docs.length === 0) throw new InvalidRequestError('add() takes a non-empty array of documents { title, text, type?, id? }');
  const ids = new Set<string>();
  return docs.map((d: unknown, i) => {
    const doc = d as Partial<DocumentInput> | null;
    const name = `document ${i}${typeof doc?.title === 'string' ? ` ('${doc.title}')` : ''}`;
    if (typeof doc !== 'object' || doc === null) throw new InvalidRequestError(`${name} is not an object { title, text }`);
    if (typeof doc.title !== 'string') throw new InvalidRequestError(`${name} has no title (a string)`);
    if (typeof doc.text !== 'string') throw new InvalidRequestError(`${name} has no text (a string)`);
    if (doc.id !== undefined && (typeof doc.id !== 'string' || doc.id === '')) throw new InvalidRequestError(`${name}: id must be a non-empty string`);
    const id = doc.id ?? newId();
    if (ids.has(id)) throw new InvalidRequestError(`${name}: id '${id}' is given twice`);
    ids.add(id);
    return { ...doc, id } as DocumentInput;
  });
}

class Index implements DocumentIndex {
  private readonly docs = new Map<string, StoredDocument>();
  private table: VectorTable | undefined;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly embed: Embedder, private readonly store: DocumentStore, private readonly split: SplitOptions, private readonly batchSize: number) {}

  get embedder(): string { return this.embed.name; }
  get dimensions(): number | undefined { return this.table?.dimensions; }

  documents(): IndexedDocument[] {
    return [...this.docs.values()].sort((a, b) => a.added - b.added).map(summary);
  }

  document(id: string) {
    const d = this.docs.get(id);
    return d && { ...summary(d), text: d.text, passageSpans: d.passages.map((p) => ({ ...p })) };
  }

  passage(docId: string, index: number): Passage | undefined {
    const span = this.docs.get(docId)?.passages[index];
    return span && { docId, passage: index, ...span, text: this.docs.get(docId)!.text.slice(span.start, span.end) };
  }

  /** Puts loaded documents into the table; those of another embedder are embedded again. */
  async open(onProgress?: (p: IndexProgress) => void): Promise<void> {
    const stale: StoredDocument[] = [];
    for (const d of (await this.store.load()).sort((a, b) => a.added - b.added)) {
      if (d.embedder === this.embed.name && (this.table === undefined || d.dimensions === this.table.dimensions)) this.adopt(d);
      else stale.push(d);
    }
    // Their stored text is already plain: split again (the options may differ) and embed.
    if (stale.length > 0) await this.serially(() => this.embedAll(stale.map((d) => ({ ...d, passages: splitPassages(d.text, this.split) })), { onProgress }));
  }

  async add(inputs: DocumentInput[], options: AddOptions = {}): Promise<IndexedDocument[]> {
    const docs = checkInputs(inputs);
    return this.serially(() => this.embedAll(docs.map((d) => {
      const text = documentText(d.text, d.type === 'pdf' ? 'text' : d.type);
      const passages = splitPassages(text, this.split);
      if (passages.length === 0) throw new InvalidRequestError(`document '${d.title}' has no text to index`);
      return { id: d.id!, title: d.title, type: d.type ?? 'text', text, passages };
    }), options));
  }

  /** Embeds each document's passages and stores it, one document after another. */
  private async embedAll(parsed: (Pick<StoredDocument, 'id' | 'title' | 'type' | 'text' | 'passages'> & { added?: number })[], options: AddOptions): Promise<IndexedDocument[]> {
    const total = parsed.reduce((n, d) => n + d.passages.length, 0);
    let done = 0;
    const added: IndexedDocument[] = [];
    for (const d of parsed) {
      const vectors: Float32Array[] = [];
      for (let first = 0; first < d.passages.length; first += this.batchSize) {
        if (options.signal?.aborted) throw options.signal.reason ?? abortError();
        const texts = d.passages.slice(first, first + this.batchSize).map((p) => d.text.slice(p.start, p.end));
        vectors.push(...await this.embed.embed(texts, 'document'));
        done += texts.length;
        options.onProgress?.({ done, total, document: d.title });
      }
      const dimensions = vectors[0]!.length;
      if (this.table && this.table.dimensions !== dimensions) {
        throw new InvalidRequestError(`the embedder gave ${dimensions} values per vector; this index holds ${this.table.dimensions}`);
      }
      const flat = new Float32Array(vectors.length * dimensions);
      vectors.forEach((v, i) => flat.set(v, i * dimensions));
      const stored: StoredDocument = {
        id: d.id, title: d.title, type: d.type, text: d.text, added: d.added ?? Date.now(),
        embedder: this.embed.name, dimensions, passages: d.passages, vectors: flat,
      };
      await this.store.put(stored);
      this.drop(stored.id);
      this.adopt(stored);
      added.push(summary(stored));
    }
    return added;
  }

  async search(query: string, k = 5): Promise<SearchHit[]> {
    if (typeof query !== 'string' || query.trim() === '') throw new InvalidRequestError('the query must be a non-empty string');
    if (!Number.isSafeInteger(k) || k < 1) throw new InvalidRequestError(`k must be a positive integer, got ${k}`);
    if (!this.table || this.table.rows === 0) return [];
    const [q] = await this.embed.embed([query], 'query');
    if (q!.length !== this.table.dimensions) {
      throw new InvalidRequestError(`the embedder gave the query ${q!.length} values; this index holds ${this.table.dimensions}`);
    }
    return this.table.nearest(q!, k).map(({ docId, passage, score }) => ({ ...this.passage(docId, passage)!, title: this.docs.get(docId)!.title, score }));
  }

  async remove(id: string): Promise<boolean> {
    if (typeof id !== 'string') throw new InvalidRequestError(`remove() takes a document id (a string), got ${typeof id}`);
    return this.serially(async () => {
      if (!this.docs.has(id)) return false;
      await this.store.delete(id);
      this.drop(id);
      return true;
    });
  }

  private adopt(d: StoredDocument): void {
    this.table ??= new VectorTable(d.dimensions);
    this.table.append(d.id, d.vectors);
    this.docs.set(d.id, d);
  }

  private drop(id: string): void {
    if (!this.docs.delete(id)) return;
    this.table?.remove(id);
  }

  private serially<T>(job: () => Promise<T>): Promise<T> {
    const run = this.writes.then(job, job);
    this.writes = run.catch(() => undefined);
    return run;
  }
}

function summary(d: StoredDocument): IndexedDocument {
  return { id: d.id, title: d.title, type: d.type, added: d.added, chars: d.text.length, passages: d.passages.length };
}

/** Opens an index over `store` (default: in memory), embedding again what another embedder indexed there. */
export async function createIndex(options: IndexOptions): Promise<DocumentIndex> {
  if (typeof options !== 'object' || options === null) throw new InvalidRequestError('createIndex takes { embedder, store?, ... }');
  const { embedder, store = memoryStore(), batchSize = 16, maxChars, overlap, onProgress } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new InvalidRequestError(`batchSize must be a positive integer, got ${batchSize}`);
  const split: SplitOptions = { ...(maxChars !== undefined && { maxChars }), ...(overlap !== undefined && { overlap }) };
  splitPassages('', split); // checks the options now rather than at the first add
  const index = new Index(toEmbedder(embedder, options), store, split, batchSize);
  await index.open(onProgress);
  return index;
}
