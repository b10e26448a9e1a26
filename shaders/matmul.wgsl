// Matrix-matrix product for a batch of tokens (prompt prefill): out[t, r] = Σ_c W[r, c] · x[t, c].
// Needs the compute-precision preamble (Act, CARRY_SUMS) and a dtype preamble (WeightWords, WEIGHT_BLOCK,
// WeightBlock, weight_block, weight8, load_weight).
// Each thread computes a tile of 4 weight rows × TILE (4) tokens, workgroup 16 (64 rows per workgroup): each
// weight block is dequantized once for 4 tokens and each activation read serves 4 rows: the shape the CPU
// adapters run fastest, where workgroup memory and barriers cost more than they save (shaders/README.md). The 16 sums are named variables, not an array (SwiftShader keeps private arrays in memory).
// Each (row, token) sum is accumulated exactly as matvec.wgsl does it (in Act, carried into f32 when
// CARRY_SUMS, each token's inputs through the same range guard), so prefill and decode give bit-identical
// results in either precision. x is read as vec4s, so
// COLS must be a multiple of 4.
// Dispatch (ceil(ROWS / 64), ceil(tokens / TILE)); x and out hold a whole number of tiles of token rows
// (the batch capacity is a multiple of TILE), so a tile needs no token bounds check: rows past the batch's
// tokens compute values nobody reads. Rows past ROWS re-read the last row and are not written. A matrix bound
// in row blocks gets one dispatch per block: ROW_START places the block's rows in out.
// Entry points (common/matmul-entry.wgsl): main, and main_qkv, main_glu for stacked projections
// (common/products.wgsl); each calls tile_sums below. With NORM each token's input is rms-normed on the fly
// (common/rms.wgsl).

override ROWS: u32;
override COLS: u32;
override OUT_STRIDE: u32; // elements per output row of main: all rows of W
override ROW_START: u32 = 0u;

const TILE: u32 = 4u;

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [tokens, COLS / 4]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [tokens, OUT_STRIDE] (main), [tokens, Q_ROWS], [tokens, ROWS / 2]

const STEPS_PER_BLOCK: u32 = WEIGHT_BLOCK / 8u; // a power of two
const CARRY_STEPS: u32 = 4u; // as in matvec.wgsl: steps summed in Act before carrying into f32, when CARRY_SUMS

fn x_at(i: u32) -> f32 { return x[i >> 2u][i & 3u]; }

// Elements [c, c + 4) and element c of the activations (c + 4 ≤ a row's end: c is a multiple of 4 in the block
// walk), normed when NORM (col: c's column, scale: its token's rms_scale); f32, rounded to Act by act4.
fn x4(c: u32, col: u32, scale: f32) -> vec4<f32> {
  if (NORM) { return normed4(x[c >> 2u], col, scale); }
  return x[c >> 2u];
}
fn x1(c: u32, col: u32, scale: f32) -> f32 {
  if (NORM) { return x_at(c) * scale * norm_weight[col]; }
  return x_at(c);
}

/// A (row, token) f32 result from its Act sum and, with CARRY_SUMS, its carried f32 total.
fn total(acc: vec4<Act>, carried: vec4<f32>) -> f32 {
  let sum = select(vec4<f32>(acc), carried + vec4<f32>(acc), CARRY_SUMS);
  return (sum.x + sum.y) + (sum.z + sum.w);
}

