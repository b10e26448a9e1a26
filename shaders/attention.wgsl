// Causal attention for one layer, for each token t of a batch (1 when decoding) at position p_t = pos + t:
// out_{t,h} = softmax(cap(SCALE · q_{t,h} · K_kv[first..=p_t]ᵀ)) · V_kv, the batch's own keys and values
// already in the cache. Grouped-query: head h reads kv head h / (N_HEADS / N_KV_HEADS).
// One workgroup per (head, token), or per (head, pair of tokens) with TOKENS = 2 (prefill batches, WINDOW 0):
// dispatch (N_HEADS · SPLITS, ceil(tokens / TOKENS)). HEAD_DIM must be a multiple of 4 (q, k, v and out are
// read as vec4; the loader rejects other head sizes).
// Split-K (flash-decoding) for long contexts: with SPLITS > 1 the context is cut into chunks of CHUNK
// positions, workgroup (h + N_HEADS · c, t) attends over chunk c only and writes, instead of out_{t,h}, its
// unnormalized partial (Σ exp(s − m_c)·v, then (m_c, l_c)) for attention-combine.wgsl, so a long context is
// spread over SPLITS times more workgroups. A chunk outside [first, p_t] writes m = lowest, l = 0, Σ = 0.
// SCALE is usually 1/sqrt(HEAD_DIM). SOFTCAP > 0 soft-caps each score, s → SOFTCAP · tanh(s / SOFTCAP)
// (Gemma 2; common/attention-score.wgsl); 0 leaves scores alone. The caches hold KvScalar (dtype/kv-f32.wgsl or
// kv-f16.wgsl), widened to f32 as read: the arithmetic is f32 either way. WINDOW > 0 is a sliding window: only the last WINDOW positions
// (p > pos − WINDOW, llama.cpp's LLAMA_SWA_TYPE_STANDARD) are seen; 0 sees every position.
//
// One barrier in total (barriers are very expensive on SwiftShader). Thread t owns the runs of RUN
// positions starting at first + RUN·t, first + RUN·(t + 64), ...: it scores a run together, so each q read
// serves RUN keys, keeping its own running maximum m_t and sum l_t, and leaves exp(score − m_t) in the
// scratch. After the barrier every thread knows M = max m_t and L = Σ l_t·exp(m_t − M) and accumulates
// V for two vec4s of head dims (each score read serves eight dims), position groups of one owner sharing
// the rescale factor exp(m_t − M). Numerically this is the usual max-subtracted softmax.
// A pair of tokens (TOKENS = 2: consecutive positions, the same first position) shares every k and v read,
// 1.5–1.8× fewer reads per score. Each token's sums are exactly those it gets alone — the same runs, the same
// order, the second token's one extra position skipped for the first — so a prefilled cache equals one built
// token by token, bit for bit.

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
override TOKENS: u32 = 1u; // tokens per workgroup: 1, or 2 (WINDOW must then be 0: both tokens start at first)

const WG: u32 = 64u;
const RUN: u32 = 8u; // positions a thread scores together: each q read serves RUN keys
const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;        // [tokens, N_HEADS, HEAD_DIM / 4]
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<KvScalar>>;  // [CTX, N_KV_HEADS, HEAD_DIM / 4]
@group(0) @binding(3) var<storage, read> v_cache: array<vec4<KvScalar>>;  // [CTX, N_KV_HEADS, HEAD_DIM / 4]
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;   // [tokens, N_HEADS, CTX] scratch (and a pair's second row)
// [tokens, N_HEADS, HEAD_DIM / 4], or with SPLITS > 1 [tokens, N_HEADS, SPLITS, HEAD_DIM / 4 + 1] partials
@group(0) @binding(5) var<storage, read_write> out: array<vec4<f32>>;
// main_packed only: per token of the batch (rope position, first, end, 0): it sees cache positions [first, end).
@group(0) @binding(6) var<storage, read> seqs: array<vec4<u32>>;

var<workgroup> thread_max: array<f32, 2 * WG>; // [token of the workgroup, thread]
var<workgroup> thread_sum: array<f32, 2 * WG>;

/// The first `count` scores of a run into the scratch from `at`, updating a token's online max `m` and sum `l`.
fn score_run(qk: array<f32, RUN>, count: u32, at: u32, m: ptr<function, f32>, l: ptr<function, f32>) {
  for (var i = 0u; i < count; i++) {
    let s = capped(qk[i]);
    if (s > *m) {
      *l *= exp(*m - s);
      *m = s;
    }
    *l += exp(s - *m);
    scores[at + i] = s;
  }
}

