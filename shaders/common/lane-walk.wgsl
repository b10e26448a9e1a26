// The weight-type part of the float row walk of common/matvec-lanes.wgsl (appended after it): lane_sums, each
// lane's share of four rows through the dtype preamble's weight_block and weight8, and row_sums, those shares
// reduced across the workgroup by the kernel's lanes_total (matvec-subgroup.wgsl, matvec-workgroup.wgsl). A file
// of its own because it is the part a second weight type repeats: a [q; k; v] of two types (common/lane-qkv-mixed.wgsl)
// appends it once more with the second type's preamble, every name the two declare suffixed (src/gpu/shaders.ts).

const STEPS_PER_BLOCK: u32 = WEIGHT_BLOCK / 8u; // a power of two

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
  // A lane takes `run` consecutive steps of one block (LANE_STEPS, at most the block's steps; both powers of two,
  // so a run never crosses a block) and decodes the block's scales once for them.
  let run = min(LANE_STEPS, STEPS_PER_BLOCK);
  var n = 0u; // this lane's steps so far
  for (var u = lane; u < steps / run; u += WORKGROUP) {
    let k = u * run;
    let first = (k / STEPS_PER_BLOCK) * WEIGHT_BLOCK;
    let b0 = weight_block(row0 + first);
    let b1 = weight_block(row1 + first);
    let b2 = weight_block(row2 + first);
    let b3 = weight_block(row3 + first);
    for (var j = k & (STEPS_PER_BLOCK - 1u); j < (k & (STEPS_PER_BLOCK - 1u)) + run; j++) {
      let c = first + 4u * j;
      let xa = x4(c, scale);
      let xb = x4(c + WEIGHT_BLOCK / 2u, scale);
      let e = act_exponent(xa, xb); // lanes differ only where some step's inputs are beyond f16's comfortable range
      let ya = act4(xa, e);
      let yb = act4(xb, e);
      let w0 = weight8(b0, j);
      let w1 = weight8(b1, j);
      let w2 = weight8(b2, j);
      let w3 = weight8(b3, j);
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

/// Σ_c W[r, c] · x[c] for the four rows r of `rows` (in bounds), in every lane. Called by all 64 lanes (uniform).
fn row_sums(rows: vec4<u32>, lane: u32) -> vec4<f32> {
  return lanes_total(lane_sums(rows, lane), lane);
}
