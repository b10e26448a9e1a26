// Matrix-vector product: out[r] = Σ_c W[r, c] · x[c]. Needs a dtype preamble (WeightWords, WeightBlock,
// weight_block, weight4, load_weight). One row per thread, workgroup 64: the fastest shape on both CPU
// backends (lavapipe, SwiftShader), which have no coalescing to exploit but pay heavily for barriers.
// Dispatch ceil(ROWS / 64).
// Weights are read four at a time by weight4, which dequantizes in registers; weight_block decodes a
// 32-element block's scales once, when the walk enters the block, so one kernel serves every dtype.
// One flat loop with a small body: on lavapipe a nested block loop or an unrolled 32-element body ran
// 2–3× slower. Quantized rows are whole blocks (COLS a multiple of 32 or 256); f32 rows (any COLS) and
// f16/bf16 rows (COLS even) may end in up to 3 elements read one by one.

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
  var block: WeightBlock;
  let cols4 = COLS & ~3u;
  for (var c = 0u; c < cols4; c += 4u) {
    if ((c & 31u) == 0u) { block = weight_block(row + c); } // same c in every thread: no divergence
    acc += weight4(block, (c >> 2u) & 7u) * vec4<f32>(x[c], x[c + 1u], x[c + 2u], x[c + 3u]);
  }
  for (var c = cols4; c < COLS; c++) {
    acc.x += load_weight(row + c) * x[c];
  }
  out[r] = (acc.x + acc.y) + (acc.z + acc.w);
}
