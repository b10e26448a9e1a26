// Matrix-matrix product for a batch of tokens (prompt prefill): out[t, r] = Σ_c W[r, c] · x[t, c].
// Needs the compute-precision preamble (Act, CARRY_SUMS) and a dtype preamble (WeightWords, WEIGHT_BLOCK,
// WeightBlock, weight_block, weight8, load_weight).
// One thread per weight row and TILE tokens: each block is dequantized once, in registers, and applied to
// TILE token vectors. On the CPU adapters the per-thread (gathered) weight reads dominate, and the
// activation reads are uniform across the workgroup, so this runs ~1.5–2× faster per token than TILE
// matvec dispatches (lavapipe, 768×768 f32 and q8_0, 32 tokens); 8 tokens per thread was slower again,
// and workgroup memory or barriers cost far more than they save there.
// Each (row, token) sum is accumulated exactly as matvec.wgsl does it (in Act, carried into f32 when
// CARRY_SUMS), so prefill and decode give bit-identical results in either precision. x is read as vec4s, so COLS must be a multiple of 4.
// Dispatch (ceil(ROWS / 64), ceil(tokens / TILE)); x and out hold a whole number of tiles of token rows
// (the batch capacity is a multiple of TILE), so a tile needs no bounds check: rows past the batch's
// tokens compute values nobody reads. A matrix bound in row blocks gets one dispatch per block:
// ROW_START places the block's rows in out.

override ROWS: u32;
override COLS: u32;
override OUT_STRIDE: u32; // elements per output row: all rows of W
override ROW_START: u32 = 0u;

const TILE: u32 = 4u;

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [tokens, COLS / 4]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [tokens, OUT_STRIDE]

const STEPS_PER_BLOCK: u32 = WEIGHT_BLOCK / 8u; // a power of two
const CARRY_STEPS: u32 = 4u; // as in matvec.wgsl: steps summed in Act before carrying into f32, when CARRY_SUMS

// Elements [c, c + 4) and element c of the activations (c + 4 ≤ a row's end: c is a multiple of 4 in the block walk).
fn x4(c: u32) -> vec4<Act> { return vec4<Act>(x[c >> 2u]); }
fn x1(c: u32) -> Act { return Act(x[c >> 2u][c & 3u]); }

/// A token's f32 result from its Act sum and, with CARRY_SUMS, its carried f32 total.
fn total(acc: vec4<Act>, carried: vec4<f32>) -> f32 {
  let sum = select(vec4<f32>(acc), carried + vec4<f32>(acc), CARRY_SUMS);
  return (sum.x + sum.y) + (sum.z + sum.w);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= ROWS) { return; }
  let row = r * COLS;
  let x0 = gid.y * TILE * COLS; // first element of the tile's first token
  var acc0 = vec4<Act>(0.0);
  var acc1 = vec4<Act>(0.0);
  var acc2 = vec4<Act>(0.0);
  var acc3 = vec4<Act>(0.0);
  // f16 only: the sums of the groups done so far, per token.
  var carried0 = vec4<f32>(0.0);
  var carried1 = vec4<f32>(0.0);
  var carried2 = vec4<f32>(0.0);
  var carried3 = vec4<f32>(0.0);
  var block: WeightBlock;
  let steps = (COLS / WEIGHT_BLOCK) * STEPS_PER_BLOCK;
  let half = WEIGHT_BLOCK / 2u;
  for (var k = 0u; k < steps; k++) {
    let j = k & (STEPS_PER_BLOCK - 1u);
    let first = (k / STEPS_PER_BLOCK) * WEIGHT_BLOCK;
    if (j == 0u) { block = weight_block(row + first); } // same k in every thread: no divergence
    let w = weight8(block, j);
    let c = x0 + first + 4u * j;
    acc0 += w[0] * x4(c) + w[1] * x4(c + half);
    acc1 += w[0] * x4(c + COLS) + w[1] * x4(c + COLS + half);
    acc2 += w[0] * x4(c + 2u * COLS) + w[1] * x4(c + 2u * COLS + half);
    acc3 += w[0] * x4(c + 3u * COLS) + w[1] * x4(c + 3u * COLS + half);
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
  // Only f32/f16/bf16 rows (WEIGHT_BLOCK 8) can end past the last whole step (a const condition: see matvec.wgsl).
  if (WEIGHT_BLOCK == 8u) {
    for (var c = steps * 8u; c < COLS; c++) {
      let w = load_weight(row + c);
      let xc = x0 + c;
      acc0.x += w * x1(xc);
      acc1.x += w * x1(xc + COLS);
      acc2.x += w * x1(xc + 2u * COLS);
      acc3.x += w * x1(xc + 3u * COLS);
    }
  }
  let o = gid.y * TILE * OUT_STRIDE + ROW_START + r;
  out[o] = total(acc0, carried0);
  out[o + OUT_STRIDE] = total(acc1, carried1);
  out[o + 2u * OUT_STRIDE] = total(acc2, carried2);
  out[o + 3u * OUT_STRIDE] = total(acc3, carried3);
}
