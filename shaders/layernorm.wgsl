// Layer norm with bias (GPT-2): out = (x − mean(x)) · inverseSqrt(var(x) + EPS) · weight + bias.
// One workgroup per row (dispatch R for R rows of N). Two passes like ggml_norm (mean first, then the variance of x − mean),
// so a large mean cannot cancel the variance away; two barriers in total. Everything is relative to
// c, the row's first element: near a large common offset x − c is exact, so the f32 sums lose nothing to the offset.

override N: u32;
override EPS: f32;

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;             // [R, N]
@group(0) @binding(1) var<storage, read> weight: array<f32>;        // [N]
@group(0) @binding(2) var<storage, read> bias: array<f32>;          // [N]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;     // [R, N]

var<workgroup> partial_sum: array<f32, WG>;
var<workgroup> partial_sq: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = wid.x * N;
  let c = x[row];
  var sum = 0.0;
  for (var i = t; i < N; i += WG) {
    sum += x[row + i] - c;
  }
  partial_sum[t] = sum;
  workgroupBarrier();
  var total = 0.0;
  for (var k = 0u; k < WG; k++) {
    total += partial_sum[k];
  }
  let mean = total / f32(N); // of x − c

  var sq = 0.0;
  for (var i = t; i < N; i += WG) {
    let d = (x[row + i] - c) - mean;
    sq += d * d;
  }
  partial_sq[t] = sq;
  workgroupBarrier();
  var total_sq = 0.0;
  for (var k = 0u; k < WG; k++) {
    total_sq += partial_sq[k];
  }
  let scale = inverseSqrt(total_sq / f32(N) + EPS);
  for (var i = t; i < N; i += WG) {
    out[row + i] = ((x[row + i] - c) - mean) * scale * weight[i] + bias[i];
  }
}
