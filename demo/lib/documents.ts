// The chat app's documents: files read into text (PDF through pdf.js, loaded only when a PDF is added), an index
// over them kept in IndexedDB ('hearth-documents'), embedded by an embedding model that stays loaded beside the
// chat model, and the passages found for a question put into the prompt with numbered sources.
import {
  createEngine, createIndex, documentTypeOf, groundedPrompt, indexedDBStore, type DocumentIndex, type DocumentInput, type Engine,
  type IndexedDocument, type IndexProgress, type LoadProgress, type SearchHit,
} from '../../src/index';
import { EMBEDDING_MODEL, hubOption } from './models';

/** What a reply keeps of each source it was given: enough to show and open it after the document is gone. */
export interface SourceRef { docId: string; title: string; passage: number; start: number; end: number; text: string; score: number }

/** Passages put into a prompt, and at most how much of their text (the chat model's context is small). */
const SOURCES = 4;
const MAX_SOURCE_CHARS = 2400;

/** The embedding model: `?embedder=` (a hub id or a URL, e.g. a test's tiny model) or the app's default. */
function embedderSource(): string {
  const param = new URLSearchParams(location.search).get('embedder');
  if (!param) return EMBEDDING_MODEL;
  return /^[\w.-]+\/[\w.-]+/.test(param) && !param.endsWith('.gguf') ? param : new URL(param, location.href).href;
}

async function pdfText(data: ArrayBuffer): Promise<string> {
  const [pdfjs, worker] = await Promise.all([import('pdfjs-dist'), import('pdfjs-dist/build/pdf.worker.min.mjs?url')]);
  pdfjs.GlobalWorkerOptions.workerSrc = worker.default;
  const task = pdfjs.getDocument({ data });
  const pdf = await task.promise;
  const pages: string[] = [];
  try {
    for (let n = 1; n <= pdf.numPages; n++) {
      const { items } = await (await pdf.getPage(n)).getTextContent();
      pages.push(items.map((i) => ('str' in i ? i.str + (i.hasEOL ? '\n' : '') : '')).join(''));
    }
  } finally {
    await task.destroy();
  }
  return pages.join('\n\n');
}

/** A file as a document for the index: text, Markdown and HTML as they are (the index parses them), PDF as its text. */
async function fileDocument(file: File): Promise<DocumentInput> {
  if (/\.pdf$/i.test(file.name) || file.type === 'application/pdf') {
    return { title: file.name, type: 'pdf', text: await pdfText(await file.arrayBuffer()) };
  }
  return { title: file.name, type: documentTypeOf(file.name, file.type), text: await file.text() };
}

export class DocumentLibrary {
  private index: Promise<DocumentIndex> | undefined;
  private engine: Engine | undefined;
  private readonly store = indexedDBStore('hearth-documents');

  constructor(private readonly onLoadProgress: (p: LoadProgress) => void) {}

  /** The embedding model's name, once it is loaded. */
  get embedderName(): string | undefined { return this.engine?.model.name; }

  /** GPU memory the embedding model holds (0 until it is loaded). */
  get gpuBytes(): number { return this.engine?.model.gpuBytes ?? 0; }

  /** Loads the embedding model (once) and opens the stored index with it. */
  open(): Promise<DocumentIndex> {
    this.index ??= (async () => {
      // Embeddings run on WebGPU only (the WebAssembly backend has none), whatever backend the chat model takes.
      const engine = await createEngine(embedderSource(), { ...hubOption(), backend: 'webgpu', embeddings: true, onProgress: this.onLoadProgress });
      this.engine = engine;
      return createIndex({ embedder: engine, store: this.store });
    })();
    this.index.catch(() => { this.index = undefined; }); // a failed load can be tried again
    return this.index;
  }

  /** Whether any document is stored, without loading the embedding model. */
  async stored(): Promise<IndexedDocument[]> {
    if (this.index) return (await this.index).documents();
    const docs = await this.store.load();
    return docs.sort((a, b) => a.added - b.added).map((d) => ({ id: d.id, title: d.title, type: d.type, added: d.added, chars: d.text.length, passages: d.passages.length }));
  }

  async add(files: File[], onProgress: (p: IndexProgress) => void, signal: AbortSignal): Promise<IndexedDocument[]> {
    const docs = await Promise.all(files.map(fileDocument));
    return (await this.open()).add(docs, { onProgress, signal });
  }

  async remove(id: string): Promise<void> { await (await this.open()).remove(id); }

  async passageText(ref: SourceRef): Promise<{ text: string; start: number; end: number } | undefined> {
    const doc = (await this.open()).document(ref.docId);
    return doc && { text: doc.text, start: ref.start, end: ref.end };
  }

  /** The best passages for `question` and the prompt that gives them to the model; none when nothing is stored. */
  async ground(question: string): Promise<{ prompt: string; sources: SourceRef[] } | undefined> {
    if ((await this.stored()).length === 0) return undefined;
    const hits: SearchHit[] = await (await this.open()).search(question, SOURCES);
    const prompt = groundedPrompt(question, hits, { maxSourceChars: MAX_SOURCE_CHARS });
    const used = hits.slice(0, (prompt.match(/^\[\d+\] /gm) ?? []).length);
    return { prompt, sources: used.map(({ docId, title, passage, start, end, text, score }) => ({ docId, title, passage, start, end, text, score })) };
  }

  async dispose(): Promise<void> { await this.engine?.dispose(); }
}
