// main_qkv_mixed: main_qkv (common/lane-entries.wgsl) over a [q; k; v] whose rows lie in two matrices of two
// weight types, in one dispatch: a layer's q/k/v as llama-quantize's K-quant mixes write them (Q4_K_M: q and k
// Q4_K, v Q6_K in about half the layers), which would otherwise cost a product dispatch more per layer. Rows
// [0, SECOND_FIRST) are W's (the module's dtype), rows [SECOND_FIRST, ROWS) are W_second's, read through the second
// type's preamble and common/lane-walk.wgsl appended once more with every name they declare suffixed `_second`
// (src/gpu/shaders.ts): row_sums_second. Appended after common/lane-entries.wgsl in the float lane kernels.
// A workgroup's four rows lie in one matrix (SECOND_FIRST is a multiple of 4, at a projection's first row, so rope
// pairs never straddle it), so each workgroup takes one walk: the branch is uniform (the workgroup id), as the
// barriers inside the walk need. Each row's sum is the very arithmetic of its own matrix's main_qkv, and the
// epilogue (bias over all [q; k; v] rows, rope, the cache write) is main_qkv's.

override SECOND_FIRST: u32 = 0u;

@group(0) @binding(10) var<storage, read> W_second: WeightWords_second; // [ROWS − SECOND_FIRST, COLS], the second type

@compute @workgroup_size(64)
fn main_qkv_mixed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r0 = ROWS_PER_WORKGROUP * workgroup_index(wid, grid);
  let rows = qkv_rows(min(r0, ROWS - 1u));
  var s: vec4<f32>;
  if (min(r0, ROWS - 1u) < SECOND_FIRST) {
    s = row_sums(rows, lane);
  } else {
    s = row_sums_second(rows - vec4<u32>(SECOND_FIRST), lane);
  }
  if (lane == 0u && r0 < ROWS) { store_rows_qkv(0u, r0, rows, s); }
}
