// Split-K attention, second step: merges the SPLITS partial results attention.wgsl left for each (token,
// head) — acc_c = Σ exp(s − m_c)·v over chunk c, and (m_c, l_c) — into
// out = Σ_c acc_c·exp(m_c − M) / Σ_c l_c·exp(m_c − M), M = max m_c: the same max-subtracted softmax.
// One thread per (head, vec4 of head dims) of a token: dispatch (ceil(N_HEADS · HEAD_DIM / 4 / 64), tokens).

override N_HEADS: u32;
override HEAD_DIM: u32;
override SPLITS: u32;

const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32: the m of an empty chunk

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
  let stride = dim4 + 1u;
  let first = row * SPLITS * stride;
  var big_m = LOWEST;
  for (var c = 0u; c < SPLITS; c++) {
    big_m = max(big_m, partials[first + c * stride + dim4].x);
  }
  var big_l = 0.0;
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < SPLITS; c++) {
    let m_l = partials[first + c * stride + dim4];
    let rescale = exp(m_l.x - big_m);
    big_l += m_l.y * rescale;
    acc += partials[first + c * stride + d] * rescale;
  }
  out[row * dim4 + d] = acc / big_l;
}
