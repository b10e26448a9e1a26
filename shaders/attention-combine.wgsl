// Split-K attention, second step: merges the SPLITS partial results attention.wgsl left for each (token,
// head) — acc_c = Σ exp(s − m_c)·v over chunk c, and (m_c, l_c) — with common/partials-merge.wgsl.
// One thread per (head, vec4 of head dims) of a token: dispatch (ceil(N_HEADS · HEAD_DIM / 4 / 64), tokens).

override N_HEADS: u32;
override HEAD_DIM: u32;
override SPLITS: u32;

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>; // [tokens, N_HEADS, SPLITS, HEAD_DIM / 4 + 1]
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>; // [tokens, N_HEADS, HEAD_DIM / 4]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let dim4 = HEAD_DIM / 4u;
  let i = gid.x; // head · dim4 + d
  if (i >= N_HEADS * dim4) {
    return;
  }
  let row = wid.y * N_HEADS + i / dim4; // (token, head)
  let d = i % dim4;
  out[row * dim4 + d] = merge_partials(row * SPLITS * (dim4 + 1u), SPLITS, d, dim4);
}
