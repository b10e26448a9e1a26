// Residual add in place: a[i] += b[i]. Dispatch ceil(N / 64).

override N: u32;

@group(0) @binding(0) var<storage, read_write> a: array<f32>;       // [N]
@group(0) @binding(1) var<storage, read> b: array<f32>;             // [N]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  a[i] += b[i];
}
