// Matrix-matrix product for a batch of tokens on GPUs (prompt prefill): out[t, r] = Σ_c W[r, c] · x[t, c],
// tiled in workgroup memory. Needs the compute-precision preamble (Act) and a dtype preamble (WEIGHT_BLOCK,
// weight_block, weight8, load_weight); common/products.wgsl's stores and common/rms.wgsl's NORM come before it.
// A workgroup of 16 × 16 threads computes a tile of 64 rows × 64 tokens. It walks the row in tiles of K_STEPS
// steps of 8 columns (weight8's: 32 columns): each thread dequantizes one (row, step) of the weight tile and
// loads one (token, step) of the activation tile into workgroup memory, so every weight is dequantized once per
// 64 tokens and every activation read once per 64 rows; then thread (i, j) multiplies its four rows (group i,
// as the entry point's row function gives them) by its four tokens 4j … 4j + 3 out of workgroup memory.
// Each step's 8 products of a (row, token) are summed in Act and carried into an f32 total: in f16 that is
// matvec.wgsl's accuracy (its lanes sum 8 products before carrying); the sums are tiled, so the results equal
// matmul.wgsl's and matvec's to rounding, not bit for bit.
// With NORM each token's rms scale is computed once per workgroup (4 threads a token) and the activations are
// normed as they are loaded into the tile.
// Tokens: x and out hold the batch's capacity, arrayLength(&x) / COLS tokens; the dispatch covers the pass's
// tokens in tiles of 64, and the last tile's tokens past the capacity are neither read nor written (those
// within it compute values nobody reads, as in matmul.wgsl). Rows past ROWS re-read the last row and are not
// written. Columns: any COLS (a float row of any length; x read as vec4s when COLS is a multiple of 4).
// Dispatch (ceil(ROWS / 64), ceil(tokens / 64)), and (ceil(ROWS / 2 / 32), ceil(tokens / 64)) for main_glu.
// Workgroup memory: 17 KiB with Act = f32 (profile.ts checks the adapter's limit before choosing this kernel).

override ROWS: u32;
override COLS: u32;
override OUT_STRIDE: u32; // elements per output row of main: all rows of W
override ROW_START: u32 = 0u;

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [capacity, COLS]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [capacity, OUT_STRIDE] (main), [capacity, Q_ROWS], [capacity, ROWS / 2]

const TILE: u32 = 64u;    // rows, and tokens, per workgroup: 16 groups of four each
const K_STEPS: u32 = 4u;  // steps of 8 columns per tile of the walk
const SLOTS: u32 = 2u * K_STEPS; // vec4s per tile row
const STEPS_PER_BLOCK: u32 = WEIGHT_BLOCK / 8u;

// Tile rows (weight rows, tokens) of SLOTS vec4s over the tile's columns; slot s of row m is stored at
// m · SLOTS + (s ^ ((m / 4) & 7)), so that the 8 threads of a quarter-warp, which read 8 different row groups at
// one slot, hit 8 different bank groups.
var<workgroup> w_tile: array<vec4<Act>, 512>; // [TILE][SLOTS]
var<workgroup> x_tile: array<vec4<Act>, 512>; // [TILE][SLOTS]
// One word per thread: first (NORM) its partial Σ x² of its token; then, in the walk, the range-guard exponent
// (act_exponent) of the (token, step) it loaded, which the products of that step undo (unscaled). Both uses are
// separated by the walk's first barrier, so they share the memory.
var<workgroup> per_thread: array<f32, 256>;

fn slot(m: u32, s: u32) -> u32 { return m * SLOTS + (s ^ ((m >> 2u) & 7u)); }

fn x_at(i: u32) -> f32 { return x[i >> 2u][i & 3u]; }

/// Steps of 8 columns in a row (the last one partial when COLS is no multiple of 8: float types only).
fn steps() -> u32 { return (COLS + 7u) / 8u; }

/// Tokens x (and out) hold: the batch's capacity.
fn capacity() -> u32 { return arrayLength(&x) * 4u / COLS; }

