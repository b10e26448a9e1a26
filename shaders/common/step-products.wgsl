// The arithmetic of a step (8 weights of each of four rows) that the float products share, so that each sums a
// row exactly as the others do (matvec.wgsl, matmul.wgsl, and matvec-subgroup.wgsl / matvec-workgroup.wgsl through
// common/matvec-lanes.wgsl). After the compute-precision and dtype preambles (Act, CARRY_SUMS, weight8's
// mat2x4<Act>), composed by src/gpu/shaders.ts. Values in and out, no pointers: a kernel keeps its sums in plain
// variables (SwiftShader keeps private arrays, and structs behind pointers, in memory). A kernel calls
// step_products inside each branch of its range guard, where the products are summed: computed once above the
// branch, the f16 arithmetic compiles differently on lavapipe and the logits change.

/// The step's products of four rows' weights (weight8: elements [4j, 4j + 4) and [H + 4j, H + 4j + 4)) and one
/// input's 8 elements (ya, yb, in Act after the range guard), summed per lane: column i is row i's.
fn step_products(w0: mat2x4<Act>, w1: mat2x4<Act>, w2: mat2x4<Act>, w3: mat2x4<Act>, ya: vec4<Act>, yb: vec4<Act>) -> mat4x4<Act> {
  return mat4x4<Act>(w0[0] * ya + w0[1] * yb, w1[0] * ya + w1[1] * yb, w2[0] * ya + w2[1] * yb, w3[0] * ya + w3[1] * yb);
}

/// A row's f32 result (or a lane's share of it) from its Act sum and, with CARRY_SUMS, its carried f32 total.
fn total(acc: vec4<Act>, carried: vec4<f32>) -> f32 {
  let sum = select(vec4<f32>(acc), carried + vec4<f32>(acc), CARRY_SUMS);
  return (sum.x + sum.y) + (sum.z + sum.w);
}
