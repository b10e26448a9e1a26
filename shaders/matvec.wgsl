// Matrix-vector product: out[r] = Σ_c W[r, c] · x[c]. Needs the compute-precision preamble (Act, CARRY_SUMS)
// and a dtype preamble (WeightWords, WEIGHT_BLOCK, WeightBlock, weight_block, weight8, load_weight).
// Four rows per thread, workgroup 16 (64 rows per workgroup): dispatch ceil(ROWS / 64). The CPU backends
// (lavapipe, SwiftShader) have no coalescing to exploit and pay heavily for barriers, so each thread walks
// whole rows on its own; it walks four at once so that each activation read serves four rows. On SwiftShader
// every load is a per-lane gather, and on both the x reads cost as much as the weight reads (shaders/README.md).
// The four rows are named variables, not an array: SwiftShader keeps private arrays in memory.
// Weights are dequantized in registers, eight per step: weight8 returns elements [4j, 4j+4) and
// [H + 4j, H + 4j + 4) of a block (H = WEIGHT_BLOCK / 2), the pairs that ggml packs into the same bytes
// (low and high nibbles), so one read serves both. weight_block decodes a block's scales once, when the
// walk enters the block. One flat loop with a small body, which LLVM (lavapipe) keeps in registers. Quantized rows are whole blocks (COLS a multiple of 32 or 256); f32
// rows (any COLS) and f16/bf16 rows (COLS even) may end in up to 7 elements read one by one.
// Products are taken and summed in Act, each row exactly as matmul.wgsl sums it (so prefill equals decoding
// bit for bit). With Act = f16 (CARRY_SUMS) each lane's sum covers one group of 32 weights (4 steps: 8
// products per lane) and is then carried into an f32 total, so the f16 rounding error stays that of a
// 32-term sum however long the row; with Act = f32 the sum runs through the row uncarried. A step's eight
// inputs are rounded to Act through the precision preamble's range guard (act_exponent, act4): with f16, a step
// whose inputs reach 2^8 has them scaled down by a power of two and its sums carried into f32 at once
// (unscaled), so activations beyond f16's range (±65504) give finite, accurate sums (dtype/act-f16.wgsl).
// Entry points (common/matvec-entry.wgsl): main (out = W x), and main_qkv, main_glu for stacked projections
// (common/products.wgsl); each calls row_sums below. With NORM the input is
// rms-normed on the fly (common/rms.wgsl).

override ROWS: u32;
override COLS: u32;

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [COLS]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS] (main), [Q_ROWS] (main_qkv), [ROWS / 2] (main_glu)

const STEPS_PER_BLOCK: u32 = WEIGHT_BLOCK / 8u; // a power of two
const CARRY_STEPS: u32 = 4u; // steps (of 8 weights) summed in Act before carrying into f32, when CARRY_SUMS

fn x_at(i: u32) -> f32 { return x[i]; }

/// Elements [c, c + 4) of the input, normed when NORM (f32: act4 rounds them to Act).
fn x4(c: u32, scale: f32) -> vec4<f32> {
  let v = vec4<f32>(x[c], x[c + 1u], x[c + 2u], x[c + 3u]);
  if (NORM) { return normed4(v, c, scale); }
  return v;
}

fn x1(c: u32, scale: f32) -> f32 {
  if (NORM) { return x[c] * scale * norm_weight[c]; }
  return x[c];
}

/// A row's f32 result from its Act sum and, with CARRY_SUMS, its carried f32 total.
fn total(acc: vec4<Act>, carried: vec4<f32>) -> f32 {
  let sum = select(vec4<f32>(acc), carried + vec4<f32>(acc), CARRY_SUMS);
  return (sum.x + sum.y) + (sum.z + sum.w);
}

