// The entry points of the one-token products (matvec.wgsl, matvec-q8.wgsl), appended to each: the kernel
// defines row_sums(rows) (four rows' sums for the token), and these write them as out = W x (main), as
// out = W x + b (main_bias), as a [q; k; v] stack's three outputs (main_qkv) or as a gated FFN's act(gate) · up
// (main_glu); see common/products.wgsl. Workgroup 16, four rows a thread: ceil(ROWS / 64) workgroups (main,
// main_bias, main_qkv), and ceil(ROWS / 2 / 32) for main_glu, whose threads write two outputs each; laid out as
// an x by y grid where they exceed the device's maxComputeWorkgroupsPerDimension (threads numbered x + y · grid
// width).

const THREADS_PER_WORKGROUP: u32 = 16u;

/// The thread's index in the (x, y) grid, row by row.
fn thread_index(gid: vec3<u32>, grid: vec3<u32>) -> u32 {
  return gid.x + gid.y * grid.x * THREADS_PER_WORKGROUP;
}

@compute @workgroup_size(16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
  let r0 = 4u * thread_index(gid, grid);
  if (r0 >= ROWS) { return; }
  store_rows_one(r0, row_sums(four_rows(r0, ROWS)));
}

@compute @workgroup_size(16)
fn main_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
  let r0 = 4u * thread_index(gid, grid);
  if (r0 >= ROWS) { return; }
  store_rows_one(r0, with_bias(r0, row_sums(four_rows(r0, ROWS))));
}

@compute @workgroup_size(16)
fn main_qkv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
  let r0 = 4u * thread_index(gid, grid);
  if (r0 >= ROWS) { return; }
  let rows = qkv_rows(r0);
  store_rows_qkv(0u, r0, rows, row_sums(rows));
}

@compute @workgroup_size(16)
fn main_glu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
  let g0 = 2u * thread_index(gid, grid);
  if (g0 >= ROWS / 2u) { return; }
  store_glu(0u, g0, row_sums(glu_rows(g0, ROWS / 2u)));
}
