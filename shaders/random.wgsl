// Uniform random numbers in [0, 1): the WGSL twin of src/engine/prng.ts ("pcg_hash", Jarzynski & Olano
// 2020). out[i] = uniform01(seed, offset + i); the 24-bit result is exact in f32, so both sides agree bit
// for bit. Dispatch ceil(N / 64).

struct Params { seed: u32, offset: u32 }

override N: u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;     // [N]

fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn uniform01(seed: u32, counter: u32) -> f32 {
  return f32(pcg_hash(pcg_hash(seed) ^ counter) >> 8u) / 16777216.0;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  out[i] = uniform01(params.seed, params.offset + i);
}
