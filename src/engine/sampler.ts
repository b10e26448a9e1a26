// Token selection from logits on the CPU: temperature, top-k, top-p (nucleus), seeded.
// Greedy decoding never comes here: it runs argmax on the GPU and reads back only the id.
import { InvalidRequestError } from '../errors';
import { uniform01 } from './prng';

export interface SamplingOptions {
  /** 0 means greedy. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 disables. */
  topK: number;
  /** Keep the smallest set whose probability mass reaches topP; 1 disables. */
  topP: number;
  /** Seed of the pcg_hash stream; the n-th sampled token uses counter n. */
  seed: number;
}

export function validateSampling(o: Partial<SamplingOptions>): void {
  const { temperature, topK, topP, seed } = o;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) {
    throw new InvalidRequestError(`temperature must be a finite number >= 0 (0 = greedy), got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0)) {
    throw new InvalidRequestError(`top_k must be an integer >= 0 (0 = off), got ${topK}`);
  }
  if (topP !== undefined && !(Number.isFinite(topP) && topP > 0 && topP <= 1)) {
    throw new InvalidRequestError(`top_p must be in (0, 1], got ${topP}`);
  }
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new InvalidRequestError(`seed must be an integer in [0, 2^32), got ${seed}`);
  }
}

/**
 * Picks a token from `logits` [vocab]. `counter` indexes the random stream so that
 * the same seed always gives the same continuation.
 */
export function sampleToken(logits: Float32Array, o: SamplingOptions, counter: number): number {
  const n = logits.length;
  // Candidates sorted by logit, descending; ties keep the lower id first like argmax.
  let ids = Array.from({ length: n }, (_, i) => i);
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (o.topK > 0 && o.topK < n) ids = ids.slice(0, o.topK);

  // softmax(logits / T) over the candidates, in f64 for a stable cumulative sum.
  const maxLogit = logits[ids[0]!]!;
  const probs = ids.map((id) => Math.exp((logits[id]! - maxLogit) / o.temperature));
  let total = probs.reduce((s, p) => s + p, 0);

  if (o.topP < 1) {
    let mass = 0;
    let keep = 0;
    while (keep < probs.length && mass < o.topP * total) mass += probs[keep++]!;
    ids = ids.slice(0, Math.max(1, keep));
    probs.length = ids.length;
    total = mass;
  }

  const r = uniform01(o.seed, counter) * total;
  let acc = 0;
  for (let i = 0; i < ids.length; i++) {
    acc += probs[i]!;
    if (r < acc) return ids[i]!;
  }
  return ids[ids.length - 1]!;
}