/// The four weight rows of group `g` (0 … 15) of workgroup `wx`, for entry point `entry` (MAIN, QKV, GLU), clamped
/// to rows that exist: the rows a thread of that group sums, and the ones the weight tile holds for it (QKV:
/// qkv_rows's, the rope pairs of its epilogue).
const MAIN: u32 = 0u;
const QKV: u32 = 1u;
const GLU: u32 = 2u;
fn group_rows(entry: u32, wx: u32, g: u32) -> vec4<u32> {
  if (entry == GLU) {
    let outputs = ROWS / 2u;
    return glu_rows(min(TILE / 2u * wx + 2u * g, outputs - 1u), outputs);
  }
  let r0 = min(TILE * wx + 4u * g, ROWS - 1u);
  if (entry == QKV) { return qkv_rows(r0); }
  return four_rows(r0, ROWS);
}

/// Elements [4j, 4j+4) and [half + 4j, half + 4j + 4) of the block of step k of `row` (zero past the row's end).
fn weight_step(row: u32, k: u32) -> mat2x4<Act> {
  if (k >= steps()) { return mat2x4<Act>(); }
  let first = (k / STEPS_PER_BLOCK) * WEIGHT_BLOCK;
  if (WEIGHT_BLOCK == 8u && COLS % 8u != 0u) {
    // A float row whose length is no multiple of 8: its blocks start at any element, so element by element.
    var lo = vec4<Act>();
    var hi = vec4<Act>();
    for (var e = 0u; e < 4u; e++) {
      if (first + e < COLS) { lo[e] = load_weight(row * COLS + first + e); }
      if (first + 4u + e < COLS) { hi[e] = load_weight(row * COLS + first + 4u + e); }
    }
    return mat2x4<Act>(lo, hi);
  }
  return weight8(weight_block(row * COLS + first), k % STEPS_PER_BLOCK);
}

/// Columns [col, col + 4) of the row at element `base` of x, normed with `scale` when NORM (zero past the row's end).
fn x4(base: u32, col: u32, scale: f32) -> vec4<f32> {
  var v = vec4<f32>();
  if (COLS % 4u == 0u) {
    if (col < COLS) { v = x[(base + col) >> 2u]; }
  } else {
    for (var e = 0u; e < 4u; e++) { if (col + e < COLS) { v[e] = x_at(base + col + e); } }
  }
  if (NORM) {
    let c = min(vec4<u32>(col) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(COLS - 1u));
    v *= scale * vec4<f32>(norm_weight[c.x], norm_weight[c.y], norm_weight[c.z], norm_weight[c.w]);
  }
  return v;
}

/// The activations step k of `token` multiplies (the columns of weight_step's), as weight_step lays them out.
fn x_step(token: u32, live: bool, k: u32, scale: f32) -> mat2x4<f32> {
  if (!live || k >= steps()) { return mat2x4<f32>(); }
  let col = (k / STEPS_PER_BLOCK) * WEIGHT_BLOCK + 4u * (k % STEPS_PER_BLOCK);
  let base = token * COLS;
  return mat2x4<f32>(x4(base, col, scale), x4(base, col + WEIGHT_BLOCK / 2u, scale));
}

/// Thread `li`'s share (a quarter) of Σ x² over its token's row.
fn rms_partial(token: u32, part: u32) -> f32 {
  let base = token * COLS;
  var sum = 0.0;
  if (COLS % 4u == 0u) {
    for (var c = 4u * part; c < COLS; c += 16u) { let v = x[(base + c) >> 2u]; sum += dot(v, v); }
  } else {
    for (var c = part; c < COLS; c += 4u) { let v = x_at(base + c); sum += v * v; }
  }
  return sum;
}

/// With NORM, the rms scale of the token thread `li` loads (the 4 threads of a token each sum a quarter of its
/// row; one barrier); 1 without.
fn token_scale(token: u32, live: bool, li: u32) -> f32 {
  if (!NORM) { return 1.0; }
  per_thread[li] = select(0.0, rms_partial(token, li % 4u), live);
  workgroupBarrier();
  let p = li & ~3u;
  let total = (per_thread[p] + per_thread[p + 1u]) + (per_thread[p + 2u] + per_thread[p + 3u]);
  return inverseSqrt(total / f32(COLS) + EPS);
}

