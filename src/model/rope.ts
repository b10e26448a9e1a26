// Host-computed rope tables: cos/sin of every (position, pair) angle, once at load. The rope kernel only
// looks them up, so large angles do not depend on the GPU's cos/sin, and every scaling llama.cpp applies
// (linear scale, per-pair frequency factors, LongRoPE's attention factor) lives here.
import type { RopeConfig } from './config';

/**
 * cos/sin of θ = pos · freq_i, [ctx, dim/2, 2], with freq_i = base^(−2i/dim) / factor_i · freqScale.
 * Rounded to f32 at each step as llama2.c does (powf, then pos·freq, then cosf), so plain Llama angles
 * agree with that reference bit for bit; factors and scale are exact no-ops when absent.
 * Both values are multiplied by `attnFactor` (ggml's mscale).
 */
export function ropeTable(contextLength: number, rope: RopeConfig, factors: Float32Array | null): Float32Array {
  const half = rope.dim / 2;
  const table = new Float32Array(contextLength * half * 2);
  const f = Math.fround;
  for (let i = 0; i < half; i++) {
    let freq = f(1 / f(Math.pow(rope.freqBase, f((2 * i) / rope.dim))));
    if (factors) freq = f(freq / factors[i]!);
    freq = f(freq * rope.freqScale);
    for (let pos = 0; pos < contextLength; pos++) {
      const theta = f(pos * freq);
      table[(pos * half + i) * 2] = Math.cos(theta) * rope.attnFactor;
      table[(pos * half + i) * 2 + 1] = Math.sin(theta) * rope.attnFactor;
    }
  }
  return table;
}
