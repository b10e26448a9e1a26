// CPU twins of the GPU sampler (shaders/logit-process.wgsl, sample.wgsl, logprobs.wgsl), one function per
// processor so each can be checked on its own, plus the whole pipeline. Same conventions as the kernels
// (order-preserving keys, lowest id first on ties, the draw walks kept tokens in id order);
// sums in f64, so the difference to the GPU measures the GPU's rounding. `samplingUniform` (src) builds the
// parameters both sides read.
import { uniform01 } from '../../src/sampler/prng';

export const MASKED = -3.0e38;
/** Threads of sample.wgsl / logprobs.wgsl: the draw's partial sums are per slice of N / WG tokens. */
export const SAMPLE_WG = 256;
const FLAG = { mask: 1, bias: 2, penalties: 4, greedy: 8 };

/** The Sampling uniform as the kernels see it (decoded from samplingUniform's 48 bytes). */
export interface SamplingUniformRef {
  invTemperature: number; repetitionPenalty: number; frequencyPenalty: number; presencePenalty: number;
  topP: number; minPLog: number; topK: number; seed: number; flags: number; topLogprobs: number;
}

export function decodeUniform(buffer: ArrayBuffer): SamplingUniformRef {
  const f = new Float32Array(buffer);
  const u = new Uint32Array(buffer);
  return {
    invTemperature: f[0]!, repetitionPenalty: f[1]!, frequencyPenalty: f[2]!, presencePenalty: f[3]!, topP: f[4]!, minPLog: f[5]!,
    topK: u[6]!, seed: u[7]!, flags: u[8]!, topLogprobs: u[9]!,
  };
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Order-preserving u32 of an f32 (sample.wgsl's key). */
export function keyOf(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0]!;
  return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
}

/** Grammar mask: token i allowed ⇔ bit i % 32 of word i / 32 (logit-process.wgsl). */
export function maskAllows(mask: Uint32Array, i: number): boolean {
  return ((mask[i >>> 5]! >>> (i & 31)) & 1) === 1;
}

/** logit-process.wgsl, element by element in f32 (one rounding per operation, as the kernel). */
export function processLogitsRef(logits: Float32Array, s: SamplingUniformRef, bias: Float32Array, history: Uint32Array, mask: Uint32Array): Float32Array {
  const f = Math.fround;
  return logits.map((x, i) => {
    if (s.flags & FLAG.mask && !maskAllows(mask, i)) return MASKED;
    let l = x;
    if (s.flags & FLAG.bias) l = f(l + bias[i]!);
    if (s.flags & FLAG.penalties) {
      const h = history[i]!;
      const count = h & 0x7fffffff;
      if (h !== 0) l = l > 0 ? f(l / s.repetitionPenalty) : f(l * s.repetitionPenalty);
      if (count > 0) l = f(l - f(f(count * s.frequencyPenalty) + s.presencePenalty));
    }
    return f(l * s.invTemperature);
  });
}

/** The largest value (a loop: spreading a 152k vocabulary into Math.max overflows the call stack). */
function maxOf(values: Float32Array): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** Greedy: the largest score, lowest id on ties. */
export function argmaxRef(scores: Float32Array): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

/** top-k: which tokens are among the k largest (lower id first on ties); k = 0 or k ≥ N keeps all. */
export function topKRef(scores: Float32Array, k: number): boolean[] {
  const n = scores.length;
  if (k === 0 || k >= n) return Array<boolean>(n).fill(true);
  const keys = Array.from(scores, keyOf);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[b]! - keys[a]! || a - b);
  const kept = Array<boolean>(n).fill(false);
  for (const i of order.slice(0, k)) kept[i] = true;
  return kept;
}

/**
 * top-p over the tokens `kept` so far: the largest key τ whose set {key ≥ τ} of kept tokens holds at least
 * topP of their mass (masses exp(s − max)); ties at τ all stay. Returns the new kept set and τ.
 */
export function topPRef(scores: Float32Array, kept: boolean[], topP: number): { kept: boolean[]; key: number } {
  if (topP >= 1) return { kept, key: 0 };
  const max = maxOf(scores.filter((_, i) => kept[i]));
  const entries = [...scores].map((s, i) => ({ key: keyOf(s), m: Math.exp(s - max), i })).filter((e) => kept[e.i]);
  entries.sort((a, b) => b.key - a.key);
  const goal = topP * entries.reduce((acc, e) => acc + e.m, 0);
  let mass = 0;
  let key = 0;
  for (let j = 0; j < entries.length; j++) {
    mass += entries[j]!.m;
    if (mass >= goal && (j + 1 === entries.length || entries[j + 1]!.key !== entries[j]!.key)) { key = entries[j]!.key; break; }
  }
  return { kept: kept.map((k, i) => k && keyOf(scores[i]!) >= key), key };
}

/** min-p: tokens with s ≥ max s + ln(min_p) (minPLog is that log, computed once on the CPU). */
export function minPRef(scores: Float32Array, kept: boolean[], minPLog: number): boolean[] {
  const max = maxOf(scores);
  const threshold = Math.fround(max + minPLog);
  return kept.map((k, i) => k && scores[i]! >= threshold);
}

/**
 * The draw: r = uniform01(seed, counter) · kept mass; the token where the running sum of kept masses in id
 * order passes r. Also returns each kept token's interval [lo, hi) of the running sum, so a GPU pick can be
 * judged against rounding near a boundary.
 */
export function drawRef(scores: Float32Array, kept: boolean[], seed: number, counter: number): { id: number; r: number; total: number; interval: (id: number) => [number, number] } {
  const max = maxOf(scores);
  const cumulative = new Float64Array(scores.length + 1);
  for (let i = 0; i < scores.length; i++) cumulative[i + 1] = cumulative[i]! + (kept[i] ? Math.exp(scores[i]! - max) : 0);
  const total = cumulative[scores.length]!;
  const r = uniform01(seed, counter) * total;
  let id = -1;
  for (let i = 0; i < scores.length; i++) if (kept[i] && cumulative[i + 1]! > cumulative[i]!) { id = i; if (r < cumulative[i + 1]!) break; }
  return { id, r, total, interval: (i) => [cumulative[i]!, cumulative[i + 1]!] };
}

/** sample.wgsl: greedy, or temperature-scaled scores through top-k, top-p, min-p and the draw. */
export function sampleRef(scores: Float32Array, s: SamplingUniformRef, counter: number) {
  if (s.flags & FLAG.greedy) return { id: argmaxRef(scores), keptCount: scores.length, r: 0, total: 0, interval: () => [0, 0] as [number, number] };
  let kept = topKRef(scores, s.topK);
  kept = topPRef(scores, kept, s.topP).kept;
  kept = minPRef(scores, kept, s.minPLog);
  const draw = drawRef(scores, kept, s.seed, counter);
  return { ...draw, keptCount: kept.filter(Boolean).length };
}

/** logprobs.wgsl: log-softmax of the raw logits at `id`, and the n largest (lower id first on ties). */
export function logprobsRef(logits: Float32Array, id: number, n: number): { logprob: number; top: [number, number][] } {
  const max = maxOf(logits);
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  const lse = max + Math.log(sum);
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  return { logprob: logits[id]! - lse, top: order.slice(0, n).map((i) => [i, logits[i]! - lse]) };
}
