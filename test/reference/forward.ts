// A plain CPU forward pass in f32 weights (sums in f64), written as llama2.c's run.c reads: one function per
// block, loops over rows and heads, every weight dequantized from the GGUF up front. It covers every architecture
// feature Hearth runs (biases, q/k norm, rope styles with frequency factors and LongRoPE, sliding windows with their
// own rope, post-norms, soft-caps, GELU/GeGLU/SwiGLU, fused qkv and gate-up tensors, tied output, learned positions,
// layer norm, the encoder's post-norm residuals and token types, embedding scale) and is independent of Hearth's
// GPU code: it shares only the GGUF parser and the ModelConfig reader (test/forward-reference.test.ts).
import { readGGUF } from '../../src/model/gguf';
import { MemorySource } from '../../src/io/byte-source';
import type { ModelConfig, RopeConfig } from '../../src/model/config';
import { readModelConfig } from '../../src/model/read-config';
import { GGMLType } from '../../src/model/ggml-types';
import { weightDTypeForGGML } from '../../src/gpu/quant-types';
import { dequantize } from './quant';
import { gelu } from './transformer-ops';

export interface CpuModel {
  config: ModelConfig;
  /** Every tensor of the file as f32, by name. */
  tensors: Map<string, Float32Array>;
  /** Sees the input of each product whose input no norm bounds (attn_output's, ffn_down's), e.g. to measure its range. */
  probe?: (tensor: 'attn_output' | 'ffn_down', input: Float32Array) => void;
}

export async function loadCpuModel(bytes: Uint8Array): Promise<CpuModel> {
  const file = await readGGUF(new MemorySource(bytes, 'model.gguf'));
  const config = readModelConfig(file);
  const tensors = new Map<string, Float32Array>();
  for (const t of file.tensors) {
    const data = await file.readTensor(t);
    const elements = t.dims.reduce((a, b) => a * b, 1);
    const dtype = t.type === GGMLType.F32 ? 'f32' : weightDTypeForGGML(t.type);
    if (!dtype) throw new Error(`${t.name}: no CPU dequantizer for type ${t.type}`);
    tensors.set(t.name, dequantize(dtype, data, elements));
  }
  return { config, tensors };
}

/** The KV cache of every layer, [ctx, kvHeads · headDim] each. */
export interface CpuState { keys: Float32Array[]; values: Float32Array[] }

export function newState(m: CpuModel, contextLength: number): CpuState {
  const kvDim = m.config.headCountKv * m.config.headDim;
  const layers = Array.from({ length: m.config.blockCount }, () => new Float32Array(contextLength * kvDim));
  return { keys: layers, values: layers.map(() => new Float32Array(contextLength * kvDim)) };
}

const weight = (m: CpuModel, name: string): Float32Array => {
  const w = m.tensors.get(name);
  if (!w) throw new Error(`missing tensor ${name}`);
  return w;
};
const optional = (m: CpuModel, name: string): Float32Array | undefined => m.tensors.get(name);

/** out = W x (+ b), W [rows, cols] row-major. */
function matmul(w: Float32Array, x: Float32Array, rows: number, b?: Float32Array, rowOffset = 0): Float32Array {
  const cols = x.length;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const row = (rowOffset + r) * cols;
    for (let c = 0; c < cols; c++) sum += w[row + c]! * x[c]!;
    out[r] = sum + (b ? b[rowOffset + r]! : 0);
  }
  return out;
}

function rmsnorm(x: Float32Array, w: Float32Array, eps: number): Float32Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * scale * w[i]!);
}

function layernorm(x: Float32Array, w: Float32Array, b: Float32Array, eps: number): Float32Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  const scale = 1 / Math.sqrt(variance / x.length + eps);
  return x.map((v, i) => (v - mean) * scale * w[i]! + b[i]!);
}

/** The model's norm (RMS or layer norm) with tensor `<prefix>.weight` (and `.bias`). */
function norm(m: CpuModel, x: Float32Array, prefix: string): Float32Array {
  const w = weight(m, `${prefix}.weight`);
  return m.config.norm === 'layer' ? layernorm(x, w, weight(m, `${prefix}.bias`), m.config.normEps) : rmsnorm(x, w, m.config.normEps);
}

const silu = (x: number) => x / (1 + Math.exp(-x));
const softcap = (x: number, cap: number) => cap * Math.tanh(x / cap);