/// Σ_c W[r, c] · x[c] for the four rows r of `rows`.
fn row_sums(rows: vec4<u32>) -> vec4<f32> {
  let scale = norm_scale(0u);
  let row0 = rows.x * COLS;
  let row1 = rows.y * COLS;
  let row2 = rows.z * COLS;
  let row3 = rows.w * COLS;
  // Per row: products summed in Act, and (f16 only) the f32 total of the groups done so far. Plain variables,
  // not a struct behind a pointer: on SwiftShader that costs a quarter of the kernel's time.
  var acc0 = vec4<Act>(0.0);
  var acc1 = vec4<Act>(0.0);
  var acc2 = vec4<Act>(0.0);
  var acc3 = vec4<Act>(0.0);
  var carried0 = vec4<f32>(0.0);
  var carried1 = vec4<f32>(0.0);
  var carried2 = vec4<f32>(0.0);
  var carried3 = vec4<f32>(0.0);
  var b0: WeightBlock;
  var b1: WeightBlock;
  var b2: WeightBlock;
  var b3: WeightBlock;
  let steps = (COLS / WEIGHT_BLOCK) * STEPS_PER_BLOCK;
  for (var k = 0u; k < steps; k++) {
    let j = k & (STEPS_PER_BLOCK - 1u);
    let first = (k / STEPS_PER_BLOCK) * WEIGHT_BLOCK;
    if (j == 0u) { // same k in every thread: no divergence
      b0 = weight_block(row0 + first);
      b1 = weight_block(row1 + first);
      b2 = weight_block(row2 + first);
      b3 = weight_block(row3 + first);
    }
    let c = first + 4u * j;
    let xa = x4(c, scale);
    let xb = x4(c + WEIGHT_BLOCK / 2u, scale);
    let e = act_exponent(xa, xb); // the same in every thread: no divergence
    let ya = act4(xa, e);
    let yb = act4(xb, e);
    let w0 = weight8(b0, j);
    let w1 = weight8(b1, j);
    let w2 = weight8(b2, j);
    let w3 = weight8(b3, j);
    if (CARRY_SUMS && e != 0) { // inputs beyond f16's comfortable range, scaled: the step's sums carried at once
      carried0 += unscaled(w0[0] * ya + w0[1] * yb, e);
      carried1 += unscaled(w1[0] * ya + w1[1] * yb, e);
      carried2 += unscaled(w2[0] * ya + w2[1] * yb, e);
      carried3 += unscaled(w3[0] * ya + w3[1] * yb, e);
    } else {
      acc0 += w0[0] * ya + w0[1] * yb;
      acc1 += w1[0] * ya + w1[1] * yb;
      acc2 += w2[0] * ya + w2[1] * yb;
      acc3 += w3[0] * ya + w3[1] * yb;
    }
    if (CARRY_SUMS && (k & (CARRY_STEPS - 1u)) == CARRY_STEPS - 1u) {
      carried0 += vec4<f32>(acc0);
      carried1 += vec4<f32>(acc1);
      carried2 += vec4<f32>(acc2);
      carried3 += vec4<f32>(acc3);
      acc0 = vec4<Act>(0.0);
      acc1 = vec4<Act>(0.0);
      acc2 = vec4<Act>(0.0);
      acc3 = vec4<Act>(0.0);
    }
  }
  // Only f32/f16/bf16 rows (WEIGHT_BLOCK 8) can end past the last whole step; quantized rows are whole blocks.
  // A const condition, so quantized kernels carry no tail loop at all: on SwiftShader its mere presence (never
  // run) halved the q4_0 kernel's speed.
  if (WEIGHT_BLOCK == 8u) {
    for (var c = steps * 8u; c < COLS; c++) {
      let xf = vec4<f32>(x1(c, scale));
      let e = act_exponent(xf, xf);
      let xc = act4(xf, e).x;
      if (CARRY_SUMS && e != 0) {
        let s = unscaled(vec4<Act>(load_weight(row0 + c), load_weight(row1 + c), load_weight(row2 + c), load_weight(row3 + c)) * xc, e);
        carried0.x += s.x;
        carried1.x += s.y;
        carried2.x += s.z;
        carried3.x += s.w;
      } else {
        acc0.x += load_weight(row0 + c) * xc;
        acc1.x += load_weight(row1 + c) * xc;
        acc2.x += load_weight(row2 + c) * xc;
        acc3.x += load_weight(row3 + c) * xc;
      }
    }
  }
  return vec4<f32>(total(acc0, carried0), total(acc1, carried1), total(acc2, carried2), total(acc3, carried3));
}
