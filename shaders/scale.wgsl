// Scale in place: x[i] *= SCALE (Gemma's embedding scale √dim). Dispatch ceil(N / 64).

override N: u32;
override SCALE: f32;

@group(0) @binding(0) var<storage, read_write> x: array<f32>;       // [N]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  x[i] *= SCALE;
}
