// Logit soft-capping in place (Gemma 2 final logits): x = CAP · tanh(x / CAP), CAP > 0.
// Dispatch ceil(N / 64).

override N: u32;
override CAP: f32;

@group(0) @binding(0) var<storage, read_write> x: array<f32>;       // [N]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  // Clamped: |tanh| rounds to 1 long before 10, and tanh through exp would overflow to NaN.
  x[i] = tanh(clamp(x[i] / CAP, -10.0, 10.0)) * CAP;
}
