// The outputs of the weight products (matvec, matmul, matvec-q8, matmul-q8), prepended to each (WGSL has no
// imports), after common/activation.wgsl. Besides `main` (out = W x), each product has two entry points for
// projections of one input whose matrices the loader stacked by rows into one W, so that one dispatch runs them:
// - main_qkv: W = [q; k; v] (Q_ROWS, KV_ROWS and ROWS − Q_ROWS − KV_ROWS rows); row r's sum goes to out (q),
//   out_k or out_v. Any part may be empty: the loader stacks each run of projections of one type
//   (projectionLayouts), so a layer of mixed types runs, say, a [q; k] stack (no v rows) and v alone (Q_ROWS and
//   KV_ROWS 0), each with the epilogues below; an output a product has no rows of is bound but not written.
// - main_glu: W = [gate; up] (ROWS / 2 rows each); out[r] = act(gate[r]) · up[r] with act SiLU (ACT 0, SwiGLU)
//   or GELU (ACT 1, GeGLU): the gated FFN's two products and its activation in one dispatch. Each thread sums
//   gate rows r, r + 1 and the up rows r + ROWS/2, r + 1 + ROWS/2 (its usual four rows), so nothing is exchanged.
// A stacked W is bound whole (the loader stacks only what fits one binding).
// Epilogues, so that what follows a product needs no dispatch of its own (each a fixed cost per layer on a GPU):
// - BIAS (main_qkv) and the entry point main_bias (main plus a bias; an entry point of its own, so that `main`
//   binds no bias): + bias[r], the add add.wgsl makes;
// - GELU (main, main_bias): out[r] = gelu(sum), the ungated FFN's activation after its up product, as gelu.wgsl;
// - RESIDUAL (main, main_bias): out[r] = out[r] + sum, the residual add of the o and down products into x, as
//   add.wgsl adds (with main_bias: out[r] + (sum + bias[r]));
// - ROPE (main_qkv): q and k rotated by their token's position with rope.wgsl's table and arithmetic. A thread
//   (a workgroup in the lane kernels, common/matvec-lanes.wgsl) holds four rows, and both rows of each rope pair
//   must be among them: with normal rope (ROPE 1) the pairs (2i, 2i + 1) are adjacent rows; with NeoX (ROPE 2)
//   the pairs (i, i + ROT_DIM / 2) are not, so qkv_rows hands each thread the rows i, i + 1, i + ROT_DIM / 2,
//   i + 1 + ROT_DIM / 2 instead (HEAD_DIM and ROT_DIM multiples of 4, which the host checks);
// - KV_CACHE (main_qkv): out_k and out_v are the layer's K/V caches [CACHE_ROWS, k or v rows], and token t's k
//   and v go to row step.pos + t (the tile's padding tokens past the cache are not written; those inside it are
//   overwritten by the later positions before attention reads them), rounded to the cache's KvScalar
//   (dtype/kv-f32.wgsl or kv-f16.wgsl; without KV_CACHE the module always has the f32 one).
// The arithmetic of each is that of the dispatch it replaces, so the outputs are bit for bit the same.

override Q_ROWS: u32 = 0u;
override KV_ROWS: u32 = 0u;
override ACT: u32 = 0u;
override BIAS: bool = false;
override RESIDUAL: bool = false;
override GELU: bool = false;
override ROPE: u32 = 0u;
override HEAD_DIM: u32 = 4u;
override ROT_DIM: u32 = 0u;
override KV_CACHE: bool = false;
override CACHE_ROWS: u32 = 0u;

struct Step { pos: u32 }

@group(0) @binding(4) var<storage, read_write> out_k: array<KvScalar>; // [tokens, KV_ROWS], or the K cache (main_qkv)
@group(0) @binding(5) var<storage, read_write> out_v: array<KvScalar>; // [tokens, v rows], or the V cache (main_qkv)
@group(0) @binding(6) var<storage, read> bias: array<f32>;          // [ROWS]: [q; k; v] (main_qkv), or main_bias's rows
@group(0) @binding(7) var<storage, read> cos_sin: array<f32>;       // [CTX, ROT_DIM / 2, 2] (main_qkv, ROPE)
@group(0) @binding(8) var<uniform> step: Step;                      // the pass's first position (main_qkv)

/// Stores token t's sum of row r of a [q; k; v] stack (r < ROWS).
fn store_qkv(t: u32, r: u32, value: f32) {
  if (r < Q_ROWS) {
    out[t * Q_ROWS + r] = value;
    return;
  }
  var row = t;
  if (KV_CACHE) {
    row = step.pos + t;
    if (row >= CACHE_ROWS) { return; }
  }
  if (r < Q_ROWS + KV_ROWS) {
    out_k[row * KV_ROWS + (r - Q_ROWS)] = KvScalar(value);
  } else {
    out_v[row * (ROWS - Q_ROWS - KV_ROWS) + (r - Q_ROWS - KV_ROWS)] = KvScalar(value);
  }
}

/// `value` of row r plus its bias (BIAS).
fn biased(r: u32, value: f32) -> f32 {
  if (BIAS) { return value + bias[r]; }
  return value;
}

/// The four rows a main_qkv thread sums for its group starting at row r0 (a multiple of 4): r0 … r0 + 3 (those
/// past ROWS replaced by the last row), except in the rotated dims of a q or k head under NeoX rope, where they are
/// the two rope pairs (i, i + ROT_DIM / 2) and (i + 1, i + 1 + ROT_DIM / 2).
fn qkv_rows(r0: u32) -> vec4<u32> {
  if (ROPE == 2u && r0 < Q_ROWS + KV_ROWS) {
    let d = r0 % HEAD_DIM;
    if (d < ROT_DIM) {
      let i = r0 - d + d / 2u;
      return vec4<u32>(i, i + 1u, i + ROT_DIM / 2u, i + 1u + ROT_DIM / 2u);
    }
  }
  return four_rows(r0, ROWS);
}