/// A token's V sums for the vec4s of head dims d and d + 1 (not written past dim4): normalized, or the partial.
fn write_out(row: u32, chunk: u32, d: u32, dim4: u32, acc0: vec4<f32>, acc1: vec4<f32>, big_l: f32) {
  var o = row * dim4 + d;
  var scale = 1.0 / big_l;
  if (SPLITS > 1u) {
    o = (row * SPLITS + chunk) * (dim4 + 1u) + d;
    scale = 1.0;
  }
  out[o] = acc0 * scale;
  if (d + 1u < dim4) {
    out[o + 1u] = acc1 * scale;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let seen = step.pos + wid.y * TOKENS + 1u;
  attend(wid, t, select(0u, seen - min(WINDOW, seen), WINDOW > 0u), seen);
}

// Several sequences packed in one batch (embeddings): token t sees the range seqs[t] gives, so each sequence
// attends only within itself, causally or over the whole of it as the host decides. TOKENS must be 1.
@compute @workgroup_size(WG)
fn main_packed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let range = seqs[wid.y];
  attend(wid, t, range.y, range.z);
}

/// Attention of the workgroup's token(s) over cache positions [seq_first, seen) (a pair's second token: one more).
fn attend(wid: vec3<u32>, t: u32, seq_first: u32, seen: u32) {
  let pair = TOKENS == 2u;
  let h = wid.x % N_HEADS;
  let chunk = wid.x / N_HEADS;
  let row0 = wid.y * TOKENS * N_HEADS + h; // (token, head) of the first token
  let row1 = row0 + N_HEADS; // and of the pair's second
  let dim4 = HEAD_DIM / 4u;
  let kv_dim4 = N_KV_HEADS * dim4;
  let kv_off4 = (h / (N_HEADS / N_KV_HEADS)) * dim4;
  let q0 = row0 * dim4;
  let q1 = row1 * dim4;
  let s0 = row0 * CTX;
  let s1 = row1 * CTX;
  // The positions [first, n_pos) a token sees within this workgroup's chunk (causal, windowed); a pair's
  // second token sees one more.
  let first = max(seq_first, chunk * CHUNK);
  let chunk_end = (chunk + 1u) * CHUNK;
  let n_pos0 = max(first, min(seen, chunk_end));
  let n_pos1 = select(n_pos0, max(first, min(seen + 1u, chunk_end)), pair);
  let last = n_pos1 - 1u;

  // Scores for this thread's runs, with an online (rescaled) max and sum per token. A run's rows past the
  // last position read the last one again (clamped) and are dropped.
  var m0 = LOWEST;
  var l0 = 0.0;
  var m1 = LOWEST;
  var l1 = 0.0;
  for (var p = first + RUN * t; p < n_pos1; p += RUN * WG) {
    let k0 = p * kv_dim4 + kv_off4;
    let k1 = min(p + 1u, last) * kv_dim4 + kv_off4;
    let k2 = min(p + 2u, last) * kv_dim4 + kv_off4;
    let k3 = min(p + 3u, last) * kv_dim4 + kv_off4;
    let k4 = min(p + 4u, last) * kv_dim4 + kv_off4;
    let k5 = min(p + 5u, last) * kv_dim4 + kv_off4;
    let k6 = min(p + 6u, last) * kv_dim4 + kv_off4;
    let k7 = min(p + 7u, last) * kv_dim4 + kv_off4;
    // a<i>: q0 · k of position p + i; b<i>: the same for the pair's second token.
    var a0 = 0.0; var a1 = 0.0; var a2 = 0.0; var a3 = 0.0; var a4 = 0.0; var a5 = 0.0; var a6 = 0.0; var a7 = 0.0;
    var b0 = 0.0; var b1 = 0.0; var b2 = 0.0; var b3 = 0.0; var b4 = 0.0; var b5 = 0.0; var b6 = 0.0; var b7 = 0.0;
    for (var d = 0u; d < dim4; d++) {
      let c0 = vec4<f32>(k_cache[k0 + d]); let c1 = vec4<f32>(k_cache[k1 + d]);
      let c2 = vec4<f32>(k_cache[k2 + d]); let c3 = vec4<f32>(k_cache[k3 + d]);
      let c4 = vec4<f32>(k_cache[k4 + d]); let c5 = vec4<f32>(k_cache[k5 + d]);
      let c6 = vec4<f32>(k_cache[k6 + d]); let c7 = vec4<f32>(k_cache[k7 + d]);
      let qa = q[q0 + d];
      a0 += dot(qa, c0); a1 += dot(qa, c1); a2 += dot(qa, c2); a3 += dot(qa, c3);
      a4 += dot(qa, c4); a5 += dot(qa, c5); a6 += dot(qa, c6); a7 += dot(qa, c7);
      if (pair) {
        let qb = q[q1 + d];
        b0 += dot(qb, c0); b1 += dot(qb, c1); b2 += dot(qb, c2); b3 += dot(qb, c3);
        b4 += dot(qb, c4); b5 += dot(qb, c5); b6 += dot(qb, c6); b7 += dot(qb, c7);
      }
    }
    if (p < n_pos0) {
      score_run(array<f32, RUN>(a0, a1, a2, a3, a4, a5, a6, a7), min(RUN, n_pos0 - p), s0 + p, &m0, &l0);
    }
    if (pair) {
      score_run(array<f32, RUN>(b0, b1, b2, b3, b4, b5, b6, b7), min(RUN, n_pos1 - p), s1 + p, &m1, &l1);
    }
  }
  // Second pass over own positions (no other thread reads them yet): exp relative to the final m_t.
  for (var p = first + RUN * t; p < n_pos1; p += RUN * WG) {
    for (var i = p; i < min(p + RUN, n_pos0); i++) {
      scores[s0 + i] = exp(scores[s0 + i] - m0);
    }
    if (pair) {
      for (var i = p; i < min(p + RUN, n_pos1); i++) {
        scores[s1 + i] = exp(scores[s1 + i] - m1);
      }
    }
  }
  thread_max[t] = m0;
  thread_sum[t] = l0;
  thread_max[WG + t] = m1;
  thread_sum[WG + t] = l1;
  storageBarrier();
  workgroupBarrier();

  // Threads that own positions of each token; M = max m_t and L = Σ l_t·exp(m_t − M) per token.
  let n_threads0 = min(WG, (n_pos0 - first + RUN - 1u) / RUN);
  let n_threads1 = min(WG, (n_pos1 - first + RUN - 1u) / RUN);
  var big_m0 = LOWEST;
  var big_m1 = LOWEST;
  for (var k = 0u; k < n_threads1; k++) {
    if (!pair || k < n_threads0) { big_m0 = max(big_m0, thread_max[k]); }
    if (pair) { big_m1 = max(big_m1, thread_max[WG + k]); }
  }
  var big_l0 = 0.0;
  var big_l1 = 0.0;
  for (var k = 0u; k < n_threads1; k++) {
    if (!pair || k < n_threads0) { big_l0 += thread_sum[k] * exp(thread_max[k] - big_m0); }
    if (pair) { big_l1 += thread_sum[WG + k] * exp(thread_max[WG + k] - big_m1); }
  }

  // Weighted sum of V: thread t owns the vec4s of head dims d = 2t and 2t + 1 (the second clamped, and not
  // written, when dim4 is odd), then 2t + 128, ... acc<token><dims>.
  for (var d = 2u * t; d < dim4; d += 2u * WG) {
    let d1 = min(d + 1u, dim4 - 1u);
    var acc00 = vec4<f32>(0.0);
    var acc01 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc11 = vec4<f32>(0.0);
    for (var k = 0u; k < n_threads1; k++) {
      var part00 = vec4<f32>(0.0);
      var part01 = vec4<f32>(0.0);
      var part10 = vec4<f32>(0.0);
      var part11 = vec4<f32>(0.0);
      for (var p = first + RUN * k; p < n_pos1; p += RUN * WG) {
        for (var i = p; i < min(p + RUN, n_pos1); i++) {
          let v_row = i * kv_dim4 + kv_off4;
          let va = vec4<f32>(v_cache[v_row + d]);
          let vb = vec4<f32>(v_cache[v_row + d1]);
          if (!pair || i < n_pos0) {
            let s = scores[s0 + i];
            part00 += s * va;
            part01 += s * vb;
          }
          if (pair) {
            let s = scores[s1 + i];
            part10 += s * va;
            part11 += s * vb;
          }
        }
      }
      if (!pair || k < n_threads0) {
        let rescale = exp(thread_max[k] - big_m0);
        acc00 += part00 * rescale;
        acc01 += part01 * rescale;
      }
      if (pair) {
        let rescale = exp(thread_max[WG + k] - big_m1);
        acc10 += part10 * rescale;
        acc11 += part11 * rescale;
      }
    }
    write_out(row0, chunk, d, dim4, acc00, acc01, big_l0);
    if (pair) {
      write_out(row1, chunk, d, dim4, acc10, acc11, big_l1);
    }
  }
  if (SPLITS > 1u && t == 0u) {
    out[(row0 * SPLITS + chunk) * (dim4 + 1u) + dim4] = vec4<f32>(big_m0, big_l0, 0.0, 0.0);
    if (pair) {
      out[(row1 * SPLITS + chunk) * (dim4 + 1u) + dim4] = vec4<f32>(big_m1, big_l1, 0.0, 0.0);
    }
  }
}
