// transformers.js's feature-extraction pipeline: `const extractor = await pipeline('feature-extraction', model)`
// then `await extractor(texts, { pooling: 'mean', normalize: true })` → a tensor { data, dims, tolist() } of
// [inputs, dim] (pooled) or [inputs, tokens, dim] (pooling 'none', shorter inputs zero-padded at the end, as
// transformers.js pads). Defaults as transformers.js's: pooling 'none', normalize false.
import type { EmbeddingPooling } from '../engine/embedding-types';
import type { Engine } from '../engine/api';
import type { ModelInfo } from '../engine/types';
import { InvalidRequestError } from '../errors';

export interface FeatureExtractionOptions {
  /** 'none' (default): every token's vector; 'mean'; 'cls' / 'first_token'; 'last_token' / 'eos'; Hearth's 'model': the file's own. */
  pooling?: 'none' | 'mean' | 'cls' | 'first_token' | 'last_token' | 'eos' | 'model';
  /** L2-normalise along the last dimension. Default false. */
  normalize?: boolean;
  /** Hearth extension: Matryoshka truncation to the first `dimensions` values (before normalising). */
  dimensions?: number;
}

/** transformers.js's Tensor, as far as embeddings use it. */
export interface FeatureTensor {
  readonly type: 'float32';
  readonly data: Float32Array;
  readonly dims: number[];
  readonly size: number;
  /** Nested arrays of numbers in the shape of dims. */
  tolist(): number[][] | number[][][];
}

export interface FeatureExtractionPipeline {
  (texts: string | string[], options?: FeatureExtractionOptions): Promise<FeatureTensor>;
  readonly task: 'feature-extraction';
  readonly model: ModelInfo;
  readonly engine: Engine;
  dispose(): Promise<void>;
}

const POOLING: Record<NonNullable<FeatureExtractionOptions['pooling']>, EmbeddingPooling> = {
  none: 'none', mean: 'mean', cls: 'cls', first_token: 'cls', last_token: 'last', eos: 'last', model: 'model',
};

function tensor(data: Float32Array, dims: number[]): FeatureTensor {
  const rows = (at: number, n: number, width: number) => Array.from({ length: n }, (_, i) => Array.from(data.subarray(at + i * width, at + (i + 1) * width)));
  return {
    type: 'float32', data, dims, size: data.length,
    tolist: () => (dims.length === 2 ? rows(0, dims[0]!, dims[1]!) : Array.from({ length: dims[0]! }, (_, b) => rows(b * dims[1]! * dims[2]!, dims[1]!, dims[2]!))),
  };
}

export function featureExtractionPipeline(engine: Engine): FeatureExtractionPipeline {
  const call = (async (texts: string | string[], options: FeatureExtractionOptions = {}) => {
    const inputs = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(inputs) || inputs.some((t) => typeof t !== 'string')) throw new InvalidRequestError('feature-extraction takes a string or an array of strings');
    const pooling = POOLING[options.pooling ?? 'none'];
    if (!pooling) throw new InvalidRequestError(`pooling must be one of ${Object.keys(POOLING).join(', ')}; got ${JSON.stringify(options.pooling)}`);
    const r = await engine.embeddings.embed(inputs, { pooling, normalize: options.normalize ?? false, dimensions: options.dimensions });
    const dim = r.dimensions;
    if (pooling !== 'none') {
      const data = new Float32Array(inputs.length * dim);
      r.vectors.forEach((v, i) => data.set(v, i * dim));
      return tensor(data, [inputs.length, dim]);
    }
    const longest = Math.max(...r.tokenCounts);
    const data = new Float32Array(inputs.length * longest * dim); // shorter inputs end in zeros
    r.vectors.forEach((v, i) => data.set(v, i * longest * dim));
    return tensor(data, [inputs.length, longest, dim]);
  }) as FeatureExtractionPipeline;
  Object.defineProperty(call, 'model', { get: () => engine.model, enumerable: true });
  return Object.assign(call, { task: 'feature-extraction' as const, engine, dispose: () => engine.dispose() });
}