/// The rope pair (a, b) of rows ra and rb of a [q; k; v] stack, rotated by token t's position as rope.wgsl does
/// when both are rows of a q or k head in its first ROT_DIM dims; unchanged otherwise.
fn rope_pair(t: u32, ra: u32, rb: u32, a: f32, b: f32) -> vec2<f32> {
  let half_rot = ROT_DIM / 2u;
  let i = select((ra % HEAD_DIM) / 2u, ra % HEAD_DIM, ROPE == 2u); // the pair's index in its head
  if (ROPE == 0u || rb >= Q_ROWS + KV_ROWS || i >= half_rot) { return vec2<f32>(a, b); }
  let angle = ((step.pos + t) * half_rot + i) * 2u;
  let c = cos_sin[angle];
  let s = cos_sin[angle + 1u];
  return vec2<f32>(a * c - b * s, a * s + b * c);
}

/// act(gate) · up, the activation as glu.wgsl applies it.
fn glu(gate: f32, up: f32) -> f32 {
  if (ACT == 1u) { return gelu(gate) * up; }
  return silu(gate) * up;
}

/// The four weight rows a thread of main_glu sums for outputs g0 and g0 + 1 of `outputs` (= ROWS / 2): gate
/// rows g0, g0 + 1 and up rows outputs + g0, outputs + g0 + 1 (a missing g0 + 1 re-reads g0 and is not written).
fn glu_rows(g0: u32, outputs: u32) -> vec4<u32> {
  let g1 = min(g0 + 1u, outputs - 1u);
  return vec4<u32>(g0, g1, outputs + g0, outputs + g1);
}

/// Rows r0 … r0 + 3 of a product, the ones past `rows` replaced by the last row (read but not written).
fn four_rows(r0: u32, rows: u32) -> vec4<u32> {
  return vec4<u32>(r0, min(r0 + 1u, rows - 1u), min(r0 + 2u, rows - 1u), min(r0 + 3u, rows - 1u));
}

/// Token t's sums s of the rows `rows` = qkv_rows(r0) of a [q; k; v] stack into q, k and v, biased and rotated
/// (rows past ROWS, which only the last group has, are not written).
fn store_rows_qkv(t: u32, r0: u32, rows: vec4<u32>, s: vec4<f32>) {
  var v = vec4<f32>(biased(rows.x, s.x), biased(rows.y, s.y), biased(rows.z, s.z), biased(rows.w, s.w));
  if (ROPE == 1u) {
    v = vec4<f32>(rope_pair(t, rows.x, rows.y, v.x, v.y), rope_pair(t, rows.z, rows.w, v.z, v.w));
  } else if (ROPE == 2u) {
    let p0 = rope_pair(t, rows.x, rows.z, v.x, v.z);
    let p1 = rope_pair(t, rows.y, rows.w, v.y, v.w);
    v = vec4<f32>(p0.x, p1.x, p0.y, p1.y);
  }
  store_qkv(t, rows.x, v.x);
  if (r0 + 1u < ROWS) { store_qkv(t, rows.y, v.y); }
  if (r0 + 2u < ROWS) { store_qkv(t, rows.z, v.z); }
  if (r0 + 3u < ROWS) { store_qkv(t, rows.w, v.w); }
}

/// `value` exactly, as a product without epilogue stores it: its bits ORed with a word that is zero while `out`
/// holds fewer than 2^29 elements (2 GiB; the host checks), which the compiler cannot know. Without it, where a
/// row's sum ends in additions the compiler sees whole (an 8-bit product's two blocks, unrolled), LLVM on
/// lavapipe reassociates an epilogue's add into them, x + (a + b) as (x + a) + b, and the result moves by an ulp.
fn finished(value: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(value) | (arrayLength(&out) >> 29u));
}

/// main_bias: the sums s of rows r0 … r0 + 3 (those past ROWS: the last row's) plus their biases.
fn with_bias(r0: u32, s: vec4<f32>) -> vec4<f32> {
  let r = four_rows(r0, ROWS);
  return vec4<f32>(finished(s.x), finished(s.y), finished(s.z), finished(s.w)) + vec4<f32>(bias[r.x], bias[r.y], bias[r.z], bias[r.w]);
}

/// A row's sum (biased, by main_bias) into out[o]: activated with GELU, added to what out[o] holds with RESIDUAL.
fn store_out(o: u32, value: f32) {
  if (!GELU && !RESIDUAL) {
    out[o] = value;
    return;
  }
  var v = finished(value);
  if (GELU) { v = gelu(v); }
  if (RESIDUAL) { v = out[o] + v; }
  out[o] = v;
}

/// Token t's outputs g0, g0 + 1 of a gated product from the sums s of glu_rows(g0).
fn store_glu(t: u32, g0: u32, s: vec4<f32>) {
  let outputs = ROWS / 2u;
  out[t * outputs + g0] = glu(s.x, s.z);
  if (g0 + 1u < outputs) { out[t * outputs + g0 + 1u] = glu(s.y, s.w); }
}

/// The one-token product's sums s of rows r0 … r0 + 3 into out (rows past ROWS are not written).
fn store_rows_one(r0: u32, s: vec4<f32>) {
  store_out(r0, s.x);
  if (r0 + 1u < ROWS) { store_out(r0 + 1u, s.y); }
  if (r0 + 2u < ROWS) { store_out(r0 + 2u, s.z); }
  if (r0 + 3u < ROWS) { store_out(r0 + 3u, s.w); }
}
