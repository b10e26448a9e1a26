// Causal attention for one layer, for each token t of a batch (1 when decoding) at position p_t = pos + t:
// out_{t,h} = softmax(cap(SCALE · q_{t,h} · K_kv[first..=p_t]ᵀ)) · V_kv, the batch's own keys and values
// already in the cache. Grouped-query: head h reads kv head h / (N_HEADS / N_KV_HEADS).
// One workgroup per (head, token): dispatch (N_HEADS, tokens).
// SCALE is usually 1/sqrt(HEAD_DIM). SOFTCAP > 0 soft-caps each score, s → SOFTCAP · tanh(s / SOFTCAP)
// (Gemma 2); 0 leaves scores alone. WINDOW > 0 is a sliding window: only the last WINDOW positions
// (p > pos − WINDOW, llama.cpp's LLAMA_SWA_TYPE_STANDARD) are seen; 0 sees every position.
//
// One barrier in total (barriers are very expensive on SwiftShader): thread t owns positions t, t+64, ...
// It writes exp(score − m_t) to the scratch, with m_t its own running maximum and l_t its own sum. After
// the barrier every thread rescales by exp(m_t − M) / L, M = max m_t, L = Σ l_t·exp(m_t − M), while it
// accumulates V over its head dims. Numerically this is the usual max-subtracted softmax.

struct Step { pos: u32 }

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;
override CTX: u32;
override SCALE: f32;
override SOFTCAP: f32;
override WINDOW: u32;

const WG: u32 = 64u;
const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q: array<f32>;             // [tokens, N_HEADS, HEAD_DIM]
@group(0) @binding(2) var<storage, read> k_cache: array<f32>;       // [CTX, N_KV_HEADS, HEAD_DIM]
@group(0) @binding(3) var<storage, read> v_cache: array<f32>;       // [CTX, N_KV_HEADS, HEAD_DIM]
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;  // [tokens, N_HEADS, CTX] scratch
@group(0) @binding(5) var<storage, read_write> out: array<f32>;     // [tokens, N_HEADS, HEAD_DIM]

var<workgroup> thread_max: array<f32, WG>;
var<workgroup> thread_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let h = wid.x;
  let row = wid.y * N_HEADS + h; // (token, head)
  let kv_dim = N_KV_HEADS * HEAD_DIM;
  let kv_off = (h / (N_HEADS / N_KV_HEADS)) * HEAD_DIM;
  let q_off = row * HEAD_DIM;
  let s_off = row * CTX;
  let n_pos = step.pos + wid.y + 1u;
  // Thread k owns positions first + k, first + k + 64, ...
  let first = select(0u, n_pos - min(WINDOW, n_pos), WINDOW > 0u);

  // Scores for this thread's positions, with an online (rescaled) max and sum.
  var m = LOWEST;
  var l = 0.0;
  for (var p = first + t; p < n_pos; p += WG) {
    let k_row = p * kv_dim + kv_off;
    var qk = 0.0;
    for (var d = 0u; d < HEAD_DIM; d++) {
      qk += q[q_off + d] * k_cache[k_row + d];
    }
    var s = qk * SCALE;
    if (SOFTCAP > 0.0) {
      // Clamped: tanh is 1 in f32 long before 10, and tanh through exp would overflow to NaN.
      s = tanh(clamp(s / SOFTCAP, -10.0, 10.0)) * SOFTCAP;
    }
    if (s > m) {
      l *= exp(m - s);
      m = s;
    }
    l += exp(s - m);
    scores[s_off + p] = s;
  }
  // Second pass over own positions (no other thread reads them yet): exp relative to the final m_t.
  for (var p = first + t; p < n_pos; p += WG) {
    scores[s_off + p] = exp(scores[s_off + p] - m);
  }
  thread_max[t] = m;
  thread_sum[t] = l;
  storageBarrier();
  workgroupBarrier();

  let n_threads = min(WG, n_pos - first);
  var big_m = LOWEST;
  for (var k = 0u; k < n_threads; k++) {
    big_m = max(big_m, thread_max[k]);
  }
  var big_l = 0.0;
  for (var k = 0u; k < n_threads; k++) {
    big_l += thread_sum[k] * exp(thread_max[k] - big_m);
  }
  let inv_l = 1.0 / big_l;

  // Weighted sum of V: thread t owns head dims t, t+64, ...; positions are grouped by owning thread k
  // so each group shares one rescale factor exp(m_k − M).
  for (var d = t; d < HEAD_DIM; d += WG) {
    var acc = 0.0;
    for (var k = 0u; k < n_threads; k++) {
      var part = 0.0;
      for (var p = first + k; p < n_pos; p += WG) {
        part += scores[s_off + p] * v_cache[p * kv_dim + kv_off + d];
      }
      acc += part * exp(thread_max[k] - big_m);
    }
    out[q_off + d] = acc * inv_l;
  }
}