/** Rotates the first rope.dim dims of each of `heads` heads of x by position `pos` (ggml_rope_ext). */
function rope(m: CpuModel, x: Float32Array, heads: number, pos: number, r: RopeConfig): void {
  const { headDim } = m.config;
  const factors = r.freqFactors ? weight(m, r.freqFactors) : undefined;
  const half = r.dim / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const theta = (pos * r.freqScale * r.freqBase ** (-(2 * i) / r.dim)) / (factors ? factors[i]! : 1);
      const cos = Math.cos(theta) * r.attnFactor, sin = Math.sin(theta) * r.attnFactor;
      const [a, b] = r.style === 'neox' ? [h * headDim + i, h * headDim + i + half] : [h * headDim + 2 * i, h * headDim + 2 * i + 1];
      const x0 = x[a]!, x1 = x[b]!;
      x[a] = x0 * cos - x1 * sin;
      x[b] = x0 * sin + x1 * cos;
    }
  }
}

/** x = token_embd[token] · scale + position_embd[pos] (+ token_types[0], LayerNormed, for an encoder). */
function embed(m: CpuModel, token: number, pos: number): Float32Array {
  const { embeddingLength: dim, embeddingScale, positionEmbedding, encoder } = m.config;
  const x = weight(m, 'token_embd.weight').slice(token * dim, (token + 1) * dim).map((v) => v * embeddingScale);
  if (positionEmbedding) { const p = weight(m, 'position_embd.weight'); for (let i = 0; i < dim; i++) x[i]! += p[pos * dim + i]!; }
  if (!encoder) return x;
  const types = optional(m, 'token_types.weight');
  if (types) for (let i = 0; i < dim; i++) x[i]! += types[i]!;
  return norm(m, x, 'token_embd_norm');
}

/** q, k, v of one token at layer l: projections of attn_norm(x) (+ biases), q/k heads RMS-normed, rotated. */
function qkv(m: CpuModel, l: number, x: Float32Array, pos: number): [Float32Array, Float32Array, Float32Array] {
  const c = m.config, b = `blk.${l}.`;
  const qDim = c.headCount * c.headDim, kvDim = c.headCountKv * c.headDim;
  const xb = c.encoder ? x : norm(m, x, `${b}attn_norm`);
  let q: Float32Array, k: Float32Array, v: Float32Array;
  if (c.fusedQkv) {
    const w = weight(m, `${b}attn_qkv.weight`), bias = optional(m, `${b}attn_qkv.bias`);
    [q, k, v] = [matmul(w, xb, qDim, bias), matmul(w, xb, kvDim, bias, qDim), matmul(w, xb, kvDim, bias, qDim + kvDim)];
  } else {
    const project = (name: string, rows: number) => matmul(weight(m, `${b}${name}.weight`), xb, rows, optional(m, `${b}${name}.bias`));
    [q, k, v] = [project('attn_q', qDim), project('attn_k', kvDim), project('attn_v', kvDim)];
  }
  if (c.qkNorm) {
    const perHead = (t: Float32Array, w: Float32Array) => { for (let h = 0; h < t.length / c.headDim; h++) t.set(rmsnorm(t.subarray(h * c.headDim, (h + 1) * c.headDim), w, c.normEps), h * c.headDim); };
    perHead(q, weight(m, `${b}attn_q_norm.weight`));
    perHead(k, weight(m, `${b}attn_k_norm.weight`));
  }
  const windowed = c.slidingWindow?.layers[l] === true;
  const r = windowed ? c.slidingWindow!.rope : c.rope;
  if (r) { rope(m, q, c.headCount, pos, r); rope(m, k, c.headCountKv, pos, r); }
  return [q, k, v];
}

/** Multi-head attention of query q at `pos` over cache positions [first, end) (GQA, scale, soft-cap, window). */
function attention(m: CpuModel, s: CpuState, l: number, q: Float32Array, pos: number, first: number, end: number): Float32Array {
  const c = m.config;
  const kvDim = c.headCountKv * c.headDim;
  const windowed = c.slidingWindow?.layers[l] === true;
  const start = windowed ? Math.max(first, pos - c.slidingWindow!.size + 1) : first;
  const out = new Float32Array(c.headCount * c.headDim);
  for (let h = 0; h < c.headCount; h++) {
    const kvh = Math.floor(h / (c.headCount / c.headCountKv));
    const scores: number[] = [];
    for (let t = start; t < end; t++) {
      let dot = 0;
      for (let i = 0; i < c.headDim; i++) dot += q[h * c.headDim + i]! * s.keys[l]![t * kvDim + kvh * c.headDim + i]!;
      dot *= c.attentionScale;
      scores.push(c.attentionSoftcap > 0 ? softcap(dot, c.attentionSoftcap) : dot);
    }
    const max = Math.max(...scores);
    const exps = scores.map((v) => Math.exp(v - max));
    const total = exps.reduce((a, b) => a + b, 0);
    for (let t = start; t < end; t++) {
      const p = exps[t - start]! / total;
      for (let i = 0; i < c.headDim; i++) out[h * c.headDim + i]! += p * s.values[l]![t * kvDim + kvh * c.headDim + i]!;
    }
  }
  return out;
}

