// GeGLU in place: gate[i] = gelu(gate[i]) · up[i], gelu the tanh approximation (ggml_geglu, Gemma).
// Dispatch ceil(N / 64).

override N: u32;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_COEF_A: f32 = 0.044715;

@group(0) @binding(0) var<storage, read_write> gate: array<f32>;    // [N]
@group(0) @binding(1) var<storage, read> up: array<f32>;            // [N]

// Clamped like gelu.wgsl: tanh through exp would overflow to NaN for large |u|.
fn gelu(v: f32) -> f32 {
  let u = clamp(SQRT_2_OVER_PI * v * (1.0 + GELU_COEF_A * v * v), -10.0, 10.0);
  return 0.5 * v * (1.0 + tanh(u));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  gate[i] = gelu(gate[i]) * up[i];
}
