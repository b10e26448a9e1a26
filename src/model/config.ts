// Model hyperparameters from GGUF metadata (`<arch>.*` keys), with llama.cpp's defaults for keys a
// file omits, and a check that every tensor the forward pass needs exists with the right shape.
import { FormatError, UnsupportedError } from '../errors';
import {
  getOptionalArray, getOptionalNumber, getOptionalString, getString,
  type GGUFFile, type GGUFTensorInfo,
} from './gguf';

export interface LlamaConfig {
  architecture: string;
  name: string;
  /** Context length the model was trained/converted with (n_ctx_train). */
  contextLength: number;
  /** Model width (dim, n_embd). */
  embeddingLength: number;
  /** Number of transformer layers. */
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  headCountKv: number;
  headDim: number;
  /** Leading dims of each head that get rotated (≤ headDim). */
  ropeDim: number;
  ropeFreqBase: number;
  /** 'norm': rotate adjacent pairs (x0,x1); 'neox': rotate halves (x[i], x[i + ropeDim/2]). */
  ropeStyle: 'norm' | 'neox';
  rmsNormEps: number;
  vocabSize: number;
  /** True when there is no output.weight and the token embedding doubles as the output matrix. */
  tiedEmbeddings: boolean;
}

export const SUPPORTED_ARCHITECTURES = ['llama'] as const;

/** llama.cpp's defaults for keys a file may omit (derived values are computed in readLlamaConfig). */
export const LLAMA_DEFAULTS = {
  ropeFreqBase: 10000,
  rmsNormEps: 1e-5,
  // headCountKv = headCount; headDim = embeddingLength / headCount; ropeDim = headDim;
  // vocabSize = length of tokenizer.ggml.tokens, else token_embd.weight dims[1].
} as const;

export interface ReadConfigOptions {
  /** Check that every weight tensor exists with the expected shape (default true; false for vocab-only files). */
  requireTensors?: boolean;
}

export function readLlamaConfig(file: GGUFFile, options: ReadConfigOptions = {}): LlamaConfig {
  const where = file.source.name;
  const architecture = getString(file, 'general.architecture');
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new UnsupportedError(`${where}: architecture '${architecture}' is not supported yet; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`);
  }
  const key = (k: string) => `${architecture}.${k}`;
  const required = (k: string): number => {
    const v = perLayerNumber(file, key(k));
    if (v === undefined) throw new FormatError(`${where}: required metadata '${key(k)}' is missing`);
    return v;
  };
  const positiveInt = (name: string, v: number): number => {
    if (!Number.isSafeInteger(v) || v <= 0) throw new FormatError(`${where}: ${name} is ${v}; it must be a positive integer`);
    return v;
  };

  const embeddingLength = positiveInt(key('embedding_length'), required('embedding_length'));
  const blockCount = positiveInt(key('block_count'), required('block_count'));
  const feedForwardLength = positiveInt(key('feed_forward_length'), required('feed_forward_length'));
  const headCount = positiveInt(key('attention.head_count'), required('attention.head_count'));
  const contextLength = positiveInt(key('context_length'), required('context_length'));
  const headCountKv = positiveInt(key('attention.head_count_kv'), perLayerNumber(file, key('attention.head_count_kv')) ?? headCount);
  if (headCount % headCountKv !== 0) {
    throw new FormatError(`${where}: head_count ${headCount} is not a multiple of head_count_kv ${headCountKv}`);
  }
  const keyLength = getOptionalNumber(file, key('attention.key_length'));
  const valueLength = getOptionalNumber(file, key('attention.value_length'));
  if (keyLength === undefined && embeddingLength % headCount !== 0) {
    throw new FormatError(`${where}: embedding_length ${embeddingLength} is not a multiple of head_count ${headCount}`);
  }
  const headDim = positiveInt(key('attention.key_length'), keyLength ?? embeddingLength / headCount);
  if (valueLength !== undefined && valueLength !== headDim) {
    throw new UnsupportedError(`${where}: attention value_length ${valueLength} differs from key_length ${headDim}; not supported yet`);
  }
  const ropeDim = positiveInt(key('rope.dimension_count'), getOptionalNumber(file, key('rope.dimension_count')) ?? headDim);
  if (ropeDim > headDim || ropeDim % 2 !== 0) {
    throw new FormatError(`${where}: rope.dimension_count ${ropeDim} must be even and at most the head dim ${headDim}`);
  }
  const ropeFreqBase = getOptionalNumber(file, key('rope.freq_base')) ?? LLAMA_DEFAULTS.ropeFreqBase;
  const rmsNormEps = getOptionalNumber(file, key('attention.layer_norm_rms_epsilon')) ?? LLAMA_DEFAULTS.rmsNormEps;
  if (!(ropeFreqBase > 0) || !(rmsNormEps > 0)) {
    throw new FormatError(`${where}: rope.freq_base (${ropeFreqBase}) and layer_norm_rms_epsilon (${rmsNormEps}) must be positive`);
  }
  checkNoRopeScaling(file, architecture);

  const tokens = getOptionalArray(file, 'tokenizer.ggml.tokens');
  const embd = file.tensorsByName.get('token_embd.weight');
  const vocabSize = positiveInt(
    key('vocab_size'),
    getOptionalNumber(file, key('vocab_size')) ?? tokens?.length ?? embd?.dims[1] ?? Number.NaN,
  );

  const config: LlamaConfig = {
    architecture,
    name: getOptionalString(file, 'general.name') ?? where,
    contextLength, embeddingLength, blockCount, feedForwardLength,
    headCount, headCountKv, headDim, ropeDim, ropeFreqBase,
    ropeStyle: 'norm', // llama.cpp's LLAMA_ROPE_TYPE_NORM for the llama architecture
    rmsNormEps, vocabSize,
    tiedEmbeddings: !file.tensorsByName.has('output.weight'),
  };
  if (options.requireTensors !== false) checkLlamaTensors(file, config);
  return config;
}

