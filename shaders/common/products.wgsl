// The outputs of the weight products (matvec, matmul, matvec-q8, matmul-q8), prepended to each (WGSL has no
// imports), after common/activation.wgsl. Besides `main` (out = W x), each product has two entry points for
// projections of one input whose matrices the loader stacked by rows into one W, so that one dispatch runs them:
// - main_qkv: W = [q; k; v] (Q_ROWS, KV_ROWS and KV_ROWS rows); row r's sum goes to out (q), out_k or out_v.
// - main_glu: W = [gate; up] (ROWS / 2 rows each); out[r] = act(gate[r]) · up[r] with act SiLU (ACT 0, SwiGLU)
//   or GELU (ACT 1, GeGLU): the gated FFN's two products and its activation in one dispatch. Each thread sums
//   gate rows r, r + 1 and the up rows r + ROWS/2, r + 1 + ROWS/2 (its usual four rows), so nothing is exchanged.
// A stacked W is bound whole (the loader stacks only what fits one binding).

override Q_ROWS: u32 = 0u;
override KV_ROWS: u32 = 0u;
override ACT: u32 = 0u;

@group(0) @binding(4) var<storage, read_write> out_k: array<f32>;   // [tokens, KV_ROWS] (main_qkv)
@group(0) @binding(5) var<storage, read_write> out_v: array<f32>;   // [tokens, KV_ROWS] (main_qkv)

/// Stores token t's sum of row r of a [q; k; v] stack (r < ROWS).
fn store_qkv(t: u32, r: u32, value: f32) {
  if (r < Q_ROWS) {
    out[t * Q_ROWS + r] = value;
  } else if (r < Q_ROWS + KV_ROWS) {
    out_k[t * KV_ROWS + (r - Q_ROWS)] = value;
  } else {
    out_v[t * KV_ROWS + (r - Q_ROWS - KV_ROWS)] = value;
  }
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

/// Token t's sums s of rows r0 … r0 + 3 of a [q; k; v] stack into q, k and v (rows past ROWS are not written).
fn store_rows_qkv(t: u32, r0: u32, s: vec4<f32>) {
  store_qkv(t, r0, s.x);
  if (r0 + 1u < ROWS) { store_qkv(t, r0 + 1u, s.y); }
  if (r0 + 2u < ROWS) { store_qkv(t, r0 + 2u, s.z); }
  if (r0 + 3u < ROWS) { store_qkv(t, r0 + 3u, s.w); }
}

/// Token t's outputs g0, g0 + 1 of a gated product from the sums s of glu_rows(g0).
fn store_glu(t: u32, g0: u32, s: vec4<f32>) {
  let outputs = ROWS / 2u;
  out[t * outputs + g0] = glu(s.x, s.z);
  if (g0 + 1u < outputs) { out[t * outputs + g0 + 1u] = glu(s.y, s.w); }
}

/// The one-token product's sums s of rows r0 … r0 + 3 into out (rows past ROWS are not written).
fn store_rows_one(r0: u32, s: vec4<f32>) {
  out[r0] = s.x;
  if (r0 + 1u < ROWS) { out[r0 + 1u] = s.y; }
  if (r0 + 2u < ROWS) { out[r0 + 2u] = s.z; }
  if (r0 + 3u < ROWS) { out[r0 + 3u] = s.w; }
}
