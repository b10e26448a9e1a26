// The core's half of embeddings: inputs to token ids, through the GPU (src/model/embed.ts), pooled, then
// normalised and cut to the dimensions asked for. Runs in the worker, queued like any request.
import { InvalidRequestError } from '../../errors';
import { embedTokens, modelPooling, normalize, truncate, type EmbedPooling } from '../../model/embed';
import type { LoadedModel } from '../../model/load';
import type { EmbedOptions, EmbedResult } from '../embedding-types';

const POOLINGS: readonly string[] = ['model', 'mean', 'cls', 'last', 'none'];

function checkIds(ids: number[], index: number, vocabSize: number): number[] {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new InvalidRequestError(`input ${index}: token id ${id} is outside the vocabulary (0..${vocabSize - 1})`);
    }
  }
  return ids;
}

/** Each vector (each row of `rows` values, for pooling 'none') normalised and/or cut to `dims`. */
function finish(v: Float32Array, rows: number, dim: number, dims: number, unit: boolean): Float32Array {
  const one = (x: Float32Array) => (dims < dim ? truncate(x, dims, unit) : unit ? normalize(x) : x);
  if (rows === 1) return one(v);
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) out.set(one(v.subarray(r * dim, (r + 1) * dim)), r * dims);
  return out;
}

export async function embedInputs(loaded: LoadedModel, inputs: (string | number[])[], options: EmbedOptions = {}): Promise<EmbedResult> {
  const { model, tokenizer, config, info } = loaded;
  if (!model.embeddings) {
    throw new InvalidRequestError(`${info.name} was loaded for text generation; load it with { embeddings: true } to compute embeddings`);
  }
  if (options.pooling !== undefined && !POOLINGS.includes(options.pooling)) {
    throw new InvalidRequestError(`pooling must be one of ${POOLINGS.join(', ')}; got ${JSON.stringify(options.pooling)}`);
  }
  const dim = config.embeddingLength;
  const dims = options.dimensions ?? dim;
  if (!Number.isSafeInteger(dims) || dims < 1 || dims > dim) {
    throw new InvalidRequestError(`dimensions must be an integer from 1 to ${dim} (the model's size), got ${options.dimensions}`);
  }
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') throw new InvalidRequestError(`prefix must be a string, got ${typeof prefix}`);
  const ids = inputs.map((input, i) => (typeof input === 'string' ? tokenizer.encode(prefix + input) : checkIds(input, i, config.vocabSize)));
  const pooling: EmbedPooling = options.pooling === undefined || options.pooling === 'model' ? modelPooling(config) : options.pooling;
  const pooled = await embedTokens(model, ids, pooling);
  const unit = options.normalize ?? true;
  const vectors = pooled.map((v, i) => finish(v, pooling === 'none' ? ids[i]!.length : 1, dim, dims, unit));
  return { vectors, tokenCounts: ids.map((x) => x.length), dimensions: dims };
}
