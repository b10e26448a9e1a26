// The row walk of the one-token 8-bit-activation products for GPUs (precision 'q8' under the GPU
// profile), appended to a lane reduction (matvec-subgroup.wgsl or matvec-workgroup.wgsl, whose lanes_total(mine, lane)
// row_sums below applies to lane_sums across the workgroup): out[r] = Σ_blocks (d_w · d_x) · Σ_i w_q[i] · x_q[i], the product of
// matvec-q8.wgsl, with its bindings, overrides, preambles (a dtype preamble with q8_block, dtype/q8-act.wgsl) and
// the entry points of common/lane-entries.wgsl (appended after it): main (RESIDUAL, GELU), main_bias, main_qkv and
// main_glu (common/products.wgsl).
// Layout: W [ROWS, COLS] row-major (q4_0 or q8_0 blocks), xq [COLS / 32, 10] (quantize-q8.wgsl), out [ROWS] f32.
// Dispatch: workgroup 64, ROWS_PER_WORKGROUP (4) rows per workgroup (main_glu: two outputs), ceil(ROWS / 4)
// workgroups, laid out as an x by y grid past maxComputeWorkgroupsPerDimension (index x + y · grid width), as
// common/matvec-lanes.wgsl's; rows past the end re-read the last row (in bounds) and are not written.
// Why: matvec-q8.wgsl gives each thread four whole rows, so on a GPU neighbouring threads read addresses a row
// apart and a 16-thread workgroup fills a fraction of the lanes. Here the 64 lanes walk the four rows together,
// lane i taking blocks i, i + 64, i + 128, …, so at each moment neighbouring lanes read neighbouring blocks (18 or
// 34 bytes apart: the workgroup's loads cover contiguous memory), and each activation block read serves four rows.
// A whole block per lane (rather than part of one) keeps the integer sum of a block in one lane: one f32 scale
// multiply per 32 weights, and dtype/q8-act.wgsl's block_product, the very function matvec-q8 and matmul-q8 use.
// Sums: each block's product is bit for bit matvec-q8's; a lane sums its blocks in order in f32 and the reduction
// adds the lanes' sums in f32, so the row is the same block products added in another order than matvec-q8.wgsl
// and matmul-q8.wgsl add them: decoding with this kernel and a prefill pass agree within rounding, not bit for bit.
// Every lane reaches the reduction's barriers (no early return: they must be in uniform control flow).

override ROWS: u32;
override COLS: u32; // a multiple of 32

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> xq: array<u32>;            // [COLS / 32, 10] (quantize-q8.wgsl)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS] (main), [Q_ROWS] (main_qkv), [ROWS / 2] (main_glu)

const WORKGROUP: u32 = 64u;
const ROWS_PER_WORKGROUP: u32 = 4u; // the four rows below; the host's grid is ceil(ROWS / 4) workgroups

/// This lane's share of Σ_c W[r, c] · x[c] for the four rows r of `rows` (in bounds): its blocks, in order.
fn lane_sums(rows: vec4<u32>, lane: u32) -> vec4<f32> {
  let starts = rows * COLS;
  var acc = vec4<f32>(0.0);
  for (var b = lane; b < COLS / 32u; b += WORKGROUP) {
    let a = act_block(b * 10u);
    let c = 32u * b;
    acc += vec4<f32>(block_product(q8_block(starts.x + c), a), block_product(q8_block(starts.y + c), a),
                     block_product(q8_block(starts.z + c), a), block_product(q8_block(starts.w + c), a));
  }
  return acc;
}

/// Σ_c W[r, c] · x[c] for the four rows r of `rows` (in bounds), in every lane. Called by all 64 lanes (uniform).
fn row_sums(rows: vec4<u32>, lane: u32) -> vec4<f32> {
  return lanes_total(lane_sums(rows, lane), lane);
}
