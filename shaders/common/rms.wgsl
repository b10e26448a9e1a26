// RMSNorm fused into the kernel that reads its output (the float products matvec and matmul, and quantize-q8,
// the input stage of the 8-bit products): with NORM the kernel reads x · rms_scale · norm_weight instead of x,
// so no separate rmsnorm dispatch writes the normed copy. The kernel provides COLS (the row length) and
// x_at(i) (element i of its x); prepended to those kernels (WGSL has no imports).
// rms_scale sums x² in rmsnorm.wgsl's order (64 strided partial sums, then the partials in order) and scales as
// it does, so the activations a kernel sees are bit for bit the ones rmsnorm.wgsl writes. Each thread computes
// its row's scale itself: one more pass over a row it reads anyway, and no barrier.

override NORM: bool = false;
override EPS: f32 = 0.0;

/// [COLS] f32: the norm's weight. Without NORM it is never read, but the kernel's layout has it: bind any buffer (x).
@group(0) @binding(3) var<storage, read> norm_weight: array<f32>;

const RMS_PARTIALS: u32 = 64u; // rmsnorm.wgsl's workgroup size

/// inverseSqrt(mean(x²) + EPS) of the row of COLS elements starting at element `first` of x.
fn rms_scale(first: u32) -> f32 {
  var total = 0.0;
  for (var k = 0u; k < RMS_PARTIALS; k++) {
    var partial = 0.0;
    for (var i = k; i < COLS; i += RMS_PARTIALS) {
      let v = x_at(first + i);
      partial += v * v;
    }
    total += partial;
  }
  return inverseSqrt(total / f32(COLS) + EPS);
}

/// rms_scale of the row at `first` with NORM, else 1 (a branch on a constant, so without NORM no pass is compiled).
fn norm_scale(first: u32) -> f32 {
  if (NORM) { return rms_scale(first); }
  return 1.0;
}

/// Elements [c, c + 4) of the normed row (c: column) from their raw values v.
fn normed4(v: vec4<f32>, c: u32, scale: f32) -> vec4<f32> {
  return v * scale * vec4<f32>(norm_weight[c], norm_weight[c + 1u], norm_weight[c + 2u], norm_weight[c + 3u]);
}
