// The weights a kernel case multiplies: seeded test values and their GPU form (f32, packed f16, GGUF blocks)
// with the values the GPU will see, shared by every case file.
import type { WeightDType } from '../../src/gpu/shaders';
import { packF16 } from '../reference/f16';
import { dequantize } from '../reference/quant';
import { quantize, toWords } from '../helpers/quantize';
import { randomFloats, type Rng } from '../helpers/seeded';

/** Weights as the GPU stores them (f32; f16 packed in u32 words; GGUF bytes in words) and the values the GPU will see. */
export function weights(values: Float32Array, dtype: WeightDType): { data: Float32Array | Uint32Array; seen: Float32Array } {
  if (dtype === 'f32') return { data: values, seen: values };
  if (dtype === 'f16') {
    const { words, rounded } = packF16(values);
    return { data: words, seen: rounded };
  }
  const bytes = quantize(dtype, values);
  return { data: toWords(bytes), seen: dequantize(dtype, bytes, values.length) };
}

/**
 * n test weights: noise in [-1, 1); for the GGUF types every third 32-element block is scaled by 1e-5
 * (subnormal f16 scales) and every fifth by 0.3.
 */
export function testWeights(rng: Rng, n: number, dtype: WeightDType): Float32Array {
  const values = randomFloats(rng, n);
  if (dtype === 'f32' || dtype === 'f16') return values;
  for (let i = 0; i < n; i++) {
    const block = i >> 5;
    if (block % 3 === 1) values[i] = Math.fround(values[i]! * 1e-5);
    else if (block % 5 === 4) values[i] = Math.fround(values[i]! * 0.3);
  }
  return values;
}
