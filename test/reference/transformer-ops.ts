// CPU twins of the kernels the non-Llama architectures add (layer norm, GELU, GeGLU, soft-capping,
// scaling, learned positions, per-head RMS norm, windowed/soft-capped attention). Same layouts as the
// WGSL; sums in f64, so differences to the GPU measure the GPU's own rounding.

const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_COEF_A = 0.044715;

/** rmsnorm.wgsl dispatched over R rows of n: each row normed alone, all rows share `weight` [n]. */
export function rmsnormRowsRef(x: Float32Array, weight: Float32Array, n: number, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x[r * n + i]! ** 2;
    const scale = 1 / Math.sqrt(sum / n + eps);
    for (let i = 0; i < n; i++) out[r * n + i] = x[r * n + i]! * scale * weight[i]!;
  }
  return out;
}

/** layernorm.wgsl: (x − mean) / sqrt(var + eps) · weight + bias, variance of x − mean (ggml_norm). */
export function layernormRef(x: Float32Array, weight: Float32Array, bias: Float32Array, eps: number): Float32Array {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let sq = 0;
  for (const v of x) sq += (v - mean) ** 2;
  const scale = 1 / Math.sqrt(sq / x.length + eps);
  return x.map((v, i) => (v - mean) * scale * weight[i]! + bias[i]!);
}

/** The tanh approximation of GELU (ggml_gelu_f32, without ggml's f16 lookup table). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * x * (1 + GELU_COEF_A * x * x)));
}

/** gelu.wgsl. */
export function geluRef(x: Float32Array): Float32Array {
  return x.map(gelu);
}

/** glu.wgsl with ACT 1 (GeGLU): gelu(gate) · up. */
export function gegluRef(gate: Float32Array, up: Float32Array): Float32Array {
  return gate.map((g, i) => gelu(g) * up[i]!);
}

/** softcap.wgsl: cap · tanh(x / cap). */
export function softcapRef(x: Float32Array, cap: number): Float32Array {
  return x.map((v) => cap * Math.tanh(v / cap));
}

/** scale.wgsl: x · s. */
export function scaleRef(x: Float32Array, s: number): Float32Array {
  return x.map((v) => v * s);
}

/** position.wgsl: x + table[pos, :] for a [rows, dim] table. */
export function positionRef(x: Float32Array, table: Float32Array, dim: number, pos: number): Float32Array {
  return x.map((v, i) => v + table[pos * dim + i]!);
}

export interface AttentionOptions {
  nHeads: number; nKvHeads: number; headDim: number;
  /** Multiplies q·k (1/sqrt(headDim) for most models). */
  scale: number;
  /** > 0: scores become softcap · tanh(score / softcap) before the softmax. */
  softcap: number;
  /** > 0: only positions p with pos − p < window are seen. */
  window: number;
}

/** attention.wgsl: per head, softmax over the visible positions of cap(scale · q·k), times V. Caches are [CTX, nKvHeads, headDim]. */
export function attentionOptionsRef(q: Float32Array, kCache: Float32Array, vCache: Float32Array, pos: number, s: AttentionOptions): Float32Array {
  const kvDim = s.nKvHeads * s.headDim;
  const group = s.nHeads / s.nKvHeads;
  const first = s.window > 0 ? Math.max(0, pos + 1 - s.window) : 0;
  const out = new Float32Array(s.nHeads * s.headDim);
  for (let h = 0; h < s.nHeads; h++) {
    const kvOff = Math.floor(h / group) * s.headDim;
    const scores: number[] = [];
    for (let p = first; p <= pos; p++) {
      let dot = 0;
      for (let d = 0; d < s.headDim; d++) dot += q[h * s.headDim + d]! * kCache[p * kvDim + kvOff + d]!;
      const score = dot * s.scale;
      scores.push(s.softcap > 0 ? s.softcap * Math.tanh(score / s.softcap) : score);
    }
    const max = Math.max(...scores);
    const weights = scores.map((v) => Math.exp(v - max));
    const sum = weights.reduce((a, b) => a + b, 0);
    for (let d = 0; d < s.headDim; d++) {
      let acc = 0;
      for (let p = first; p <= pos; p++) acc += weights[p - first]! * vCache[p * kvDim + kvOff + d]!;
      out[h * s.headDim + d] = acc / sum;
    }
  }
  return out;
}
