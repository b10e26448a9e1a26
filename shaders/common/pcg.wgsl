// Preamble of the kernels that draw random numbers (random, sample): "pcg_hash" (Jarzynski & Olano 2020), the
// WGSL twin of src/sampler/prng.ts. uniform01's 24-bit result is exact in f32, so both sides agree bit for bit.

fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn uniform01(seed: u32, counter: u32) -> f32 {
  return f32(pcg_hash(pcg_hash(seed) ^ counter) >> 8u) / 16777216.0;
}
