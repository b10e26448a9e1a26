// A gated FFN's activation in place: gate[i] = act(gate[i]) · up[i], act SiLU (ACT 0: SwiGLU) or GELU (ACT 1:
// GeGLU, ggml_geglu, Gemma) from common/activation.wgsl, for a gated FFN whose gate and up products ran
// separately (common/products.wgsl's main_glu fuses the three, with the same glu). Dispatch ceil(N / 64).

override N: u32;
override ACT: u32 = 0u;

@group(0) @binding(0) var<storage, read_write> gate: array<f32>;    // [N]
@group(0) @binding(1) var<storage, read> up: array<f32>;            // [N]

fn glu(g: f32, u: f32) -> f32 {
  if (ACT == 1u) { return gelu(g) * u; }
  return silu(g) * u;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  gate[i] = glu(gate[i], up[i]);
}
