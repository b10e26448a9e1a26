// Matrix-vector product: out[r] = Σ_c W[r, c] · x[c]. Needs a dtype preamble (WeightWords, load_weight*).
// One row per thread, workgroup 64: the fastest shape on both CPU backends (lavapipe, SwiftShader),
// which have no coalescing to exploit but pay heavily for barriers. Dispatch ceil(ROWS / 64).
// COLS may be odd for f32; for f16 it is even, so every row starts on a whole u32 word.

override ROWS: u32;
override COLS: u32;

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [COLS]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= ROWS) { return; }
  let row = r * COLS;
  // Four independent accumulators: the loop-carried add chain, not memory, bounds a CPU core here.
  var acc = vec4<f32>(0.0);
  let cols4 = COLS & ~3u;
  for (var c = 0u; c < cols4; c += 4u) {
    let w01 = load_weight2(row + c);
    let w23 = load_weight2(row + c + 2u);
    acc += vec4<f32>(w01, w23) * vec4<f32>(x[c], x[c + 1u], x[c + 2u], x[c + 3u]);
  }
  for (var c = cols4; c < COLS; c++) {
    acc.x += load_weight(row + c) * x[c];
  }
  out[r] = (acc.x + acc.y) + (acc.z + acc.w);
}
