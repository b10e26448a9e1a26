// Compute-precision preamble: f32 arithmetic, on every adapter. It comes first in every weight kernel,
// before the dtype preamble; both are written against `Act`, the type weights are dequantized to and
// multiplied in, so one source serves f32 and f16 (act-f16.wgsl). f32 is the reference path: with Act = f32
// every kernel computes exactly what it did before there was a choice.
alias Act = f32;

/// Whether kernels sum products in Act only within a group of weights and carry each group's sum into an
/// f32 total. f32 sums need no carrying: they run through the whole row, in the order they always have.
const CARRY_SUMS: bool = false;

// act-f16.wgsl's range guard, which f32 does not need: inputs are never scaled (e is always 0), so act4 and
// unscaled are the identity and the kernels' scaled branch (under CARRY_SUMS) is never compiled in.
fn act_exponent(a: vec4<f32>, b: vec4<f32>) -> i32 { return 0; }
fn act4(v: vec4<f32>, e: i32) -> vec4<Act> { return v; }
fn unscaled(s: vec4<Act>, e: i32) -> vec4<f32> { return s; }
