// Matrix-vector product with 8-bit activations: out[r] = Σ_blocks (d_w · d_x) · Σ_i w_q[i] · x_q[i], for weights
// whose blocks are 32 integers and a scale (q4_0, q8_0), and activations quantized by quantize-q8.wgsl. The
// integer sums use dot4I8Packed (four products a call), as llama.cpp's CPU backend multiplies these types:
// on SwiftShader and lavapipe that is 1.6–3.5× faster than dequantizing to floats (shaders/README.md),
// and reads 10 words of activations per block instead of 32. Needs the dtype preamble's q8_block (Q8Block) and
// the q8 activation preamble (dtype/q8-act.wgsl: ActBlock, act_block, block_product).
// Four rows per thread, workgroup 16, as matvec.wgsl: dispatch ceil(ROWS / 64). Each row sums its blocks in
// order in f32, exactly as matmul-q8.wgsl does, so prefill and decode agree bit for bit.

override ROWS: u32;
override COLS: u32; // a multiple of 32

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> xq: array<u32>;            // [COLS / 32, 10] (quantize-q8.wgsl)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS]

@compute @workgroup_size(16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = 4u * gid.x;
  if (r0 >= ROWS) { return; }
  // Rows past the end re-read the last row (in bounds) and are not written.
  let row0 = r0 * COLS;
  let row1 = min(r0 + 1u, ROWS - 1u) * COLS;
  let row2 = min(r0 + 2u, ROWS - 1u) * COLS;
  let row3 = min(r0 + 3u, ROWS - 1u) * COLS;
  var acc0 = 0.0;
  var acc1 = 0.0;
  var acc2 = 0.0;
  var acc3 = 0.0;
  for (var c = 0u; c < COLS; c += 32u) {
    let a = act_block(c / 32u * 10u);
    acc0 += block_product(q8_block(row0 + c), a);
    acc1 += block_product(q8_block(row1 + c), a);
    acc2 += block_product(q8_block(row2 + c), a);
    acc3 += block_product(q8_block(row3 + c), a);
  }
  out[r0] = acc0;
  if (r0 + 1u < ROWS) { out[r0 + 1u] = acc1; }
  if (r0 + 2u < ROWS) { out[r0 + 2u] = acc2; }
  if (r0 + 3u < ROWS) { out[r0 + 3u] = acc3; }
}