/// Σ_c W[r, c] · x[t, c] for the four rows r of the thread's group (lid.x) and its four tokens t (lid.y): column i of
/// the result holds token 4 · lid.y + i's four row sums. Every thread of the workgroup calls it (barriers).
fn tile_sums(entry: u32, wg: vec2<u32>, lid: vec2<u32>, li: u32) -> mat4x4<f32> {
  // As a loader, thread li fills tile row m (weight row and token) at step li % 4 of each tile.
  let m = li / 4u;
  let part = li % 4u;
  let w_row = group_rows(entry, wg.x, m / 4u)[m % 4u];
  let token = TILE * wg.y + m;
  let live = token < capacity();
  let scale = token_scale(token, live, li);
  var totals = mat4x4<f32>();
  let tiles = (steps() + K_STEPS - 1u) / K_STEPS;
  for (var kt = 0u; kt < tiles; kt++) {
    let k = kt * K_STEPS + part;
    let w = weight_step(w_row, k);
    let xs = x_step(token, live, k, scale);
    workgroupBarrier(); // the previous tile's products are done
    w_tile[slot(m, 2u * part)] = w[0];
    w_tile[slot(m, 2u * part + 1u)] = w[1];
    let e = act_exponent(xs[0], xs[1]); // f16: inputs beyond its range scaled by 2^-e (exact), undone below
    x_tile[slot(m, 2u * part)] = act4(xs[0], e);
    x_tile[slot(m, 2u * part + 1u)] = act4(xs[1], e);
    per_thread[li] = f32(e); // li = 4m + part: the (token, step) slot
    workgroupBarrier();
    for (var s = 0u; s < K_STEPS; s++) {
      let r = 4u * lid.x;
      // Column i of wa (wb): row i's first (second) four columns of the step; x · wa = their dots with x.
      let wa = mat4x4<Act>(w_tile[slot(r, 2u * s)], w_tile[slot(r + 1u, 2u * s)], w_tile[slot(r + 2u, 2u * s)], w_tile[slot(r + 3u, 2u * s)]);
      let wb = mat4x4<Act>(w_tile[slot(r, 2u * s + 1u)], w_tile[slot(r + 1u, 2u * s + 1u)], w_tile[slot(r + 2u, 2u * s + 1u)], w_tile[slot(r + 3u, 2u * s + 1u)]);
      for (var i = 0u; i < 4u; i++) {
        let t = 4u * lid.y + i;
        totals[i] += unscaled(x_tile[slot(t, 2u * s)] * wa + x_tile[slot(t, 2u * s + 1u)] * wb, i32(per_thread[4u * t + s]));
      }
    }
  }
  return totals;
}

// The entry points of common/matmul-entry.wgsl, on this tiling: each thread stores its four rows for each of its
// four tokens that the batch holds.

/// The first row (x) and token (y) of the thread's 4 × 4 outputs in the workgroup's tile.
fn tile_origin(wg: vec2<u32>, lid: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(TILE * wg.x + 4u * lid.x, TILE * wg.y + 4u * lid.y);
}

/// The four rows from r0 of tokens t0 … t0 + 3 (column i of s: token t0 + i), for the tokens the batch holds.
fn store_tile(r0: u32, t0: u32, s: mat4x4<f32>) {
  for (var i = 0u; i < 4u; i++) { if (t0 + i < capacity()) { store_rows(t0 + i, r0, s[i]); } }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let s = tile_sums(MAIN, wg.xy, lid.xy, li);
  let o = tile_origin(wg.xy, lid.xy);
  if (o.x < ROWS) { store_tile(o.x, o.y, s); }
}

@compute @workgroup_size(16, 16)
fn main_bias(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let s = tile_sums(MAIN, wg.xy, lid.xy, li);
  let o = tile_origin(wg.xy, lid.xy);
  if (o.x < ROWS) { store_tile(o.x, o.y, mat4x4<f32>(with_bias(o.x, s[0]), with_bias(o.x, s[1]), with_bias(o.x, s[2]), with_bias(o.x, s[3]))); }
}

@compute @workgroup_size(16, 16)
fn main_qkv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let s = tile_sums(QKV, wg.xy, lid.xy, li);
  let o = tile_origin(wg.xy, lid.xy);
  if (o.x >= ROWS) { return; }
  let rows = group_rows(QKV, wg.x, lid.x);
  for (var i = 0u; i < 4u; i++) { if (o.y + i < capacity()) { store_rows_qkv(o.y + i, o.x, rows, s[i]); } }
}

@compute @workgroup_size(16, 16)
fn main_glu(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let s = tile_sums(GLU, wg.xy, lid.xy, li);
  let g0 = TILE / 2u * wg.x + 2u * lid.x;
  let t0 = TILE * wg.y + 4u * lid.y;
  if (g0 >= ROWS / 2u) { return; }
  for (var i = 0u; i < 4u; i++) { if (t0 + i < capacity()) { store_glu(t0 + i, g0, s[i]); } }
}
