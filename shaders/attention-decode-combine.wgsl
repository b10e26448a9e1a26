// Flash-decoding, second step: merges the partials attention-decode.wgsl left for each head — acc_c =
// Σ exp(s − m_c)·v over chunk c, and (m_c, l_c) — over the chunks this step used (common/decode-split.wgsl, from
// the step's position: the rest hold stale values and are not read), with common/partials-merge.wgsl.
// One thread per (head, vec4 of head dims): dispatch ceil(N_HEADS · HEAD_DIM / 4 / 64).

struct Step { pos: u32 }

override N_HEADS: u32;
override HEAD_DIM: u32;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>; // [N_HEADS, MAX_SPLITS, HEAD_DIM / 4 + 1]
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>; // [N_HEADS, HEAD_DIM / 4] (token 0)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dim4 = HEAD_DIM / 4u;
  let i = gid.x; // head · dim4 + d
  if (i >= N_HEADS * dim4) {
    return;
  }
  let used = decode_split(step.pos).used;
  out[i] = merge_partials((i / dim4) * MAX_SPLITS * (dim4 + 1u), used, i % dim4, dim4);
}
