// Qwen2 (Llama plus q/k/v biases, NEOX rope) and Qwen3 (no biases as converted, per-head q/k RMS norm).
import type { ArchReader } from './common';
import { ArchMetadata, inverseSqrt, QKV_BIASES, readRope, readShape, resolveBiases } from './common';

function readQwen(qkNorm: boolean): ArchReader {
  return (file, id) => {
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
      // Qwen2 files carry q/k/v biases; llama.cpp loads them (and qwen2's output bias) when present.
      biases: resolveBiases(m, [], qkNorm ? QKV_BIASES : [...QKV_BIASES, 'output']),
      qkNorm,
      postNorms: false,
      embeddingScale: 1,
      positionEmbedding: false,
      rope: readRope(m, shape, 'neox'),
      slidingWindow: null,
      attentionScale: inverseSqrt(shape.headDim),
      attentionSoftcap: 0,
      finalSoftcap: 0,
      tiedEmbeddings: !m.hasTensor('output.weight'),
    };
  };
}

export const readQwen2 = readQwen(false);
export const readQwen3 = readQwen(true);
