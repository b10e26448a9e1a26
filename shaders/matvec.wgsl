// Matrix-vector product: out[r] = Σ_c W[r, c] · x[c]. Needs the compute-precision preamble (Act, CARRY_SUMS)
// and a dtype preamble (WeightWords, WEIGHT_BLOCK, WeightBlock, weight_block, weight8, load_weight).
// One row per thread, workgroup 64: the fastest shape on both CPU backends (lavapipe, SwiftShader), which
// have no coalescing to exploit but pay heavily for barriers. Dispatch ceil(ROWS / 64).
// Weights are dequantized in registers, eight per step: weight8 returns elements [4j, 4j+4) and
// [H + 4j, H + 4j + 4) of a block (H = WEIGHT_BLOCK / 2), the pairs that ggml packs into the same bytes
// (low and high nibbles), so one read serves both. weight_block decodes a block's scales once, when the
// walk enters the block. One flat loop with a small body: on lavapipe a nested block loop or a longer
// unrolled body ran 2–3× slower. Quantized rows are whole blocks (COLS a multiple of 32 or 256); f32
// rows (any COLS) and f16/bf16 rows (COLS even) may end in up to 7 elements read one by one.
// Products are taken and summed in Act. With Act = f16 (CARRY_SUMS) each lane's sum covers one group of
// 32 weights (4 steps: 8 products per lane) and is then carried into an f32 total, so the f16 rounding error
// stays that of a 32-term sum however long the row; with Act = f32 the sum runs through the row uncarried.

override ROWS: u32;
override COLS: u32;

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [COLS]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS]

const STEPS_PER_BLOCK: u32 = WEIGHT_BLOCK / 8u; // a power of two
const CARRY_STEPS: u32 = 4u; // steps (of 8 weights) summed in Act before carrying into f32, when CARRY_SUMS

fn x4(c: u32) -> vec4<Act> { return vec4<Act>(vec4<f32>(x[c], x[c + 1u], x[c + 2u], x[c + 3u])); }

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= ROWS) { return; }
  let row = r * COLS;
  // Four independent accumulators: the loop-carried add chain, not memory, bounds a CPU core here.
  var acc = vec4<Act>(0.0);
  var carried = vec4<f32>(0.0); // f16 only: the sums of the groups done so far
  var block: WeightBlock;
  let steps = (COLS / WEIGHT_BLOCK) * STEPS_PER_BLOCK;
  for (var k = 0u; k < steps; k++) {
    let j = k & (STEPS_PER_BLOCK - 1u);
    let first = (k / STEPS_PER_BLOCK) * WEIGHT_BLOCK;
    if (j == 0u) { block = weight_block(row + first); } // same k in every thread: no divergence
    let w = weight8(block, j);
    let c = first + 4u * j;
    acc += w[0] * x4(c) + w[1] * x4(c + WEIGHT_BLOCK / 2u);
    if (CARRY_SUMS && (k & (CARRY_STEPS - 1u)) == CARRY_STEPS - 1u) {
      carried += vec4<f32>(acc);
      acc = vec4<Act>(0.0);
    }
  }
  for (var c = steps * 8u; c < COLS; c++) {
    acc.x += load_weight(row + c) * Act(x[c]);
  }
  let sum = select(vec4<f32>(acc), carried + vec4<f32>(acc), CARRY_SUMS);
  out[r] = (sum.x + sum.y) + (sum.z + sum.w);
}
