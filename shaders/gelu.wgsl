// GELU (tanh approximation, as ggml_gelu) in place: x = 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))).
// GPT-2's MLP activation. Dispatch ceil(N / 64).

override N: u32;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_COEF_A: f32 = 0.044715;

@group(0) @binding(0) var<storage, read_write> x: array<f32>;       // [N]

// The argument is clamped: tanh is ±1 in f32 well before |u| = 10, and some drivers compute
// tanh through exp, which overflows to inf/inf = NaN for large |u|.
fn gelu(v: f32) -> f32 {
  let u = clamp(SQRT_2_OVER_PI * v * (1.0 + GELU_COEF_A * v * v), -10.0, 10.0);
  return 0.5 * v * (1.0 + tanh(u));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  x[i] = gelu(x[i]);
}
