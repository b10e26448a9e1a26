// Matrix-vector product with subgroup reductions, for GPUs: out[r] = Σ_c W[r, c] · x[c], the same product,
// bindings, overrides and preambles as matvec.wgsl (the compute-precision preamble: Act, CARRY_SUMS; a dtype
// preamble: WeightWords, WEIGHT_BLOCK, WeightBlock, weight_block, weight8, load_weight). Needs the device
// feature 'subgroups': shaderSource puts `enable subgroups;` at the top of the module.
// Layout: W [ROWS, COLS] row-major (raw weight words), x [COLS] f32, out [ROWS] f32. Quantized rows are whole
// blocks (COLS a multiple of 32 or 256); f32 rows may have any COLS and f16/bf16 rows any even COLS,
// their last < 8 elements read one by one.
// Dispatch: workgroup 64, ROWS_PER_WORKGROUP (4) rows per workgroup: dispatchWorkgroups(ceil(ROWS / 4)),
// whatever the subgroup size. Rows past the end re-read the last row (in bounds) and are not written.
// Why: on a GPU a row walked by one thread (matvec.wgsl) reads memory in scattered strides; here the 64 lanes
// of a workgroup walk the four rows together, lane i taking steps (8 weights) i, i + 64, i + 128, ..., so at
// each moment neighbouring lanes read neighbouring words of the same row (coalesced loads), and each x read
// serves four rows. Each lane decodes the block its step lies in (the neighbours decoding the same block hit
// the cache). The lanes' four row sums are then reduced with one subgroupAdd (vec4: all four rows at once);
// one elected lane per subgroup writes them to a workgroup slot of its own (its local index, so nothing is
// assumed about how the invocations of a workgroup are grouped into subgroups, nor about the subgroup size:
// WebGPU allows 4 to 128; a subgroup larger than the workgroup is simply partly empty); after the one
// workgroupBarrier, four lanes add the 64 slots (the unused ones hold 0, which adds exactly) and write the rows.
// Every lane reaches subgroupAdd and the barrier (no early return: they must be in uniform control flow).
// Chosen only on GPUs (the 'subgroups' feature and not runsOnCpu): the CPU adapters (lavapipe, SwiftShader)
// have no coalescing to gain and pay for the barrier and the per-step block decoding; they keep matvec.wgsl.
// Sums: each lane sums its steps' products in Act; with Act = f16 (CARRY_SUMS) a lane carries its sum into
// an f32 total every 4 of its steps (32 weights: 8 products per vec4 lane), as matvec.wgsl does, so the f16
// rounding stays that of short sums however long the row; the reduction across lanes is f32. The products are
// summed in another order than matvec.wgsl and matmul.wgsl sum them (lanes split each row), so a prefill pass
// (matmul) and decoding with this kernel agree within rounding, not bit for bit.
// Entry points as matvec.wgsl's (common/products.wgsl): main; main_qkv; main_glu, whose workgroups each write two
// outputs (dispatch ceil(ROWS / 2 / 2)). With NORM (common/rms.wgsl) the 64 lanes sum x² exactly as
// rmsnorm.wgsl's 64 threads do (one more barrier), so the normed input is bit for bit rmsnorm.wgsl's.

override ROWS: u32;
override COLS: u32;

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [COLS]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS] (main), [Q_ROWS] (main_qkv), [ROWS / 2] (main_glu)

const WORKGROUP: u32 = 64u;
const ROWS_PER_WORKGROUP: u32 = 4u; // the four rows below; the host's grid is ceil(ROWS / 4)
const STEPS_PER_BLOCK: u32 = WEIGHT_BLOCK / 8u; // a power of two
const CARRY_STEPS: u32 = 4u; // a lane's steps (of 8 weights) summed in Act before carrying into f32, when CARRY_SUMS

/// One slot per invocation: the four row sums of a subgroup, at the local index of its elected lane; 0 elsewhere.
var<workgroup> partials: array<vec4<f32>, WORKGROUP>;

var<workgroup> rms_partials: array<f32, WORKGROUP>;

fn x_at(i: u32) -> f32 { return x[i]; }

/// Elements [c, c + 4) of the input, normed when NORM.
fn x4(c: u32, scale: f32) -> vec4<Act> {
  let v = vec4<f32>(x[c], x[c + 1u], x[c + 2u], x[c + 3u]);
  if (NORM) { return vec4<Act>(normed4(v, c, scale)); }
  return vec4<Act>(v);
}