/** x + post_norm(out) (decoder), or LayerNorm(x + out) with `encoderNorm` (encoder). */
function residual(m: CpuModel, x: Float32Array, out: Float32Array, postNorm: string, encoderNorm: string): Float32Array {
  if (m.config.encoder) return norm(m, x.map((v, i) => v + out[i]!), encoderNorm);
  const o = m.config.postNorms ? norm(m, out, postNorm) : out;
  return x.map((v, i) => v + o[i]!);
}

/** The feed-forward block's output for x: W_down act(W_gate xb) · W_up xb, or W_down gelu(W_up xb), xb = ffn_norm(x). */
function feedForward(m: CpuModel, l: number, x: Float32Array): Float32Array {
  const c = m.config, b = `blk.${l}.`, ff = c.feedForwardLength;
  const xb = c.encoder ? x : norm(m, x, `${b}ffn_norm`);
  const up = weight(m, `${b}ffn_up.weight`), upBias = optional(m, `${b}ffn_up.bias`);
  let h: Float32Array;
  if (c.feedForward === 'gelu') {
    h = matmul(up, xb, ff, upBias).map(gelu);
  } else {
    const gate = c.fusedGateUp ? matmul(up, xb, ff, upBias) : matmul(weight(m, `${b}ffn_gate.weight`), xb, ff, optional(m, `${b}ffn_gate.bias`));
    const u = c.fusedGateUp ? matmul(up, xb, ff, upBias, ff) : matmul(up, xb, ff, upBias);
    const act = c.feedForward === 'geglu' ? gelu : silu;
    h = gate.map((g, i) => act(g) * u[i]!);
  }
  m.probe?.('ffn_down', h);
  return matmul(weight(m, `${b}ffn_down.weight`), h, c.embeddingLength, optional(m, `${b}ffn_down.bias`));
}

/**
 * Runs `tokens` at positions pos, pos + 1, … through every layer (filling the cache), each attending causally
 * (or, `causal` false, to every token of the call); returns their residual streams [tokens][dim].
 */
export function forwardLayers(m: CpuModel, s: CpuState, tokens: readonly number[], pos: number, causal = true): Float32Array[] {
  const c = m.config, kvDim = c.headCountKv * c.headDim;
  let xs = tokens.map((token, t) => embed(m, token, pos + t));
  for (let l = 0; l < c.blockCount; l++) {
    const qs = xs.map((x, t) => {
      const [q, k, v] = qkv(m, l, x, pos + t);
      s.keys[l]!.set(k, (pos + t) * kvDim);
      s.values[l]!.set(v, (pos + t) * kvDim);
      return q;
    });
    xs = xs.map((x, t) => {
      const first = causal ? 0 : pos;
      const att = attention(m, s, l, qs[t]!, pos + t, first, causal ? pos + t + 1 : pos + tokens.length);
      m.probe?.('attn_output', att);
      const o = matmul(weight(m, `blk.${l}.attn_output.weight`), att, c.embeddingLength, optional(m, `blk.${l}.attn_output.bias`));
      const afterAttention = residual(m, x, o, `blk.${l}.post_attention_norm`, `blk.${l}.attn_output_norm`);
      return residual(m, afterAttention, feedForward(m, l, afterAttention), `blk.${l}.post_ffw_norm`, `blk.${l}.layer_output_norm`);
    });
  }
  return xs;
}

/** logits = cap(W_out output_norm(x) (+ b)), W_out the token embedding when tied. */
export function logits(m: CpuModel, x: Float32Array): Float32Array {
  const c = m.config;
  const out = optional(m, 'output.weight') ?? weight(m, 'token_embd.weight');
  const l = matmul(out, norm(m, x, 'output_norm'), c.vocabSize, optional(m, 'output.bias'));
  return c.finalSoftcap > 0 ? l.map((v) => softcap(v, c.finalSoftcap)) : l;
}

/** An embedding model's hidden states of one input from position 0: output_norm(x) for a decoder, x for an encoder. */
export function hiddenStates(m: CpuModel, tokens: readonly number[]): Float32Array[] {
  const xs = forwardLayers(m, newState(m, tokens.length), tokens, 0, m.config.causal !== false);
  return m.config.encoder ? xs : xs.map((x) => norm(m, x, 'output_norm'));
}
