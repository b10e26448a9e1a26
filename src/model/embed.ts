// Embeddings on the GPU: tokenized inputs packed one after another into passes of up to batchSize tokens (no
// padding at all: each input attends only within itself, so its vector does not depend on what shares its
// pass), then pooled as the model says (llama.cpp's pooling: mean, first token, last token) and optionally
// L2-normalised or cut to fewer dimensions (Matryoshka).
import { InvalidRequestError, UnsupportedError } from '../errors';
import type { ModelConfig, Pooling } from './config';
import type { TransformerModel } from './transformer';

/** What embedTokens returns per input: one vector, or ('none') every token's [tokens, dim]. */
export type EmbedPooling = Exclude<Pooling, 'rank'>;

/** The model's own pooling (`<arch>.pooling_type`), else the last token for a causal model and the mean otherwise. */
export function modelPooling(config: ModelConfig): EmbedPooling {
  const p = config.pooling ?? (config.causal === false ? 'mean' : 'last');
  if (p === 'rank') throw new UnsupportedError(`${config.name} is a reranker (pooling_type rank); Hearth computes embeddings only`);
  return p;
}

/** Batch rows whose hidden states a pooling reads for an input at [start, start + n). */
function rowsOf(pooling: EmbedPooling, start: number, n: number): number[] {
  if (pooling === 'cls') return [start];
  if (pooling === 'last') return [start + n - 1];
  return Array.from({ length: n }, (_, i) => start + i);
}

/** Pools one input's rows [count, dim] (as rowsOf chose them) into its result. */
function pool(pooling: EmbedPooling, rows: Float32Array, dim: number): Float32Array {
  if (pooling !== 'mean') return rows.slice();
  const n = rows.length / dim;
  const sum = new Float64Array(dim);
  for (let t = 0; t < n; t++) for (let i = 0; i < dim; i++) sum[i]! += rows[t * dim + i]!;
  return Float32Array.from(sum, (x) => x / n);
}

/**
 * Runs `inputs` (token ids, each non-empty) through an embedding model and pools each: Float32Array [dim] per
 * input, or [tokens, dim] with pooling 'none'. Inputs go in order, as many per pass as fit `model.batchSize` tokens.
 */
export async function embedTokens(model: TransformerModel, inputs: readonly (readonly number[])[], pooling: EmbedPooling): Promise<Float32Array[]> {
  const dim = model.config.embeddingLength;
  const causal = model.config.causal !== false;
  const max = model.batchSize;
  for (const [i, ids] of inputs.entries()) {
    if (ids.length === 0) throw new InvalidRequestError(`input ${i} has no tokens; an embedding needs at least one`);
    if (ids.length > max) {
      throw new InvalidRequestError(`input ${i} is ${ids.length} tokens; this model was loaded for inputs of at most ${max} (contextLength). Shorten it, or load with a larger contextLength.`);
    }
  }
  const out: Float32Array[] = [];
  for (let first = 0; first < inputs.length;) {
    // One pass: inputs first..last-1, packed.
    let last = first;
    let tokens = 0;
    while (last < inputs.length && tokens + inputs[last]!.length <= max) tokens += inputs[last++]!.length;
    const ids: number[] = [];
    const seqs = new Uint32Array(4 * tokens);
    const rows: number[] = [];
    const spans: { start: number; count: number }[] = [];
    for (let s = first; s < last; s++) {
      const input = inputs[s]!;
      const start = ids.length;
      for (let p = 0; p < input.length; p++) {
        const t = start + p;
        // Position p in its own input; it sees its input's tokens up to itself (causal) or all of them.
        seqs.set([p, start, causal ? t + 1 : start + input.length, 0], 4 * t);
      }
      ids.push(...input);
      const r = rowsOf(pooling, start, input.length);
      spans.push({ start: rows.length, count: r.length });
      rows.push(...r);
    }
    const hidden = await model.hidden(ids, seqs, rows);
    for (const { start, count } of spans) out.push(pool(pooling, hidden.subarray(start * dim, (start + count) * dim), dim));
    first = last;
  }
  return out;
}

/** v / ‖v‖₂ (llama.cpp's embd_normalize 2); a zero vector stays zero. */
export function normalize(v: Float32Array): Float32Array {
  let sq = 0;
  for (const x of v) sq += x * x;
  const norm = Math.sqrt(sq);
  return norm > 0 ? v.map((x) => x / norm) : v;
}

/** The first `dimensions` values (Matryoshka truncation), renormalised when `renormalize`. */
export function truncate(v: Float32Array, dimensions: number, renormalize: boolean): Float32Array {
  if (!Number.isSafeInteger(dimensions) || dimensions < 1 || dimensions > v.length) {
    throw new InvalidRequestError(`dimensions must be an integer from 1 to ${v.length} (the model's size), got ${dimensions}`);
  }
  const cut = v.slice(0, dimensions);
  return renormalize ? normalize(cut) : cut;
}
