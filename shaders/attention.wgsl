// Causal attention for one layer, for each token t of a batch (1 when decoding) at position p_t = pos + t:
// out_{t,h} = softmax(cap(SCALE · q_{t,h} · K_kv[first..=p_t]ᵀ)) · V_kv, the batch's own keys and values
// already in the cache. Grouped-query: head h reads kv head h / (N_HEADS / N_KV_HEADS).
// One workgroup per (head, token): dispatch (N_HEADS · SPLITS, tokens). HEAD_DIM must be a multiple of 4 (q,
// k, v and out are read as vec4; the loader rejects other head sizes).
// Split-K (flash-decoding) for long contexts: with SPLITS > 1 the context is cut into chunks of CHUNK
// positions, workgroup (h + N_HEADS · c, t) attends over chunk c only and writes, instead of out_{t,h}, its
// unnormalized partial (Σ exp(s − m_c)·v, then (m_c, l_c)) for attention-combine.wgsl, so a long context is
// spread over SPLITS times more workgroups. A chunk outside [first, p_t] writes m = lowest, l = 0, Σ = 0.
// SCALE is usually 1/sqrt(HEAD_DIM). SOFTCAP > 0 soft-caps each score, s → SOFTCAP · tanh(s / SOFTCAP)
// (Gemma 2); 0 leaves scores alone. WINDOW > 0 is a sliding window: only the last WINDOW positions
// (p > pos − WINDOW, llama.cpp's LLAMA_SWA_TYPE_STANDARD) are seen; 0 sees every position.
//
// One barrier in total (barriers are very expensive on SwiftShader). Thread t owns the runs of RUN
// positions starting at first + RUN·t, first + RUN·(t + 64), ...: it scores a run together, so each q read
// serves RUN keys, keeping its own running maximum m_t and sum l_t, and leaves exp(score − m_t) in the
// scratch. After the barrier every thread knows M = max m_t and L = Σ l_t·exp(m_t − M) and accumulates
// V for two vec4s of head dims (each score read serves eight dims), position groups of one owner sharing
// the rescale factor exp(m_t − M). Numerically this is the usual max-subtracted softmax. The sums for a
// token do not depend on the batch around it, so a prefilled cache equals one built token by token.

struct Step { pos: u32 }

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;
override CTX: u32;
override SCALE: f32;
override SOFTCAP: f32;
override WINDOW: u32;
override SPLITS: u32 = 1u;
override CHUNK: u32 = CTX; // positions per split: CTX / SPLITS rounded up

const WG: u32 = 64u;
const RUN: u32 = 8u; // positions a thread scores together (8 ran 1.1–1.5× faster than 4, which ran 2× faster than 1)
const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;        // [tokens, N_HEADS, HEAD_DIM / 4]
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<f32>>;  // [CTX, N_KV_HEADS, HEAD_DIM / 4]
@group(0) @binding(3) var<storage, read> v_cache: array<vec4<f32>>;  // [CTX, N_KV_HEADS, HEAD_DIM / 4]
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;   // [tokens, N_HEADS, CTX] scratch
// [tokens, N_HEADS, HEAD_DIM / 4], or with SPLITS > 1 [tokens, N_HEADS, SPLITS, HEAD_DIM / 4 + 1] partials
@group(0) @binding(5) var<storage, read_write> out: array<vec4<f32>>;

var<workgroup> thread_max: array<f32, WG>;
var<workgroup> thread_sum: array<f32, WG>;