/// Σ_c W[r, c] · x[t, c] for the four rows r of `rows` and the tile's four tokens t: column t of the result
/// holds token t's four row sums.
fn tile_sums(rows: vec4<u32>, tile: u32) -> mat4x4<f32> {
  let row0 = rows.x * COLS;
  let row1 = rows.y * COLS;
  let row2 = rows.z * COLS;
  let row3 = rows.w * COLS;
  let x0 = tile * TILE * COLS; // first element of the tile's first token
  let s0 = norm_scale(x0);
  let s1 = norm_scale(x0 + COLS);
  let s2 = norm_scale(x0 + 2u * COLS);
  let s3 = norm_scale(x0 + 3u * COLS);
  // acc<row>_<token>: products summed in Act; carried<row>_<token> (f16 only): the sums of the groups done so far.
  var acc0_0 = vec4<Act>(0.0); var acc0_1 = vec4<Act>(0.0); var acc0_2 = vec4<Act>(0.0); var acc0_3 = vec4<Act>(0.0);
  var acc1_0 = vec4<Act>(0.0); var acc1_1 = vec4<Act>(0.0); var acc1_2 = vec4<Act>(0.0); var acc1_3 = vec4<Act>(0.0);
  var acc2_0 = vec4<Act>(0.0); var acc2_1 = vec4<Act>(0.0); var acc2_2 = vec4<Act>(0.0); var acc2_3 = vec4<Act>(0.0);
  var acc3_0 = vec4<Act>(0.0); var acc3_1 = vec4<Act>(0.0); var acc3_2 = vec4<Act>(0.0); var acc3_3 = vec4<Act>(0.0);
  var carried0_0 = vec4<f32>(0.0); var carried0_1 = vec4<f32>(0.0); var carried0_2 = vec4<f32>(0.0); var carried0_3 = vec4<f32>(0.0);
  var carried1_0 = vec4<f32>(0.0); var carried1_1 = vec4<f32>(0.0); var carried1_2 = vec4<f32>(0.0); var carried1_3 = vec4<f32>(0.0);
  var carried2_0 = vec4<f32>(0.0); var carried2_1 = vec4<f32>(0.0); var carried2_2 = vec4<f32>(0.0); var carried2_3 = vec4<f32>(0.0);
  var carried3_0 = vec4<f32>(0.0); var carried3_1 = vec4<f32>(0.0); var carried3_2 = vec4<f32>(0.0); var carried3_3 = vec4<f32>(0.0);
  var b0: WeightBlock;
  var b1: WeightBlock;
  var b2: WeightBlock;
  var b3: WeightBlock;
  let steps = (COLS / WEIGHT_BLOCK) * STEPS_PER_BLOCK;
  let half = WEIGHT_BLOCK / 2u;
  for (var k = 0u; k < steps; k++) {
    let j = k & (STEPS_PER_BLOCK - 1u);
    let first = (k / STEPS_PER_BLOCK) * WEIGHT_BLOCK;
    if (j == 0u) { // same k in every thread: no divergence
      b0 = weight_block(row0 + first);
      b1 = weight_block(row1 + first);
      b2 = weight_block(row2 + first);
      b3 = weight_block(row3 + first);
    }
    let col = first + 4u * j;
    let c = x0 + col;
    let xa0 = x4(c, col, s0);
    let xb0 = x4(c + half, col + half, s0);
    let xa1 = x4(c + COLS, col, s1);
    let xb1 = x4(c + COLS + half, col + half, s1);
    let xa2 = x4(c + 2u * COLS, col, s2);
    let xb2 = x4(c + 2u * COLS + half, col + half, s2);
    let xa3 = x4(c + 3u * COLS, col, s3);
    let xb3 = x4(c + 3u * COLS + half, col + half, s3);
    // Each token's range guard, as matvec.wgsl's (the same in every thread of the workgroup: no divergence).
    let e = vec4<i32>(act_exponent(xa0, xb0), act_exponent(xa1, xb1), act_exponent(xa2, xb2), act_exponent(xa3, xb3));
    let ya0 = act4(xa0, e.x); let yb0 = act4(xb0, e.x);
    let ya1 = act4(xa1, e.y); let yb1 = act4(xb1, e.y);
    let ya2 = act4(xa2, e.z); let yb2 = act4(xb2, e.z);
    let ya3 = act4(xa3, e.w); let yb3 = act4(xb3, e.w);
    let w0 = weight8(b0, j);
    let w1 = weight8(b1, j);
    let w2 = weight8(b2, j);
    let w3 = weight8(b3, j);
    // Per token: scaled inputs carry the step's sums at once, the others add to the Act sums.
    if (CARRY_SUMS && e.x != 0) {
      carried0_0 += unscaled(w0[0] * ya0 + w0[1] * yb0, e.x); carried1_0 += unscaled(w1[0] * ya0 + w1[1] * yb0, e.x);
      carried2_0 += unscaled(w2[0] * ya0 + w2[1] * yb0, e.x); carried3_0 += unscaled(w3[0] * ya0 + w3[1] * yb0, e.x);
    } else {
      acc0_0 += w0[0] * ya0 + w0[1] * yb0; acc1_0 += w1[0] * ya0 + w1[1] * yb0;
      acc2_0 += w2[0] * ya0 + w2[1] * yb0; acc3_0 += w3[0] * ya0 + w3[1] * yb0;
    }
    if (CARRY_SUMS && e.y != 0) {
      carried0_1 += unscaled(w0[0] * ya1 + w0[1] * yb1, e.y); carried1_1 += unscaled(w1[0] * ya1 + w1[1] * yb1, e.y);
      carried2_1 += unscaled(w2[0] * ya1 + w2[1] * yb1, e.y); carried3_1 += unscaled(w3[0] * ya1 + w3[1] * yb1, e.y);
    } else {
      acc0_1 += w0[0] * ya1 + w0[1] * yb1; acc1_1 += w1[0] * ya1 + w1[1] * yb1;
      acc2_1 += w2[0] * ya1 + w2[1] * yb1; acc3_1 += w3[0] * ya1 + w3[1] * yb1;
    }
    if (CARRY_SUMS && e.z != 0) {
      carried0_2 += unscaled(w0[0] * ya2 + w0[1] * yb2, e.z); carried1_2 += unscaled(w1[0] * ya2 + w1[1] * yb2, e.z);
      carried2_2 += unscaled(w2[0] * ya2 + w2[1] * yb2, e.z); carried3_2 += unscaled(w3[0] * ya2 + w3[1] * yb2, e.z);
    } else {
      acc0_2 += w0[0] * ya2 + w0[1] * yb2; acc1_2 += w1[0] * ya2 + w1[1] * yb2;
      acc2_2 += w2[0] * ya2 + w2[1] * yb2; acc3_2 += w3[0] * ya2 + w3[1] * yb2;
    }
    if (CARRY_SUMS && e.w != 0) {
      carried0_3 += unscaled(w0[0] * ya3 + w0[1] * yb3, e.w); carried1_3 += unscaled(w1[0] * ya3 + w1[1] * yb3, e.w);
      carried2_3 += unscaled(w2[0] * ya3 + w2[1] * yb3, e.w); carried3_3 += unscaled(w3[0] * ya3 + w3[1] * yb3, e.w);
    } else {
      acc0_3 += w0[0] * ya3 + w0[1] * yb3; acc1_3 += w1[0] * ya3 + w1[1] * yb3;
      acc2_3 += w2[0] * ya3 + w2[1] * yb3; acc3_3 += w3[0] * ya3 + w3[1] * yb3;
    }
    if (CARRY_SUMS && (k & (CARRY_STEPS - 1u)) == CARRY_STEPS - 1u) {
      carried0_0 += vec4<f32>(acc0_0); carried0_1 += vec4<f32>(acc0_1); carried0_2 += vec4<f32>(acc0_2); carried0_3 += vec4<f32>(acc0_3);
      carried1_0 += vec4<f32>(acc1_0); carried1_1 += vec4<f32>(acc1_1); carried1_2 += vec4<f32>(acc1_2); carried1_3 += vec4<f32>(acc1_3);
      carried2_0 += vec4<f32>(acc2_0); carried2_1 += vec4<f32>(acc2_1); carried2_2 += vec4<f32>(acc2_2); carried2_3 += vec4<f32>(acc2_3);
      carried3_0 += vec4<f32>(acc3_0); carried3_1 += vec4<f32>(acc3_1); carried3_2 += vec4<f32>(acc3_2); carried3_3 += vec4<f32>(acc3_3);
      acc0_0 = vec4<Act>(0.0); acc0_1 = vec4<Act>(0.0); acc0_2 = vec4<Act>(0.0); acc0_3 = vec4<Act>(0.0);
      acc1_0 = vec4<Act>(0.0); acc1_1 = vec4<Act>(0.0); acc1_2 = vec4<Act>(0.0); acc1_3 = vec4<Act>(0.0);
      acc2_0 = vec4<Act>(0.0); acc2_1 = vec4<Act>(0.0); acc2_2 = vec4<Act>(0.0); acc2_3 = vec4<Act>(0.0);
      acc3_0 = vec4<Act>(0.0); acc3_1 = vec4<Act>(0.0); acc3_2 = vec4<Act>(0.0); acc3_3 = vec4<Act>(0.0);
    }
  }
  // Only f32/f16/bf16 rows (WEIGHT_BLOCK 8) can end past the last whole step (a const condition: see matvec.wgsl).
  if (WEIGHT_BLOCK == 8u) {
    for (var c = steps * 8u; c < COLS; c++) {
      let xt = vec4<f32>(x1(x0 + c, c, s0), x1(x0 + c + COLS, c, s1), x1(x0 + c + 2u * COLS, c, s2), x1(x0 + c + 3u * COLS, c, s3));
      let w0 = load_weight(row0 + c);
      let w1 = load_weight(row1 + c);
      let w2 = load_weight(row2 + c);
      let w3 = load_weight(row3 + c);
      let wc = vec4<Act>(w0, w1, w2, w3);
      // Token by token, as matvec.wgsl's tail: one element's guard, then its four rows' products.
      let e0 = act_exponent(vec4<f32>(xt.x), vec4<f32>(xt.x));
      let x0c = act4(vec4<f32>(xt.x), e0).x;
      if (CARRY_SUMS && e0 != 0) {
        let u = unscaled(wc * x0c, e0); carried0_0.x += u.x; carried1_0.x += u.y; carried2_0.x += u.z; carried3_0.x += u.w;
      } else {
        acc0_0.x += w0 * x0c; acc1_0.x += w1 * x0c; acc2_0.x += w2 * x0c; acc3_0.x += w3 * x0c;
      }
      let e1 = act_exponent(vec4<f32>(xt.y), vec4<f32>(xt.y));
      let x1c = act4(vec4<f32>(xt.y), e1).x;
      if (CARRY_SUMS && e1 != 0) {
        let u = unscaled(wc * x1c, e1); carried0_1.x += u.x; carried1_1.x += u.y; carried2_1.x += u.z; carried3_1.x += u.w;
      } else {
        acc0_1.x += w0 * x1c; acc1_1.x += w1 * x1c; acc2_1.x += w2 * x1c; acc3_1.x += w3 * x1c;
      }
      let e2 = act_exponent(vec4<f32>(xt.z), vec4<f32>(xt.z));
      let x2c = act4(vec4<f32>(xt.z), e2).x;
      if (CARRY_SUMS && e2 != 0) {
        let u = unscaled(wc * x2c, e2); carried0_2.x += u.x; carried1_2.x += u.y; carried2_2.x += u.z; carried3_2.x += u.w;
      } else {
        acc0_2.x += w0 * x2c; acc1_2.x += w1 * x2c; acc2_2.x += w2 * x2c; acc3_2.x += w3 * x2c;
      }
      let e3 = act_exponent(vec4<f32>(xt.w), vec4<f32>(xt.w));
      let x3c = act4(vec4<f32>(xt.w), e3).x;
      if (CARRY_SUMS && e3 != 0) {
        let u = unscaled(wc * x3c, e3); carried0_3.x += u.x; carried1_3.x += u.y; carried2_3.x += u.z; carried3_3.x += u.w;
      } else {
        acc0_3.x += w0 * x3c; acc1_3.x += w1 * x3c; acc2_3.x += w2 * x3c; acc3_3.x += w3 * x3c;
      }
    }
  }
  return mat4x4<f32>(
    vec4<f32>(total(acc0_0, carried0_0), total(acc1_0, carried1_0), total(acc2_0, carried2_0), total(acc3_0, carried3_0)),
    vec4<f32>(total(acc0_1, carried0_1), total(acc1_1, carried1_1), total(acc2_1, carried2_1), total(acc3_1, carried3_1)),
    vec4<f32>(total(acc0_2, carried0_2), total(acc1_2, carried1_2), total(acc2_2, carried2_2), total(acc3_2, carried3_2)),
    vec4<f32>(total(acc0_3, carried0_3), total(acc1_3, carried1_3), total(acc2_3, carried2_3), total(acc3_3, carried3_3)));
}