/// rmsnorm.wgsl's scale of x, its 64 partial sums taken by the 64 lanes (called by every lane).
fn workgroup_rms_scale(lane: u32) -> f32 {
  var sum = 0.0;
  for (var i = lane; i < COLS; i += WORKGROUP) {
    let v = x[i];
    sum += v * v;
  }
  rms_partials[lane] = sum;
  workgroupBarrier();
  var total = 0.0;
  for (var k = 0u; k < WORKGROUP; k++) { total += rms_partials[k]; }
  return inverseSqrt(total / f32(COLS) + EPS);
}

/// A lane's f32 share of a row from its Act sum and, with CARRY_SUMS, its carried f32 total.
fn total(acc: vec4<Act>, carried: vec4<f32>) -> f32 {
  let sum = select(vec4<f32>(acc), carried + vec4<f32>(acc), CARRY_SUMS);
  return (sum.x + sum.y) + (sum.z + sum.w);
}

/// Σ_c W[r, c] · x[c] for the four rows r of `rows` (in bounds), in every lane. Called by all 64 lanes (uniform).
fn row_sums(rows: vec4<u32>, lane: u32) -> vec4<f32> {
  var scale = 1.0;
  if (NORM) { scale = workgroup_rms_scale(lane); }
  let row0 = rows.x * COLS;
  let row1 = rows.y * COLS;
  let row2 = rows.z * COLS;
  let row3 = rows.w * COLS;
  var acc0 = vec4<Act>(0.0);
  var acc1 = vec4<Act>(0.0);
  var acc2 = vec4<Act>(0.0);
  var acc3 = vec4<Act>(0.0);
  var carried0 = vec4<f32>(0.0);
  var carried1 = vec4<f32>(0.0);
  var carried2 = vec4<f32>(0.0);
  var carried3 = vec4<f32>(0.0);
  let steps = (COLS / WEIGHT_BLOCK) * STEPS_PER_BLOCK;
  var n = 0u; // this lane's steps so far
  for (var k = lane; k < steps; k += WORKGROUP) {
    let j = k & (STEPS_PER_BLOCK - 1u);
    let first = (k / STEPS_PER_BLOCK) * WEIGHT_BLOCK;
    let c = first + 4u * j;
    let xa = x4(c, scale);
    let xb = x4(c + WEIGHT_BLOCK / 2u, scale);
    let w0 = weight8(weight_block(row0 + first), j);
    let w1 = weight8(weight_block(row1 + first), j);
    let w2 = weight8(weight_block(row2 + first), j);
    let w3 = weight8(weight_block(row3 + first), j);
    acc0 += w0[0] * xa + w0[1] * xb;
    acc1 += w1[0] * xa + w1[1] * xb;
    acc2 += w2[0] * xa + w2[1] * xb;
    acc3 += w3[0] * xa + w3[1] * xb;
    n++;
    if (CARRY_SUMS && (n & (CARRY_STEPS - 1u)) == 0u) {
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
  // Only f32/f16/bf16 rows (WEIGHT_BLOCK 8) can end past the last whole step: fewer than 8 elements, one per lane.
  if (WEIGHT_BLOCK == 8u) {
    let c = steps * 8u + lane;
    if (c < COLS) {
      var xc = Act(x[c]);
      if (NORM) { xc = Act(x[c] * scale * norm_weight[c]); }
      acc0.x += load_weight(row0 + c) * xc;
      acc1.x += load_weight(row1 + c) * xc;
      acc2.x += load_weight(row2 + c) * xc;
      acc3.x += load_weight(row3 + c) * xc;
    }
  }
  let sums = subgroupAdd(vec4<f32>(total(acc0, carried0), total(acc1, carried1), total(acc2, carried2), total(acc3, carried3)));
  partials[lane] = select(vec4<f32>(0.0), sums, subgroupElect());
  workgroupBarrier();
  var result = vec4<f32>(0.0);
  for (var i = 0u; i < WORKGROUP; i++) { result += partials[i]; }
  return result;
}

// Every lane computes the sums (they meet at the barriers); lane 0 writes them.

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r0 = ROWS_PER_WORKGROUP * wid.x;
  let s = row_sums(four_rows(min(r0, ROWS - 1u), ROWS), lane);
  if (lane == 0u && r0 < ROWS) { store_rows_one(r0, s); }
}

@compute @workgroup_size(64)
fn main_qkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r0 = ROWS_PER_WORKGROUP * wid.x;
  let rows = qkv_rows(min(r0, ROWS - 1u));
  let s = row_sums(rows, lane);
  if (lane == 0u && r0 < ROWS) { store_rows_qkv(0u, r0, rows, s); }
}

@compute @workgroup_size(64)
fn main_glu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let outputs = ROWS / 2u;
  let g0 = 2u * wid.x;
  let s = row_sums(glu_rows(min(g0, outputs - 1u), outputs), lane);
  if (lane == 0u && g0 < outputs) { store_glu(0u, g0, s); }
}
