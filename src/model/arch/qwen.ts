// Qwen2 (Llama plus q/k/v biases, NEOX rope) and Qwen3 (no biases as converted, per-head q/k RMS norm).
import type { ArchReader } from './common';
import { ArchMetadata, llamaShaped, QKV_BIASES, readRope, readShape, resolveBiases } from './common';

function readQwen(qkNorm: boolean): ArchReader {
  return (file, id) => {
    const m = new ArchMetadata(file, id.architecture);
    const shape = readShape(m);
    return {
      ...id,
      ...llamaShaped(m, shape),
      fusedGateUp: false,
      // Qwen2 files carry q/k/v biases; llama.cpp loads them (and qwen2's output bias) when present.
      biases: resolveBiases(m, [], qkNorm ? QKV_BIASES : [...QKV_BIASES, 'output']),
      qkNorm,
      rope: readRope(m, shape, 'neox'),
    };
  };
}

export const readQwen2 = readQwen(false);
export const readQwen3 = readQwen(true);