/** `llama.attention.head_count` may be per-layer (an array); Hearth needs it uniform. */
function perLayerNumber(file: GGUFFile, k: string): number | undefined {
  const v = file.metadata.get(k);
  if (!Array.isArray(v) && !ArrayBuffer.isView(v)) return getOptionalNumber(file, k); // scalar (or wrong type: says so)
  const arr = getOptionalArray(file, k)!;
  const values = Array.from(arr as ArrayLike<unknown>, Number);
  if (values.length === 0 || values.some((x) => x !== values[0])) {
    throw new UnsupportedError(`${file.source.name}: '${k}' varies per layer (${values.slice(0, 8).join(', ')}...); not supported yet`);
  }
  return values[0];
}

function checkNoRopeScaling(file: GGUFFile, arch: string): void {
  const type = getOptionalString(file, `${arch}.rope.scaling.type`);
  const factor = getOptionalNumber(file, `${arch}.rope.scaling.factor`) ?? getOptionalNumber(file, `${arch}.rope.scale_linear`);
  const scaled = (type !== undefined && type !== 'none') || (factor !== undefined && factor !== 1 && factor !== 0);
  if (scaled) {
    throw new UnsupportedError(`${file.source.name}: RoPE scaling (${type ?? 'linear'}, factor ${factor ?? '?'}) is not supported yet`);
  }
}

/** Every tensor the llama forward pass reads, with its ggml-order shape [ne0 (row length), ne1]. */
export function llamaTensorShapes(c: LlamaConfig): Map<string, number[]> {
  const q = c.headCount * c.headDim, kv = c.headCountKv * c.headDim;
  const shapes = new Map<string, number[]>([['token_embd.weight', [c.embeddingLength, c.vocabSize]]]);
  for (let l = 0; l < c.blockCount; l++) {
    const b = `blk.${l}.`;
    shapes.set(b + 'attn_norm.weight', [c.embeddingLength]);
    shapes.set(b + 'attn_q.weight', [c.embeddingLength, q]);
    shapes.set(b + 'attn_k.weight', [c.embeddingLength, kv]);
    shapes.set(b + 'attn_v.weight', [c.embeddingLength, kv]);
    shapes.set(b + 'attn_output.weight', [q, c.embeddingLength]);
    shapes.set(b + 'ffn_norm.weight', [c.embeddingLength]);
    shapes.set(b + 'ffn_gate.weight', [c.embeddingLength, c.feedForwardLength]);
    shapes.set(b + 'ffn_up.weight', [c.embeddingLength, c.feedForwardLength]);
    shapes.set(b + 'ffn_down.weight', [c.feedForwardLength, c.embeddingLength]);
  }
  shapes.set('output_norm.weight', [c.embeddingLength]);
  if (!c.tiedEmbeddings) shapes.set('output.weight', [c.embeddingLength, c.vocabSize]);
  return shapes;
}

function sameShape(t: GGUFTensorInfo, expected: number[]): boolean {
  // Trailing 1-dims are insignificant in ggml.
  const trim = (d: number[]) => { const a = [...d]; while (a.length > 1 && a[a.length - 1] === 1) a.pop(); return a; };
  const a = trim(t.dims), b = trim(expected);
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkLlamaTensors(file: GGUFFile, config: LlamaConfig): void {
  for (const [name, shape] of llamaTensorShapes(config)) {
    const t = file.tensorsByName.get(name);
    if (!t) throw new FormatError(`${file.source.name}: required tensor '${name}' is missing (incomplete or vocab-only file?)`);
    if (!sameShape(t, shape)) {
      throw new FormatError(`${file.source.name}: tensor '${name}' has shape [${t.dims.join(', ')}], expected [${shape.join(', ')}] from the metadata`);
    }
  }
}
