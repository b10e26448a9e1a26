// Preamble of the two draw kernels (sample.wgsl: one workgroup, every option; sample-wide.wgsl: many workgroups,
// no top-p): the same buffers at the same bindings (src/sampler/gpu-sampler.ts), and the same order on scores
// (key). Comes after common/sampling.wgsl (Sampling) and common/pcg.wgsl, composed by src/gpu/shaders.ts.

const WG: u32 = 256u;
const NONE: u32 = 0xffffffffu;

override N: u32;

@group(0) @binding(0) var<uniform> s: Sampling;
@group(0) @binding(1) var<storage, read> scores: array<f32>;         // [N]
@group(0) @binding(2) var<storage, read_write> history: array<u32>;  // [N], see logit-process.wgsl
@group(0) @binding(3) var<storage, read_write> state: array<u32>;    // [1]: tokens drawn so far (the random stream's counter)
@group(0) @binding(4) var<storage, read_write> token: array<u32>;    // [1]: the chosen id
// [4]: kept count, kept mass (f32 bits), r (f32 bits), and the top-p key (0 from sample-wide.wgsl: no top-p)
@group(0) @binding(5) var<storage, read_write> report: array<u32>;

// The reductions' workgroup memory: a value per thread (part_*), and what they combine to, which every thread reads
// (total_*).
var<workgroup> part_f: array<f32, WG>;
var<workgroup> part_u: array<u32, WG>;
var<workgroup> part_c: array<u32, WG>;
var<workgroup> total_f: f32;
var<workgroup> total_u: u32;
var<workgroup> total_c: u32;

/** Order-preserving map of f32 to u32: a < b ⇔ key(a) < key(b). */
fn key(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
