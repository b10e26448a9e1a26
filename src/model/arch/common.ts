// What every architecture reader shares: `<arch>.*` keys with llama.cpp's defaults and errors that name
// the file, the model's shape, rope (with the scaling llama.cpp applies), and bias discovery.
import { FormatError, UnsupportedError } from '../../errors';
import { getOptionalArray, getOptionalNumber, getOptionalString } from '../gguf-metadata';
import type { ModelFile } from '../model-file';
import type { BiasedTensor, ModelConfig, RopeConfig } from '../config';

interface ArchIdentity { architecture: string; name: string }

/** Builds the config of one architecture from its file. */
export type ArchReader = (file: ModelFile, id: ArchIdentity) => ModelConfig;

/** The part of ModelConfig every architecture reads the same way. */
export type ModelShape = Pick<ModelConfig,
  'contextLength' | 'embeddingLength' | 'blockCount' | 'feedForwardLength' | 'headCount' | 'headCountKv' | 'headDim' | 'vocabSize'>;

/** llama.cpp's defaults for keys a file may omit. */
export const DEFAULTS = {
  ropeFreqBase: 10000,
  normEps: 1e-5,
} as const;

/** Reads `<arch>.<key>` metadata of one file; errors name the file and the key. */
export class ArchMetadata {
  readonly where: string;
  constructor(readonly file: ModelFile, readonly arch: string) {
    this.where = file.source.name;
  }

  key(k: string): string {
    return `${this.arch}.${k}`;
  }

  /** A number, or per-layer array whose values are all equal (Hearth needs uniform layers). */
  number(k: string): number | undefined {
    const full = this.key(k);
    const v = this.file.metadata.get(full);
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) return getOptionalNumber(this.file, full);
    const values = Array.from(getOptionalArray(this.file, full) as ArrayLike<unknown>, Number);
    if (values.length === 0 || values.some((x) => x !== values[0])) {
      throw new UnsupportedError(`${this.where}: '${full}' varies per layer (${values.slice(0, 8).join(', ')}...); not supported yet`);
    }
    return values[0];
  }

  required(k: string): number {
    const v = this.number(k);
    if (v === undefined) throw new FormatError(`${this.where}: required metadata '${this.key(k)}' is missing`);
    return v;
  }

  positiveInt(k: string, v: number): number {
    if (!Number.isSafeInteger(v) || v <= 0) throw new FormatError(`${this.where}: ${this.key(k)} is ${v}; it must be a positive integer`);
    return v;
  }

  positive(k: string, v: number): number {
    if (!(v > 0) || !Number.isFinite(v)) throw new FormatError(`${this.where}: ${this.key(k)} is ${v}; it must be a positive number`);
    return v;
  }

  string(k: string): string | undefined {
    return getOptionalString(this.file, this.key(k));
  }

  hasTensor(name: string): boolean {
    return this.file.tensorsByName.has(name);
  }

  /** RMS norm epsilon (`attention.layer_norm_rms_epsilon`). */
  rmsNormEps(): number {
    return this.positive('attention.layer_norm_rms_epsilon', this.number('attention.layer_norm_rms_epsilon') ?? DEFAULTS.normEps);
  }
}

export function readShape(m: ArchMetadata): ModelShape {
  const embeddingLength = m.positiveInt('embedding_length', m.required('embedding_length'));
  const blockCount = m.positiveInt('block_count', m.required('block_count'));
  const feedForwardLength = m.positiveInt('feed_forward_length', m.required('feed_forward_length'));
  const headCount = m.positiveInt('attention.head_count', m.required('attention.head_count'));
  const contextLength = m.positiveInt('context_length', m.required('context_length'));
  const headCountKv = m.positiveInt('attention.head_count_kv', m.number('attention.head_count_kv') ?? headCount);
  if (headCount % headCountKv !== 0) {
    throw new FormatError(`${m.where}: head_count ${headCount} is not a multiple of head_count_kv ${headCountKv}`);
  }
  const keyLength = m.number('attention.key_length');
  const valueLength = m.number('attention.value_length');
  if (keyLength === undefined && embeddingLength % headCount !== 0) {
    throw new FormatError(`${m.where}: embedding_length ${embeddingLength} is not a multiple of head_count ${headCount}`);
  }
  const headDim = m.positiveInt('attention.key_length', keyLength ?? embeddingLength / headCount);
  if (valueLength !== undefined && valueLength !== headDim) {
    throw new UnsupportedError(`${m.where}: attention value_length ${valueLength} differs from key_length ${headDim}; not supported yet`);
  }
  const tokens = getOptionalArray(m.file, 'tokenizer.ggml.tokens');
  const embd = m.file.tensorsByName.get('token_embd.weight');
  const vocabSize = m.positiveInt('vocab_size', m.number('vocab_size') ?? tokens?.length ?? embd?.dims[1] ?? Number.NaN);
  return { contextLength, embeddingLength, blockCount, feedForwardLength, headCount, headCountKv, headDim, vocabSize };
}

