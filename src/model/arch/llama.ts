// Llama (and the Llama-shaped SmolLM, TinyLlama, Mistral): RMS norm, SwiGLU, "norm"-style rope with
// optional Llama 3 frequency factors (`rope_freqs.weight`) or linear scaling.
import type { ArchReader } from './common';
import { ArchMetadata, llamaShaped, QKV_BIASES, readRope, readShape, resolveBiases } from './common';

export const readLlama: ArchReader = (file, id) => {
  const m = new ArchMetadata(file, id.architecture);
  const shape = readShape(m);
  return {
    ...id,
    ...llamaShaped(m, shape),
    fusedGateUp: false,
    // llama.cpp's llama graph takes these when the file has them (TENSOR_NOT_REQUIRED).
    biases: resolveBiases(m, [], [...QKV_BIASES, 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']),
    qkNorm: false,
    rope: readRope(m, shape, 'norm', { freqFactors: 'rope_freqs.weight' }),
  };
};
