// Compute-precision preamble: f32 arithmetic, on every adapter. It comes first in every weight kernel,
// before the dtype preamble; both are written against `Act`, the type weights are dequantized to and
// multiplied in, so one source serves f32 and f16 (act-f16.wgsl). f32 is the reference path: with Act = f32
// every kernel computes exactly what it did before there was a choice.
alias Act = f32;

/// Whether kernels sum products in Act only within a group of weights and carry each group's sum into an
/// f32 total. f32 sums need no carrying: they run through the whole row, in the order they always have.
const CARRY_SUMS: bool = false;
