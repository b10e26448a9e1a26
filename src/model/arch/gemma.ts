// Gemma 2 and Gemma 3: GeGLU, embedding scaled by √dim, RMS norms after each sub-block as well as
// before, NEOX rope, sliding-window layers. Norm weights need no "+1": the converter already added it.
// Gemma 2 soft-caps attention scores and logits; Gemma 3 drops the attention cap, adds per-head q/k
// norm, and gives its windowed layers their own rope (base 10000, unscaled) while full layers use
// `rope.freq_base` and the file's linear scaling.
import { FormatError } from '../../errors';
import { getOptionalArray } from '../gguf-metadata';
import type { SlidingWindowConfig } from '../config';
import type { ArchReader, ModelShape } from './common';
import { ArchMetadata, inverseSqrt, QKV_BIASES, readRope, readShape, resolveBiases } from './common';

/**
 * llama.cpp scales queries by 1/√headDim, except for the 27B models (recognised by their layer count),
 * whose query_pre_attn_scalar is dim / heads.
 */
function gemmaAttentionScale(shape: ModelShape, layersOf27B: number): number {
  return shape.blockCount === layersOf27B ? inverseSqrt(shape.embeddingLength / shape.headCount) : inverseSqrt(shape.headDim);
}

/**
 * Which layers use the window: llama.cpp's set_swa_pattern(period), i.e. every layer but each
 * period-th (layer l is windowed when l % period < period − 1). A per-layer bool array is taken as is.
 */
function windowedLayers(m: ArchMetadata, blockCount: number, defaultPeriod: number): boolean[] {
  const key = m.key('attention.sliding_window_pattern');
  const value = m.file.metadata.get(key);
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const raw = getOptionalArray(m.file, key)!;
    const layers = Array.from(raw as ArrayLike<unknown>, Boolean);
    if (layers.length !== blockCount) {
      throw new FormatError(`${m.where}: ${key} has ${layers.length} entries for ${blockCount} layers`);
    }
    return layers;
  }
  const period = m.number('attention.sliding_window_pattern') ?? defaultPeriod;
  return Array.from({ length: blockCount }, (_, l) => period === 0 || l % period < period - 1);
}

/** What Gemma 2 and 3 share: RMS pre- and post-norms, GeGLU, embeddings scaled by √dim. */
function gemmaCommon(m: ArchMetadata, shape: ModelShape) {
  return {
    ...shape,
    norm: 'rms',
    normEps: m.rmsNormEps(),
    feedForward: 'geglu',
    fusedQkv: m.hasTensor('blk.0.attn_qkv.weight'),
    fusedGateUp: false,
    biases: resolveBiases(m, [], QKV_BIASES),
    postNorms: true,
    embeddingScale: Math.fround(Math.sqrt(shape.embeddingLength)),
    positionEmbedding: false,
  } as const;
}

export const readGemma2: ArchReader = (file, id) => {
  const m = new ArchMetadata(file, id.architecture);
  const shape = readShape(m);
  const rope = readRope(m, shape, 'neox');
  const slidingWindow: SlidingWindowConfig = {
    size: m.positiveInt('attention.sliding_window', m.number('attention.sliding_window') ?? 4096),
    layers: windowedLayers(m, shape.blockCount, 2),
    rope: { ...rope, freqBase: m.number('rope.freq_base_swa') ?? rope.freqBase },
  };
  return {
    ...gemmaCommon(m, shape),
    ...id,
    qkNorm: false,
    rope,
    slidingWindow,
    attentionScale: gemmaAttentionScale(shape, 46),
    attentionSoftcap: m.number('attn_logit_softcapping') ?? 50,
    finalSoftcap: m.number('final_logit_softcapping') ?? 30,
    // llama.cpp's gemma2 always projects with the token embedding.
    tiedEmbeddings: true,
  };
};

export const readGemma3: ArchReader = (file, id) => {
  const m = new ArchMetadata(file, id.architecture);
  const shape = readShape(m);
  const rope = readRope(m, shape, 'neox');
  const window = m.number('attention.sliding_window') ?? 0;
  const slidingWindow: SlidingWindowConfig | null = window > 0
    ? {
      size: m.positiveInt('attention.sliding_window', window),
      layers: windowedLayers(m, shape.blockCount, 6),
      rope: { ...rope, freqBase: m.number('rope.freq_base_swa') ?? 10000, freqScale: 1 },
    }
    : null;
  return {
    ...gemmaCommon(m, shape),
    ...id,
    qkNorm: true,
    rope,
    slidingWindow,
    attentionScale: gemmaAttentionScale(shape, 62),
    attentionSoftcap: 0,
    finalSoftcap: m.number('final_logit_softcapping') ?? 0,
    tiedEmbeddings: !m.hasTensor('output.weight'),
  };
};
