// Llama (and the Llama-shaped SmolLM, TinyLlama, Mistral): RMS norm, SwiGLU, "norm"-style rope with
// optional Llama 3 frequency factors (`rope_freqs.weight`) or linear scaling.
import type { ArchReader } from './common';
import { ArchMetadata, inverseSqrt, QKV_BIASES, readRope, readShape, resolveBiases } from './common';

export const readLlama: ArchReader = (file, id) => {
  const m = new ArchMetadata(file, id.architecture);
  const shape = readShape(m);
  return {
    ...id,
    ...shape,
    norm: 'rms',
    normEps: m.rmsNormEps(),
    feedForward: 'swiglu',
    fusedQkv: m.hasTensor('blk.0.attn_qkv.weight'),
    fusedGateUp: false,
    // llama.cpp's llama graph takes these when the file has them (TENSOR_NOT_REQUIRED).
    biases: resolveBiases(m, [], [...QKV_BIASES, 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']),
    qkNorm: false,
    postNorms: false,
    embeddingScale: 1,
    positionEmbedding: false,
    rope: readRope(m, shape, 'norm', { freqFactors: 'rope_freqs.weight' }),
    slidingWindow: null,
    attentionScale: inverseSqrt(shape.headDim),
    attentionSoftcap: 0,
    finalSoftcap: 0,
    tiedEmbeddings: !m.hasTensor('output.weight'),
  };
};
