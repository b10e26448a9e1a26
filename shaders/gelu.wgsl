// GELU (tanh approximation, as ggml_gelu) in place: x = gelu(x) (common/activation.wgsl). GPT-2's MLP
// activation. Dispatch ceil(N / 64).

override N: u32;

@group(0) @binding(0) var<storage, read_write> x: array<f32>;       // [N]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  x[i] = gelu(x[i]);
}
