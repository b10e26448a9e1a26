// Activations quantized to 8-bit integers per block of 32, for the integer-dot weight kernels (matvec-q8,
// matmul-q8): llama.cpp's q8_0 activations (its CPU backend multiplies q4_0 and q8_0 weights with them),
// except that the block scale stays f32 instead of being rounded to f16.
// Block b of token t: d = max|x| / 127, q[i] = round(x[i] / d) (round half to even; 0 when d = 0), and
// Σ q[i] (q4_0 weights, stored unsigned, subtract 8·Σq). Stored as 10 words: d (f32 bits), Σq (i32 bits),
// then the 32 quants four to a word (element 4k in the low byte of word k): xq [T, COLS / 32, 10].
// One thread per block; dispatch (ceil(COLS / 32 / 64), T). With NORM the blocks are those of rmsnorm(x) · weight
// (common/rms.wgsl), bit for bit what rmsnorm.wgsl would write: the norm before an 8-bit product, fused.

override COLS: u32; // a multiple of 32

@group(0) @binding(0) var<storage, read> x: array<f32>;          // [T, COLS]
@group(0) @binding(1) var<storage, read_write> xq: array<u32>;   // [T, COLS / 32, 10]

fn x_at(i: u32) -> f32 { return x[i]; }

/// Elements [c, c + 4) of the row starting at element `row` (normed when NORM, with the row's scale).
fn x4(row: u32, c: u32, scale: f32) -> vec4<f32> {
  let v = vec4<f32>(x[row + c], x[row + c + 1u], x[row + c + 2u], x[row + c + 3u]);
  if (NORM) { return normed4(v, c, scale); }
  return v;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = COLS / 32u;
  let b = gid.x;
  if (b >= blocks) { return; }
  let row = gid.y * COLS;
  let first = 32u * b; // the block's first column
  let scale = norm_scale(row);
  var amax = vec4<f32>(0.0);
  for (var k = 0u; k < 8u; k++) { amax = max(amax, abs(x4(row, first + 4u * k, scale))); }
  let d = max(max(amax.x, amax.y), max(amax.z, amax.w)) / 127.0;
  let o = (gid.y * blocks + b) * 10u;
  var sum = vec4<i32>(0);
  for (var k = 0u; k < 8u; k++) {
    // |x / d| ≤ 127 up to rounding, and clamped so that an inexact division cannot give 128.
    let q = select(vec4<i32>(0), vec4<i32>(clamp(round(x4(row, first + 4u * k, scale) / d), vec4<f32>(-127.0), vec4<f32>(127.0))), d > 0.0);
    sum += q;
    xq[o + 2u + k] = pack4xI8(q);
  }
  xq[o] = bitcast<u32>(d);
  xq[o + 1u] = bitcast<u32>((sum.x + sum.y) + (sum.z + sum.w));
}
