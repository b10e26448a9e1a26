// Flash attention for the GPU profile's prefill passes (and the packed passes of an embedding model): each token t
// of the batch attends over the cache positions [first_t, end_t) it sees — causally, p ≤ pos + t, from the sliding
// window's start with WINDOW > 0 (main), or the range the host gives per token (main_packed) —
// out_{t,h} = softmax(cap(SCALE · q_{t,h} · K_kvᵀ)) · V_kv, grouped-query and soft-capped as attention.wgsl, the
// caches' KvScalar elements widened to f32 as they are loaded into the tiles.
// One workgroup per (head, tile of Q_TILE tokens): dispatch (N_HEADS, ceil(tokens / Q_TILE)). The tile's queries
// sit in workgroup memory; the keys are walked in tiles of K_TILE positions, each K and then V tile loaded once,
// coalesced, and shared by all Q_TILE tokens. Online softmax per token: a running max and sum, the output
// rescaled when the max grows. Positions a token does not see are masked, so the tiles may span sequences.
// Q_TILE and K_TILE are chosen on the host from HEAD_DIM so the tiles fit TILES vec4s (rows padded by one vec4 so
// threads reading different rows hit distinct banks); a thread owns at most two (token, vec4) outputs.

struct Step { pos: u32 }

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32; // a multiple of 4
override CTX: u32;
override SCALE: f32;
override SOFTCAP: f32;
override WINDOW: u32;
override CAPACITY: u32; // tokens the q and out buffers hold: tokens of a tile past it are not there
override Q_TILE: u32; // at most MAX_Q_TILE, and Q_TILE · HEAD_DIM / 4 ≤ 2 · WG
override K_TILE: u32; // Q_TILE · K_TILE ≤ MAX_SCORES and (Q_TILE + K_TILE) · (HEAD_DIM / 4 + 1) ≤ TILES

const WG: u32 = 128u;
const TILES: u32 = 768u;
const MAX_Q_TILE: u32 = 16u;
const MAX_SCORES: u32 = 512u;
const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32: also marks a masked score

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;        // [CAPACITY, N_HEADS, HEAD_DIM / 4]
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<KvScalar>>;  // [CTX, N_KV_HEADS, HEAD_DIM / 4]
@group(0) @binding(3) var<storage, read> v_cache: array<vec4<KvScalar>>;  // [CTX, N_KV_HEADS, HEAD_DIM / 4]
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>; // [CAPACITY, N_HEADS, HEAD_DIM / 4]
// main_packed only: per token of the batch (rope position, first, end, 0): it sees cache positions [first, end).
@group(0) @binding(5) var<storage, read> seqs: array<vec4<u32>>;

var<workgroup> tiles: array<vec4<f32>, TILES>; // [Q_TILE, dim4 + 1] queries, then [K_TILE, dim4 + 1] keys or values
var<workgroup> probs: array<f32, MAX_SCORES>; // [Q_TILE, K_TILE] scores, then exp(score − max)
var<workgroup> row_max: array<f32, MAX_Q_TILE>;
var<workgroup> row_sum: array<f32, MAX_Q_TILE>;
var<workgroup> row_rescale: array<f32, MAX_Q_TILE>;
var<workgroup> ranges: array<vec2<u32>, MAX_Q_TILE>; // each token's [first, end); empty past CAPACITY
var<workgroup> span: vec2<u32>; // the union of the ranges

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let token = wid.y * Q_TILE + t;
  if (t < Q_TILE) {
    let seen = min(step.pos + token + 1u, CTX);
    let first = select(0u, seen - min(WINDOW, seen), WINDOW > 0u);
    ranges[t] = select(vec2<u32>(0u), vec2<u32>(first, seen), token < CAPACITY);
  }
  attend(wid.x, wid.y * Q_TILE, t);
}

// Several sequences packed in one batch (embeddings): token t sees the range seqs[t] gives.
@compute @workgroup_size(WG)
fn main_packed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let token = wid.y * Q_TILE + t;
  if (t < Q_TILE) {
    ranges[t] = select(vec2<u32>(0u), seqs[min(token, CAPACITY - 1u)].yz, token < CAPACITY);
  }
  attend(wid.x, wid.y * Q_TILE, t);
}

