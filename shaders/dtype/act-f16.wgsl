// Compute-precision preamble: f16 arithmetic, for adapters with the `shader-f16` feature (chosen at load).
// Weights are dequantized to f16 and multiplied and summed in f16 (twice the lanes per register on GPUs
// with native f16); each group of products is carried into an f32 total, so a long row adds many small f16
// sums instead of rounding one big one. Activations stay f32 in memory and are rounded to f16 as read.
// f16 spans ±65504 with 11 significant bits, and activations that no norm bounds (ffn_down's input, the
// attention output) exceed that in real checkpoints (Gemma 2/3, Qwen2.5). So the products look at each step's
// inputs (the 8 activations one step of 8 weights multiplies) before rounding them: while all are below
// 2^ACT_RANGE_LOG2 they are rounded as they are and their products summed in f16 as above; otherwise they are
// scaled by a power of two 2^-e that brings them below it (exact), multiplied in f16, and that step's sum goes
// straight into the f32 total times 2^e (exact again). Why this and not f32 arithmetic for large inputs: the
// scaled step still multiplies in f16 (GPUs keep their f16 rate on checkpoints that hit it often), the common
// step costs one max over its 8 inputs and a branch that is uniform where threads share the input (matvec,
// matmul), and results in the normal range are bit for bit what they were. The bound keeps a group sum (8
// products per lane, see matvec.wgsl) below 65504 for weights up to |w| < 31: 8 · 31 · 2^8 < 65504.
// Each result is good to about 1e-3 relative, with large inputs or not.
enable f16;

alias Act = f16;

/// Kernels sum products in f16 within a group of weights (matvec: 32) and carry each group's sum in f32.
const CARRY_SUMS: bool = true;

/// Inputs of magnitude below 2^ACT_RANGE_LOG2 are rounded to f16 unscaled.
const ACT_RANGE_LOG2: i32 = 8;

/// The e ≥ 0 by which a step's inputs a, b are scaled (x · 2^-e) before rounding to Act: 0 while every |x| is
/// below 2^ACT_RANGE_LOG2, else the least e that brings the largest below it (read off the f32 exponent bits).
fn act_exponent(a: vec4<f32>, b: vec4<f32>) -> i32 {
  let m = max(abs(a), abs(b));
  let largest = max(max(m.x, m.y), max(m.z, m.w));
  return max(i32(bitcast<u32>(largest) >> 23u) - (126 + ACT_RANGE_LOG2), 0);
}

/// 2^e as an f32, exactly (|e| ≤ 126).
fn pow2(e: i32) -> f32 {
  return bitcast<f32>(u32(127 + e) << 23u);
}

/// Inputs v · 2^-e rounded to Act (e from act_exponent).
fn act4(v: vec4<f32>, e: i32) -> vec4<Act> {
  return vec4<Act>(v * pow2(-e));
}

/// A step's Act sum of products of inputs scaled by 2^-e, in f32 at full scale.
fn unscaled(s: vec4<Act>, e: i32) -> vec4<f32> {
  return vec4<f32>(s) * pow2(e);
}
