// The row walk and main_argmax of the one-token products whose lanes share rows (matvec-subgroup.wgsl,
// matvec-workgroup.wgsl), appended to each: the same product, bindings, overrides and preambles as matvec.wgsl
// (the compute-precision preamble: Act, CARRY_SUMS; a dtype preamble: WeightWords, WEIGHT_BLOCK, WeightBlock,
// weight_block, weight8, load_weight; common/products.wgsl and common/rms.wgsl before it). The kernel defines
// lanes_total(mine, lane), the reduction across the workgroup; the walk's part that reads the weights (lane_sums,
// each lane's share of four rows, and row_sums) is common/lane-walk.wgsl, appended after this file.
// Layout: W [ROWS, COLS] row-major (raw weight words), x [COLS] f32, out [ROWS] f32. Quantized rows are whole
// blocks (COLS a multiple of 32 or 256); f32 rows may have any COLS and f16/bf16 rows any even COLS,
// their last < 8 elements read one by one.
// Dispatch: workgroup 64, ROWS_PER_WORKGROUP (4) rows per workgroup (main_glu: two outputs): ceil(ROWS / 4)
// workgroups, laid out as an x by y grid when they exceed the device's maxComputeWorkgroupsPerDimension (a
// 262144-row vocabulary head needs 65536); workgroup index = x + y · (grid width). Rows past the end (the last
// workgroup's, and whole workgroups of a grid's last line) re-read the last row (in bounds) and are not written.
// Why: on a GPU a row walked by one thread (matvec.wgsl) reads memory in scattered strides; here the 64 lanes
// of a workgroup walk the four rows together, lane i taking runs (of LANE_STEPS steps of 8 weights) i, i + 64,
// i + 128, ..., so at each moment neighbouring lanes read neighbouring words of the same row (coalesced loads),
// and each x read serves four rows. Each lane decodes the block its run lies in once for the run (the neighbours
// decoding the same block hit the cache): longer runs decode a K-quant's scales less often, shorter ones keep
// more lanes busy on short rows.
// Every lane reaches the kernel's reduction and the barriers (no early return: they must be in uniform control
// flow).
// Sums: each lane sums its steps' products in Act; with Act = f16 (CARRY_SUMS) a lane carries its sum into
// an f32 total every 4 of its steps (32 weights: 8 products per vec4 lane), as matvec.wgsl does, so the f16
// rounding stays that of short sums however long the row; the reduction across lanes is f32. The products are
// summed in another order than matvec.wgsl and matmul.wgsl sum them (lanes split each row), so a prefill pass
// (matmul) and decoding with these kernels agree within rounding, not bit for bit. Each step's inputs pass the
// precision preamble's range guard as in matvec.wgsl (f16: activations beyond its range are scaled, exactly).
// With NORM (common/rms.wgsl) the 64 lanes sum x² exactly as rmsnorm.wgsl's 64 threads do (one more barrier),
// so the normed input is bit for bit rmsnorm.wgsl's.

// main_argmax (on the output head or one row block of it): main (without RESIDUAL), and each workgroup also
// writes the (max, index) of the rows it wrote into slot ROW_START / 4 + (its index) of argmax_parts, the layout
// of argmax.wgsl's `parts` (ARGMAX_PARTS max values as f32 bits, then their indices), so that argmax.wgsl's
// `finish` alone reduces them: the wide argmax's `partials` pass, and its read of the whole logits, are gone. The workgroup's first
// row starts the scan and a later one replaces it only when strictly larger (the lowest index on ties; a NaN
// wins only as the first row, as in argmax.wgsl). A head bound in row blocks (one dispatch each, its rows from
// ROW_START, a multiple of 64) writes the slots of its own rows, so the blocks' slots make one contiguous array.

override ROWS: u32;
override COLS: u32;
override ARGMAX_PARTS: u32 = 1u; // main_argmax: the whole head's partials, ceil(its rows / 4)
override ROW_START: u32 = 0u;    // main_argmax: the block's first row in the head (the partials' indices and slots)
override LANE_STEPS: u32 = 1u;   // a lane's run: consecutive steps of one block (a power of two; lane-walk.wgsl caps it at the block's)

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [COLS]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS] (main), [Q_ROWS] (main_qkv), [ROWS / 2] (main_glu)
@group(0) @binding(9) var<storage, read_write> argmax_parts: array<u32>; // [2 · ARGMAX_PARTS] (main_argmax)

const WORKGROUP: u32 = 64u;
const ROWS_PER_WORKGROUP: u32 = 4u; // the four rows below; the host's grid is ceil(ROWS / 4) workgroups
const CARRY_STEPS: u32 = 4u; // a lane's steps (of 8 weights) summed in Act before carrying into f32, when CARRY_SUMS

var<workgroup> rms_partials: array<f32, WORKGROUP>;

fn x_at(i: u32) -> f32 { return x[i]; }

/// Elements [c, c + 4) of the input, normed when NORM (f32: act4 rounds them to Act).
fn x4(c: u32, scale: f32) -> vec4<f32> {
  let v = vec4<f32>(x[c], x[c + 1u], x[c + 2u], x[c + 3u]);
  if (NORM) { return normed4(v, c, scale); }
  return v;
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

/// main_argmax: the (max, lowest index on ties) of the sums s of rows r0 … r0 + 3 (those < ROWS) into workgroup g's slot.
fn store_argmax_part(g: u32, r0: u32, s: vec4<f32>) {
  var best = s.x;
  var index = r0;
  for (var i = 1u; i < ROWS_PER_WORKGROUP; i++) {
    if (r0 + i < ROWS && s[i] > best) {
      best = s[i];
      index = r0 + i;
    }
  }
  let slot = ROW_START / ROWS_PER_WORKGROUP + g;
  argmax_parts[slot] = bitcast<u32>(best);
  argmax_parts[ARGMAX_PARTS + slot] = ROW_START + index;
}

// An entry point of its own, not an override of main: a binding main only used under a false override would
// still be in main's layout (static use), and every other product would have to bind it.
@compute @workgroup_size(64)
fn main_argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let g = workgroup_index(wid, grid);
  let r0 = ROWS_PER_WORKGROUP * g;
  let s = row_sums(four_rows(min(r0, ROWS - 1u), ROWS), lane);
  if (lane == 0u && r0 < ROWS) {
    store_rows_one(r0, s);
    store_argmax_part(g, r0, s);
  }
}

