// The row walk and main_argmax of the one-token products whose lanes share rows (matvec-subgroup.wgsl,
// matvec-workgroup.wgsl), appended to each: the same product, bindings, overrides and preambles as matvec.wgsl
// (the compute-precision preamble: Act, CARRY_SUMS; a dtype preamble: WeightWords, WEIGHT_BLOCK, WeightBlock,
// weight_block, weight8, load_weight; common/products.wgsl and common/rms.wgsl before it). The kernel defines
// row_sums(rows, lane): it reduces lane_sums, each lane's share of four rows, across the workgroup.
// Layout: W [ROWS, COLS] row-major (raw weight words), x [COLS] f32, out [ROWS] f32. Quantized rows are whole
// blocks (COLS a multiple of 32 or 256); f32 rows may have any COLS and f16/bf16 rows any even COLS,
// their last < 8 elements read one by one.
// Dispatch: workgroup 64, ROWS_PER_WORKGROUP (4) rows per workgroup (main_glu: two outputs): ceil(ROWS / 4)
// workgroups, laid out as an x by y grid when they exceed the device's maxComputeWorkgroupsPerDimension (a
// 262144-row vocabulary head needs 65536); workgroup index = x + y · (grid width). Rows past the end (the last
// workgroup's, and whole workgroups of a grid's last line) re-read the last row (in bounds) and are not written.
// Why: on a GPU a row walked by one thread (matvec.wgsl) reads memory in scattered strides; here the 64 lanes
// of a workgroup walk the four rows together, lane i taking steps (8 weights) i, i + 64, i + 128, ..., so at
// each moment neighbouring lanes read neighbouring words of the same row (coalesced loads), and each x read
// serves four rows. Each lane decodes the block its step lies in (the neighbours decoding the same block hit
// the cache).
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

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [COLS]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS] (main), [Q_ROWS] (main_qkv), [ROWS / 2] (main_glu)
@group(0) @binding(9) var<storage, read_write> argmax_parts: array<u32>; // [2 · ARGMAX_PARTS] (main_argmax)

const WORKGROUP: u32 = 64u;
const ROWS_PER_WORKGROUP: u32 = 4u; // the four rows below; the host's grid is ceil(ROWS / 4) workgroups
const STEPS_PER_BLOCK: u32 = WEIGHT_BLOCK / 8u; // a power of two
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

/// This lane's share of Σ_c W[r, c] · x[c] for the four rows r of `rows` (in bounds). Called by all 64 lanes (uniform).
fn lane_sums(rows: vec4<u32>, lane: u32) -> vec4<f32> {
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
    let e = act_exponent(xa, xb); // lanes differ only where some step's inputs are beyond f16's comfortable range
    let ya = act4(xa, e);
    let yb = act4(xb, e);
    let w0 = weight8(weight_block(row0 + first), j);
    let w1 = weight8(weight_block(row1 + first), j);
    let w2 = weight8(weight_block(row2 + first), j);
    let w3 = weight8(weight_block(row3 + first), j);
    if (CARRY_SUMS && e != 0) { // scaled inputs (matvec.wgsl): the step's sums carried at once
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
      var xf = vec4<f32>(x[c]);
      if (NORM) { xf = vec4<f32>(x[c] * scale * norm_weight[c]); }
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

