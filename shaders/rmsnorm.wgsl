// RMS norm of each row: out = x * inverseSqrt(mean(x²) + EPS) * weight, rows of N elements.
// Dispatch R workgroups for R rows: 1 for the model's [dim] vector, N_HEADS for per-head q/k norm
// (Qwen3, Gemma 3), where every row shares the same [N] weight.
// Each thread sums a strided slice, then ONE barrier, then every thread adds the 64 partials itself
// (in the same order, so all threads agree): barriers are very expensive on SwiftShader.

override N: u32;
override EPS: f32;

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;             // [R, N]
@group(0) @binding(1) var<storage, read> weight: array<f32>;        // [N]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [R, N]

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = wid.x * N;
  var sum = 0.0;
  for (var i = t; i < N; i += WG) {
    let v = x[row + i];
    sum += v * v;
  }
  partial[t] = sum;
  workgroupBarrier();
  var total = 0.0;
  for (var k = 0u; k < WG; k++) {
    total += partial[k];
  }
  let scale = inverseSqrt(total / f32(N) + EPS);
  for (var i = t; i < N; i += WG) {
    out[row + i] = x[row + i] * scale * weight[i];
  }
}
