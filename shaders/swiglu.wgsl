// SwiGLU in place: gate[i] = silu(gate[i]) · up[i] (common/activation.wgsl), for a gated FFN whose gate and up
// products ran separately (common/products.wgsl's main_glu fuses the three). Dispatch ceil(N / 64).

override N: u32;

@group(0) @binding(0) var<storage, read_write> gate: array<f32>;    // [N]
@group(0) @binding(1) var<storage, read> up: array<f32>;            // [N]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  gate[i] = silu(gate[i]) * up[i];
}
