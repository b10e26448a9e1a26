// The FFN activations, shared by the elementwise kernels (gelu, glu) and the gated products'
// epilogue (common/products.wgsl), so a fused gate/up product activates exactly as the separate kernels do.

/// SiLU: v / (1 + e^−v) (SwiGLU's gate).
fn silu(v: f32) -> f32 { return v / (1.0 + exp(-v)); }

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_COEF_A: f32 = 0.044715;

/// GELU, tanh approximation (ggml_gelu): 0.5·v·(1 + tanh(√(2/π)·v·(1 + 0.044715·v²))). The argument is clamped:
/// tanh is ±1 in f32 well before |u| = 10, and some drivers compute tanh through exp, which overflows to
/// inf/inf = NaN for large |u|.
fn gelu(v: f32) -> f32 {
  let u = clamp(SQRT_2_OVER_PI * v * (1.0 + GELU_COEF_A * v * v), -10.0, 10.0);
  return 0.5 * v * (1.0 + tanh(u));
}