/// Head h of the tokens [token0, token0 + Q_TILE) over their ranges (written to `ranges` before the call).
fn attend(h: u32, token0: u32, t: u32) {
  let dim4 = HEAD_DIM / 4u;
  let stride = dim4 + 1u;
  let k_base = Q_TILE * stride;
  let kv_dim4 = N_KV_HEADS * dim4;
  let kv_off4 = (h / (N_HEADS / N_KV_HEADS)) * dim4;
  for (var e = t; e < Q_TILE * dim4; e += WG) {
    let token = min(token0 + e / dim4, CAPACITY - 1u);
    tiles[(e / dim4) * stride + e % dim4] = q[(token * N_HEADS + h) * dim4 + e % dim4];
  }
  if (t < Q_TILE) {
    row_max[t] = LOWEST;
    row_sum[t] = 0.0;
  }
  workgroupBarrier();
  if (t == 0u) {
    var lo = 0xffffffffu;
    var hi = 0u;
    for (var i = 0u; i < Q_TILE; i++) {
      let r = ranges[i];
      if (r.x < r.y) {
        lo = min(lo, r.x);
        hi = max(hi, r.y);
      }
    }
    span = vec2<u32>(lo, hi);
  }
  let keys = workgroupUniformLoad(&span);

  // This thread's outputs: (token, vec4 of head dims) pairs t and t + WG.
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  for (var kb = keys.x; kb < keys.y; kb += K_TILE) {
    let n = min(K_TILE, keys.y - kb);
    load_rows(false, kb, n, t, kv_dim4, kv_off4);
    workgroupBarrier();
    for (var e = t; e < Q_TILE * K_TILE; e += WG) {
      let i = e % Q_TILE;
      let p = e / Q_TILE;
      let r = ranges[i];
      var s = LOWEST;
      if (p < n && kb + p >= r.x && kb + p < r.y) {
        var qk = 0.0;
        for (var d = 0u; d < dim4; d++) {
          qk += dot(tiles[i * stride + d], tiles[k_base + p * stride + d]);
        }
        s = capped(qk);
      }
      probs[i * K_TILE + p] = s;
    }
    workgroupBarrier();
    if (t < Q_TILE) {
      softmax_row(t, n);
    }
    load_rows(true, kb, n, t, kv_dim4, kv_off4); // the keys are no longer read
    workgroupBarrier();
    acc0 = accumulate(t, acc0, n);
    acc1 = accumulate(t + WG, acc1, n);
    workgroupBarrier(); // before the next tile overwrites the values and probabilities
  }
  write_out(t, acc0, token0, h);
  write_out(t + WG, acc1, token0, h);
}

/// Rows [kb, kb + n) of the kv head's keys (or values) into the key/value tile.
fn load_rows(values: bool, kb: u32, n: u32, t: u32, kv_dim4: u32, kv_off4: u32) {
  let dim4 = HEAD_DIM / 4u;
  let k_base = Q_TILE * (dim4 + 1u);
  for (var e = t; e < n * dim4; e += WG) {
    let at = (kb + e / dim4) * kv_dim4 + kv_off4 + e % dim4;
    let to = k_base + (e / dim4) * (dim4 + 1u) + e % dim4;
    if (values) {
      tiles[to] = vec4<f32>(v_cache[at]);
    } else {
      tiles[to] = vec4<f32>(k_cache[at]);
    }
  }
}

/// Token i's online softmax over this tile's n scores: its new max, the rescale of what it summed so far, and
/// the tile's probabilities exp(s − max) in place (0 where masked).
fn softmax_row(i: u32, n: u32) {
  let m_old = row_max[i];
  var m_new = m_old;
  for (var p = 0u; p < n; p++) {
    m_new = max(m_new, probs[i * K_TILE + p]);
  }
  let rescale = exp(m_old - m_new);
  var sum = 0.0;
  for (var p = 0u; p < n; p++) {
    let s = probs[i * K_TILE + p];
    let w = select(exp(s - m_new), 0.0, s == LOWEST);
    probs[i * K_TILE + p] = w;
    sum += w;
  }
  row_max[i] = m_new;
  row_sum[i] = row_sum[i] * rescale + sum;
  row_rescale[i] = rescale;
}

/// Output pair e (token e / dim4, vec4 e % dim4): rescaled, plus the tile's probabilities times its values.
fn accumulate(e: u32, acc: vec4<f32>, n: u32) -> vec4<f32> {
  let dim4 = HEAD_DIM / 4u;
  if (e >= Q_TILE * dim4) {
    return acc;
  }
  let i = e / dim4;
  let k_base = Q_TILE * (dim4 + 1u);
  var a = acc * row_rescale[i];
  for (var p = 0u; p < n; p++) {
    a += probs[i * K_TILE + p] * tiles[k_base + p * (dim4 + 1u) + e % dim4];
  }
  return a;
}

fn write_out(e: u32, acc: vec4<f32>, token0: u32, h: u32) {
  let dim4 = HEAD_DIM / 4u;
  if (e >= Q_TILE * dim4) {
    return;
  }
  let i = e / dim4;
  let r = ranges[i];
  if (r.x < r.y) {
    out[((token0 + i) * N_HEADS + h) * dim4 + e % dim4] = acc / row_sum[i];
  }
}
