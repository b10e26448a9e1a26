// What turns text into vectors for an index: an Engine loaded for embeddings (its embeddings.embed, with the
// query and document prefixes the model was trained with), or any function. Either way the index gets unit rows.
import type { Engine } from '../engine/api';
import { InvalidRequestError } from '../errors';

/** 'query' for what is searched for, 'document' for passages: instruction-tuned embedders treat them differently. */
export type EmbedKind = 'query' | 'document';

/** Vectors for `texts`, in order (any length, one per text; the index normalises them). */
export type EmbedFunction = (texts: string[], kind: EmbedKind) => Promise<ArrayLike<number>[]>;

export interface EmbedderOptions {
  /**
   * Names the embedder in the store: documents embedded under another name are embedded again when the index
   * opens. Default: the engine's model name and architecture, or 'custom' for a function.
   */
  embedderName?: string;
  /** Text before each query / passage; default: what the engine's model needs (see prefixesFor). */
  queryPrefix?: string;
  documentPrefix?: string;
  /** An engine's vectors cut to their first `dimensions` values (Matryoshka models): less memory per passage. */
  dimensions?: number;
}

export interface Embedder {
  readonly name: string;
  embed(texts: string[], kind: EmbedKind): Promise<Float32Array[]>;
}

/**
 * The prefixes an architecture's embedding models were trained with: nomic-embed-text's task prefixes, and
 * Qwen3-Embedding's instruction for queries (its documents go bare). BERT-family models (MiniLM, BGE) need none.
 */
export function prefixesFor(architecture: string): { query: string; document: string } {
  if (architecture === 'nomic-bert') return { query: 'search_query: ', document: 'search_document: ' };
  if (architecture === 'qwen3') return { query: 'Instruct: Given a question, retrieve passages that answer the question\nQuery:', document: '' };
  return { query: '', document: '' };
}

function unit(v: ArrayLike<number>, i: number, dims: number | undefined): Float32Array {
  if (dims !== undefined && v.length !== dims) throw new InvalidRequestError(`the embedder gave vector ${i} ${v.length} values, the others ${dims}`);
  const out = Float32Array.from(v);
  let sq = 0;
  for (const x of out) sq += x * x;
  if (!(sq > 0 && Number.isFinite(sq))) throw new InvalidRequestError(`the embedder gave vector ${i} with no direction (zero, NaN or infinite values)`);
  const inv = 1 / Math.sqrt(sq);
  for (let j = 0; j < out.length; j++) out[j]! *= inv;
  return out;
}

const isEngine = (x: unknown): x is Engine => typeof x === 'object' && x !== null && typeof (x as Engine).embeddings?.embed === 'function';

export function toEmbedder(source: Engine | EmbedFunction, options: EmbedderOptions = {}): Embedder {
  let embed: (texts: string[], kind: EmbedKind) => Promise<ArrayLike<number>[]>;
  let name: string;
  if (isEngine(source)) {
    const { architecture, name: model } = source.model;
    const defaults = prefixesFor(architecture);
    const prefix = { query: options.queryPrefix ?? defaults.query, document: options.documentPrefix ?? defaults.document };
    const { dimensions } = options;
    name = options.embedderName ?? `${model} (${architecture})${prefix.document ? ` ${JSON.stringify(prefix.document)}` : ''}${dimensions ? ` ${dimensions}d` : ''}`;
    embed = async (texts, kind) => (await source.embeddings.embed(texts, { prefix: prefix[kind], dimensions })).vectors;
  } else if (typeof source === 'function') {
    const prefix = { query: options.queryPrefix ?? '', document: options.documentPrefix ?? '' };
    name = options.embedderName ?? 'custom';
    embed = (texts, kind) => source(texts.map((t) => prefix[kind] + t), kind);
  } else {
    throw new InvalidRequestError('embedder must be an Engine loaded for embeddings (createEngine(model, { embeddings: true })) or a function (texts, kind) => vectors');
  }
  return {
    name,
    async embed(texts, kind) {
      const vectors = await embed(texts, kind);
      if (!Array.isArray(vectors) || vectors.length !== texts.length) {
        throw new InvalidRequestError(`the embedder returned ${Array.isArray(vectors) ? vectors.length : typeof vectors} vectors for ${texts.length} texts`);
      }
      return vectors.map((v, i) => unit(v, i, vectors[0]!.length));
    },
  };
}
