// The entry points of the one-token products whose lanes share rows (common/matvec-lanes.wgsl's float walk,
// common/matvec-q8-lanes.wgsl's 8-bit one), appended after either: main, main_bias, main_qkv and main_glu
// (common/products.wgsl's outputs and epilogues) over the walk's row_sums(rows, lane), ROWS_PER_WORKGROUP rows a
// workgroup (main_glu: two outputs), in an x by y grid of workgroups past maxComputeWorkgroupsPerDimension.
// Every lane computes the sums (they meet at the barriers); lane 0 writes them.

/// The workgroup's index in the (x, y) grid, row by row.
fn workgroup_index(wid: vec3<u32>, grid: vec3<u32>) -> u32 {
  return wid.x + wid.y * grid.x;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r0 = ROWS_PER_WORKGROUP * workgroup_index(wid, grid);
  let s = row_sums(four_rows(min(r0, ROWS - 1u), ROWS), lane);
  if (lane == 0u && r0 < ROWS) { store_rows_one(r0, s); }
}

@compute @workgroup_size(64)
fn main_bias(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r0 = ROWS_PER_WORKGROUP * workgroup_index(wid, grid);
  let s = row_sums(four_rows(min(r0, ROWS - 1u), ROWS), lane);
  if (lane == 0u && r0 < ROWS) { store_rows_one(r0, with_bias(r0, s)); }
}

@compute @workgroup_size(64)
fn main_qkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r0 = ROWS_PER_WORKGROUP * workgroup_index(wid, grid);
  let rows = qkv_rows(min(r0, ROWS - 1u));
  let s = row_sums(rows, lane);
  if (lane == 0u && r0 < ROWS) { store_rows_qkv(0u, r0, rows, s); }
}

@compute @workgroup_size(64)
fn main_glu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let outputs = ROWS / 2u;
  let g0 = 2u * workgroup_index(wid, grid);
  let s = row_sums(glu_rows(min(g0, outputs - 1u), outputs), lane);
  if (lane == 0u && g0 < outputs) { store_glu(0u, g0, s); }
}
