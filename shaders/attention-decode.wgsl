// Flash-decoding for the GPU profile: attention of one token (a decode step) at position p = step.pos,
// out_h = softmax(cap(SCALE · q_h · K_kv[first..=p]ᵀ)) · V_kv, grouped-query (head h reads kv head
// h / (N_HEADS / N_KV_HEADS)), soft-capped scores with SOFTCAP > 0 (Gemma 2), a sliding window with WINDOW > 0;
// the caches' KvScalar elements widened to f32 as read, as attention.wgsl does.
// Dispatch (N_HEADS, MAX_SPLITS): workgroup (h, c) attends over chunk c of the positions, sized from the step's
// position by common/decode-split.wgsl; workgroups past the used chunks return at once. Each writes its
// unnormalized partial (Σ exp(s − m)·v, then (m, l)) for attention-decode-combine.wgsl.
//
// Lanes run across the head's vec4s, so K and V rows are read whole and coalesced. Per tile of TILE positions:
// every thread forms one (position, vec4) product of q·k into workgroup memory, one thread per position sums its
// row into the score, and then GROUPS = WG / (HEAD_DIM / 4) groups of lanes accumulate the tile's V rows, each
// group its own positions, every lane one vec4 of head dims (every thread busy). All threads keep the same
// running max (each reads the whole tile's scores), so the groups' sums add without rescaling at the end.

struct Step { pos: u32 }

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32; // a multiple of 4, at most 4 · WG
override SCALE: f32;
override SOFTCAP: f32;
// WINDOW, MAX_SPLITS, MIN_CHUNK: common/decode-split.wgsl

const WG: u32 = 128u;
const DOTS: u32 = 2304u; // [TILE, HEAD_DIM / 4 + 1] products (the row padded so a position's sum reads distinct banks)
const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;        // [N_HEADS, HEAD_DIM / 4] (token 0)
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<KvScalar>>;  // [CTX, N_KV_HEADS, HEAD_DIM / 4]
@group(0) @binding(3) var<storage, read> v_cache: array<vec4<KvScalar>>;  // [CTX, N_KV_HEADS, HEAD_DIM / 4]
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>; // [N_HEADS, MAX_SPLITS, HEAD_DIM / 4 + 1]

var<workgroup> q_row: array<vec4<f32>, WG>;
var<workgroup> dots: array<f32, DOTS>;
var<workgroup> tile_scores: array<f32, WG>;
var<workgroup> group_acc: array<vec4<f32>, WG>;
var<workgroup> group_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let split = decode_split(step.pos);
  let c = wid.y;
  if (c >= split.used) {
    return;
  }
  let h = wid.x;
  let dim4 = HEAD_DIM / 4u;
  let stride = dim4 + 1u;
  let tile = min(WG, DOTS / stride);
  let groups = WG / dim4;
  let g = t / dim4;
  let lane = t % dim4;
  let kv_dim4 = N_KV_HEADS * dim4;
  let kv_off4 = (h / (N_HEADS / N_KV_HEADS)) * dim4;
  let start = split.first + c * split.chunk;
  let end = min(start + split.chunk, step.pos + 1u);
  if (t < dim4) {
    q_row[t] = q[h * dim4 + t];
  }

  var m = LOWEST;
  var l = 0.0;
  var acc = vec4<f32>(0.0);
  for (var base = start; base < end; base += tile) {
    let n = min(tile, end - base);
    workgroupBarrier(); // q_row written; the previous tile's products and scores read
    for (var e = t; e < n * dim4; e += WG) {
      let p = e / dim4;
      let d = e % dim4;
      dots[p * stride + d] = dot(q_row[d], vec4<f32>(k_cache[(base + p) * kv_dim4 + kv_off4 + d]));
    }
    workgroupBarrier();
    if (t < n) {
      var qk = 0.0;
      for (var d = 0u; d < dim4; d++) {
        qk += dots[t * stride + d];
      }
      tile_scores[t] = capped(qk);
    }
    workgroupBarrier();
    var tile_max = LOWEST;
    for (var p = 0u; p < n; p++) {
      tile_max = max(tile_max, tile_scores[p]);
    }
    let m_new = max(m, tile_max);
    let rescale = exp(m - m_new);
    acc *= rescale;
    l *= rescale;
    m = m_new;
    if (g < groups) {
      for (var p = g; p < n; p += groups) {
        let w = exp(tile_scores[p] - m);
        l += w;
        acc += w * vec4<f32>(v_cache[(base + p) * kv_dim4 + kv_off4 + lane]);
      }
    }
  }
  group_acc[t] = acc;
  group_sum[t] = l;
  workgroupBarrier();
  if (t < dim4) {
    var total = vec4<f32>(0.0);
    var sum = 0.0;
    for (var k = 0u; k < groups; k++) {
      total += group_acc[k * dim4 + t];
      sum += group_sum[k * dim4 + t];
    }
    let o = (h * MAX_SPLITS + c) * stride;
    partials[o + t] = total;
    if (t == 0u) {
      partials[o + dim4] = vec4<f32>(m, sum, 0.0, 0.0);
    }
  }
}
