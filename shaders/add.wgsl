// In place a[i] += b[i % B_LEN]: the residual add (B_LEN = N), or a bias [B_LEN] added to every row of a
// batch of rows. Dispatch ceil(elements / 64); N bounds the buffer (a whole batch), the dispatch decides
// how many rows are done.

override N: u32;
override B_LEN: u32 = N;

@group(0) @binding(0) var<storage, read_write> a: array<f32>;       // [N] (rows of B_LEN)
@group(0) @binding(1) var<storage, read> b: array<f32>;             // [B_LEN]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  a[i] += b[i % B_LEN];
}
