// Uniform random numbers in [0, 1): the WGSL twin of src/sampler/prng.ts ("pcg_hash", Jarzynski & Olano
// 2020). out[i] = uniform01(seed, offset + i); the 24-bit result is exact in f32, so both sides agree bit
// for bit. Dispatch ceil(N / 64). Needs the pcg preamble (common/pcg.wgsl: pcg_hash, uniform01).

struct Params { seed: u32, offset: u32 }

override N: u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;     // [N]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  out[i] = uniform01(params.seed, params.offset + i);
}