fn capped(qk: f32) -> f32 {
  let s = qk * SCALE;
  if (SOFTCAP > 0.0) {
    // Clamped: tanh is 1 in f32 long before 10, and tanh through exp would overflow to NaN.
    return tanh(clamp(s / SOFTCAP, -10.0, 10.0)) * SOFTCAP;
  }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let h = wid.x % N_HEADS;
  let chunk = wid.x / N_HEADS;
  let row = wid.y * N_HEADS + h; // (token, head)
  let dim4 = HEAD_DIM / 4u;
  let kv_dim4 = N_KV_HEADS * dim4;
  let kv_off4 = (h / (N_HEADS / N_KV_HEADS)) * dim4;
  let q_off4 = row * dim4;
  let s_off = row * CTX;
  // This workgroup's positions [first, n_pos): the token's causal (and windowed) range within its chunk.
  let seen = step.pos + wid.y + 1u;
  let first = max(select(0u, seen - min(WINDOW, seen), WINDOW > 0u), chunk * CHUNK);
  let n_pos = max(first, min(seen, (chunk + 1u) * CHUNK));
  let last = n_pos - 1u;

  // Scores for this thread's runs, with an online (rescaled) max and sum. A run's rows past the last
  // position read the last one again (clamped) and are dropped.
  var m = LOWEST;
  var l = 0.0;
  for (var p = first + RUN * t; p < n_pos; p += RUN * WG) {
    let k0 = p * kv_dim4 + kv_off4;
    let k1 = min(p + 1u, last) * kv_dim4 + kv_off4;
    let k2 = min(p + 2u, last) * kv_dim4 + kv_off4;
    let k3 = min(p + 3u, last) * kv_dim4 + kv_off4;
    let k4 = min(p + 4u, last) * kv_dim4 + kv_off4;
    let k5 = min(p + 5u, last) * kv_dim4 + kv_off4;
    let k6 = min(p + 6u, last) * kv_dim4 + kv_off4;
    let k7 = min(p + 7u, last) * kv_dim4 + kv_off4;
    var qk0 = 0.0; var qk1 = 0.0; var qk2 = 0.0; var qk3 = 0.0;
    var qk4 = 0.0; var qk5 = 0.0; var qk6 = 0.0; var qk7 = 0.0;
    for (var d = 0u; d < dim4; d++) {
      let qd = q[q_off4 + d];
      qk0 += dot(qd, k_cache[k0 + d]);
      qk1 += dot(qd, k_cache[k1 + d]);
      qk2 += dot(qd, k_cache[k2 + d]);
      qk3 += dot(qd, k_cache[k3 + d]);
      qk4 += dot(qd, k_cache[k4 + d]);
      qk5 += dot(qd, k_cache[k5 + d]);
      qk6 += dot(qd, k_cache[k6 + d]);
      qk7 += dot(qd, k_cache[k7 + d]);
    }
    let qk = array<f32, RUN>(qk0, qk1, qk2, qk3, qk4, qk5, qk6, qk7);
    for (var i = 0u; i < min(RUN, n_pos - p); i++) {
      let s = capped(qk[i]);
      if (s > m) {
        l *= exp(m - s);
        m = s;
      }
      l += exp(s - m);
      scores[s_off + p + i] = s;
    }
  }
  // Second pass over own positions (no other thread reads them yet): exp relative to the final m_t.
  for (var p = first + RUN * t; p < n_pos; p += RUN * WG) {
    for (var i = p; i < min(p + RUN, n_pos); i++) {
      scores[s_off + i] = exp(scores[s_off + i] - m);
    }
  }
  thread_max[t] = m;
  thread_sum[t] = l;
  storageBarrier();
  workgroupBarrier();

  let n_threads = min(WG, (n_pos - first + RUN - 1u) / RUN); // threads that own positions
  var big_m = LOWEST;
  for (var k = 0u; k < n_threads; k++) {
    big_m = max(big_m, thread_max[k]);
  }
  var big_l = 0.0;
  for (var k = 0u; k < n_threads; k++) {
    big_l += thread_sum[k] * exp(thread_max[k] - big_m);
  }

  // Weighted sum of V: thread t owns the vec4s of head dims d = 2t and 2t + 1 (the second clamped, and not
  // written, when dim4 is odd), then 2t + 128, ...
  for (var d = 2u * t; d < dim4; d += 2u * WG) {
    let d1 = min(d + 1u, dim4 - 1u);
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    for (var k = 0u; k < n_threads; k++) {
      var part0 = vec4<f32>(0.0);
      var part1 = vec4<f32>(0.0);
      for (var p = first + RUN * k; p < n_pos; p += RUN * WG) {
        for (var i = p; i < min(p + RUN, n_pos); i++) {
          let s = scores[s_off + i];
          let v_row = i * kv_dim4 + kv_off4;
          part0 += s * v_cache[v_row + d];
          part1 += s * v_cache[v_row + d1];
        }
      }
      let rescale = exp(thread_max[k] - big_m);
      acc0 += part0 * rescale;
      acc1 += part1 * rescale;
    }
    if (SPLITS == 1u) {
      let inv_l = 1.0 / big_l;
      out[q_off4 + d] = acc0 * inv_l;
      if (d + 1u < dim4) {
        out[q_off4 + d + 1u] = acc1 * inv_l;
      }
    } else {
      let partial = (row * SPLITS + chunk) * (dim4 + 1u);
      out[partial + d] = acc0;
      if (d + 1u < dim4) {
        out[partial + d + 1u] = acc1;
      }
    }
  }
  if (SPLITS > 1u && t == 0u) {
    out[(row * SPLITS + chunk) * (dim4 + 1u) + dim4] = vec4<f32>(big_m, big_l, 0.0, 0.0);
  }
}