export interface RopeOptions {
  /** Tensor whose presence means per-pair frequency factors (Llama 3's 'rope_freqs.weight'). */
  freqFactors?: string;
  /**
   * LongRoPE (Phi-3): when the file has this short-factor tensor (or says `rope.scaling.type = longrope`),
   * use it, as llama.cpp does for contexts up to the original length. llama.cpp goes by the tensor's
   * presence; convert_hf_to_gguf.py writes the factors and the attention factor but no scaling type.
   */
  longRopeShortFactors?: string;
}

/**
 * Rope of the full-attention layers as llama.cpp sets it up: base `rope.freq_base` (default 10000),
 * linear scaling by 1/`rope.scaling.factor` (or the older `rope.scale_linear`), per-pair factors from a
 * tensor when the file has one. YaRN changes the angles in ways Hearth does not implement: rejected.
 */
export function readRope(m: ArchMetadata, shape: ModelShape, style: RopeConfig['style'], options: RopeOptions = {}): RopeConfig {
  const dim = m.positiveInt('rope.dimension_count', m.number('rope.dimension_count') ?? shape.headDim);
  if (dim > shape.headDim || dim % 2 !== 0) {
    throw new FormatError(`${m.where}: rope.dimension_count ${dim} must be even and at most the head dim ${shape.headDim}`);
  }
  const freqBase = m.positive('rope.freq_base', m.number('rope.freq_base') ?? DEFAULTS.ropeFreqBase);
  const type = m.string('rope.scaling.type') ?? 'linear'; // llama.cpp's default; a factor of 0 or none means no scaling
  const factor = m.number('rope.scaling.factor') ?? m.number('rope.scale_linear') ?? 0;
  let freqScale = 1;
  let freqFactors = options.freqFactors && m.hasTensor(options.freqFactors) ? options.freqFactors : null;
  let attnFactor = 1;
  const short = options.longRopeShortFactors;
  if (short && (type === 'longrope' || m.hasTensor(short))) {
    freqFactors = short;
    attnFactor = m.number('rope.scaling.attn_factor') ?? 1;
  } else if (type === 'linear') {
    freqScale = factor === 0 ? 1 : 1 / factor;
  } else if (type !== 'none' && !(type === 'yarn' && (factor === 0 || factor === 1))) {
    throw new UnsupportedError(`${m.where}: RoPE scaling (${type}, factor ${factor || '?'}) is not supported yet`);
  }
  if (!(freqScale > 0) || !Number.isFinite(freqScale)) throw new FormatError(`${m.where}: rope scaling factor ${factor} is not usable`);
  return { style, dim, freqBase, freqScale, freqFactors, attnFactor };
}

/** Tensors that are not in a `blk.N.` block. */
const GLOBAL_BIASES: ReadonlySet<BiasedTensor> = new Set<BiasedTensor>(['output_norm', 'output']);

/**
 * Biases the model uses: every `required` one (the tensor check then insists on it), and each `optional`
 * one the file has (checked on block 0 / the global tensor; the tensor check then insists on all blocks).
 */
export function resolveBiases(m: ArchMetadata, required: BiasedTensor[], optional: BiasedTensor[] = []): BiasedTensor[] {
  const present = (t: BiasedTensor) => m.hasTensor(GLOBAL_BIASES.has(t) ? `${t}.bias` : `blk.0.${t}.bias`);
  return [...required, ...optional.filter((t) => !required.includes(t) && present(t))];
}

/** 1/√headDim, rounded like llama.cpp's `1.0f/sqrtf(float(n))`. */
export function inverseSqrt(n: number): number {
  return Math.fround(1 / Math.fround(Math.sqrt(n)));
}

/** Projection biases llama.cpp's create_tensor_qkv accepts for any architecture that uses it. */
export const QKV_BIASES: BiasedTensor[] = ['attn_q', 'attn_k', 'attn_v', 'attn_qkv'];

/**
 * What the Llama-shaped decoders (Llama, Qwen 2 and 3, Phi-3) share: RMS pre-norms, SwiGLU, plain residuals, no
 * learned positions, windows or soft-caps, scores scaled by 1/√headDim, the output head tied when the file has none.
 */
export function llamaShaped(m: ArchMetadata, shape: ModelShape) {
  return {
    ...shape,
    norm: 'rms' as const,
    normEps: m.rmsNormEps(),
    feedForward: 'swiglu' as const,
    fusedQkv: m.hasTensor('blk.0.attn_qkv.weight'),
    postNorms: false,
    embeddingScale: 1,
    positionEmbedding: false,
    slidingWindow: null,
    attentionScale: inverseSqrt(shape.headDim),
    attentionSoftcap: 0,
    finalSoftcap: 0,
    tiedEmbeddings: !m.hasTensor('output.weight'),
  };
}
