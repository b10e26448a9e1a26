// "pcg_hash" (Jarzynski & Olano, 2020): a stateless counter-based generator.
// Its WGSL twin is shaders/random.wgsl; the two must agree bit for bit, so sampling
// can move to the GPU without changing which token a seed picks.

/** One round of the PCG RXS-M-XS hash on a uint32. */
function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Uniform float in [0, 1) with 24 random bits, exactly representable in f32. */
export function uniform01(seed: number, counter: number): number {
  return (pcgHash((pcgHash(seed >>> 0) ^ (counter >>> 0)) >>> 0) >>> 8) / 16777216;
}
