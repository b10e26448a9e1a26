// Compute-precision preamble: f16 arithmetic, for adapters with the `shader-f16` feature (chosen at load).
// Weights are dequantized to f16 and multiplied and summed in f16 (twice the lanes per register on GPUs
// with native f16); each group of products is carried into an f32 total, so a long row adds many small f16
// sums instead of rounding one big one. Activations stay f32 in memory and are rounded to f16 as read.
// f16 spans ±65504 with 11 significant bits: products and a group's sum must stay inside it (they are
// products of weights with normed activations), and each result is good to about 1e-3 relative.
enable f16;

alias Act = f16;

/// Kernels sum products in f16 within a group of weights (matvec: 32) and carry each group's sum in f32.
const CARRY_SUMS: bool = true;
