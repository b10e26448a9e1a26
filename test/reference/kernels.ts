// CPU twins of the WGSL kernels in shaders/. Same inputs, same layouts, same conventions; sums are
// accumulated in f64, so the difference to the GPU measures the GPU's own rounding error.
import { uniform01 } from '../../src/sampler/prng';

/** embedding.wgsl: row `token` of a [VOCAB, DIM] table. */
export function embeddingRef(table: Float32Array, dim: number, token: number): Float32Array {
  return table.slice(token * dim, (token + 1) * dim);
}

/** rmsnorm.wgsl: x * 1/sqrt(mean(x²) + eps) * weight. */
export function rmsnormRef(x: Float32Array, weight: Float32Array, eps: number): Float32Array {
  let sum = 0;
  for (const v of x) sum += v * v;
  const scale = 1 / Math.sqrt(sum / x.length + eps);
  return x.map((v, i) => v * scale * weight[i]!);
}

/** matvec.wgsl: out[r] = Σ_c W[r, c] · x[c] for W [rows, cols] row-major. */
export function matvecRef(w: Float32Array, x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let c = 0; c < cols; c++) acc += w[r * cols + c]! * x[c]!;
    out[r] = acc;
  }
  return out;
}

/** The rope cos/sin table [ctx, rotDim/2, 2]: θ = pos · freqBase^(−2i/rotDim), computed in f64. */
export function ropeTableRef(ctx: number, rotDim: number, freqBase: number): Float32Array {
  const half = rotDim / 2;
  const table = new Float32Array(ctx * half * 2);
  for (let pos = 0; pos < ctx; pos++) {
    for (let i = 0; i < half; i++) {
      const theta = pos * freqBase ** ((-2 * i) / rotDim);
      table[(pos * half + i) * 2] = Math.cos(theta);
      table[(pos * half + i) * 2 + 1] = Math.sin(theta);
    }
  }
  return table;
}

export interface RopeShape { nHeads: number; headDim: number; rotDim: number; neox: boolean; freqBase: number }

/** rope.wgsl, with the angles computed directly (not through the table). */
export function ropeRef(x: Float32Array, pos: number, s: RopeShape): Float32Array {
  const out = x.slice();
  const half = s.rotDim / 2;
  for (let h = 0; h < s.nHeads; h++) {
    for (let i = 0; i < half; i++) {
      const theta = pos * s.freqBase ** ((-2 * i) / s.rotDim);
      const [c, sn] = [Math.cos(theta), Math.sin(theta)];
      const ia = h * s.headDim + (s.neox ? i : 2 * i);
      const ib = s.neox ? ia + half : ia + 1;
      const a = x[ia]!;
      const b = x[ib]!;
      out[ia] = a * c - b * sn;
      out[ib] = a * sn + b * c;
    }
  }
  return out;
}

export interface AttentionShape { nHeads: number; nKvHeads: number; headDim: number }

/** attention.wgsl: per head, softmax(q·Kᵀ/sqrt(headDim)) over positions 0..=pos, times V. Caches are [CTX, nKvHeads, headDim]. */
export function attentionRef(q: Float32Array, kCache: Float32Array, vCache: Float32Array, pos: number, s: AttentionShape): Float32Array {
  const kvDim = s.nKvHeads * s.headDim;
  const group = s.nHeads / s.nKvHeads;
  const out = new Float32Array(s.nHeads * s.headDim);
  for (let h = 0; h < s.nHeads; h++) {
    const kvOff = Math.floor(h / group) * s.headDim;
    const scores = new Float64Array(pos + 1);
    for (let p = 0; p <= pos; p++) {
      let dot = 0;
      for (let d = 0; d < s.headDim; d++) dot += q[h * s.headDim + d]! * kCache[p * kvDim + kvOff + d]!;
      scores[p] = dot / Math.sqrt(s.headDim);
    }
    const max = Math.max(...scores);
    let sum = 0;
    for (let p = 0; p <= pos; p++) sum += (scores[p] = Math.exp(scores[p]! - max));
    for (let d = 0; d < s.headDim; d++) {
      let acc = 0;
      for (let p = 0; p <= pos; p++) acc += scores[p]! * vCache[p * kvDim + kvOff + d]!;
      out[h * s.headDim + d] = acc / sum;
    }
  }
  return out;
}

/** add.wgsl: a + b, rounded once to f32 exactly as the GPU's correctly rounded f32 add. */
export function addRef(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]!);
}

/** glu.wgsl with ACT 0 (SwiGLU): silu(gate) * up, silu(x) = x / (1 + e^−x). */
export function swigluRef(gate: Float32Array, up: Float32Array): Float32Array {
  return gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
}

/** argmax.wgsl, written as llama2.c's sample_argmax: a strict `>` scan, so the lowest index wins ties. */
export function argmaxRef(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** random.wgsl: out[i] = uniform01(seed, offset + i) from the project PRNG (src/sampler/prng.ts). */
export function randomRef(seed: number, offset: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = uniform01(seed, (offset + i) >>> 0);
  return out;
}
