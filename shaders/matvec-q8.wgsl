// Matrix-vector product with 8-bit activations: out[r] = Σ_blocks (d_w · d_x) · Σ_i w_q[i] · x_q[i], for weights
// whose blocks are 32 integers and a scale (q4_0, q8_0), and activations quantized by quantize-q8.wgsl. The
// integer sums use dot4I8Packed (four products a call), as llama.cpp's CPU backend multiplies these types:
// on the CPU adapters that beats dequantizing to floats (shaders/README.md), and reads 10 words of activations per block instead of 32. Needs the dtype preamble's q8_block (Q8Block) and
// the q8 activation preamble (dtype/q8-act.wgsl: ActBlock, act_block, block_product).
// Four rows per thread, workgroup 16, as matvec.wgsl: dispatch ceil(ROWS / 64). Each row sums its blocks in
// order in f32, exactly as matmul-q8.wgsl does, so prefill and decode agree bit for bit.
// Entry points (common/matvec-entry.wgsl) as matvec.wgsl's, calling row_sums below. An
// RMSNorm before the product is fused into quantize-q8.wgsl, which writes xq.

override ROWS: u32;
override COLS: u32; // a multiple of 32

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> xq: array<u32>;            // [COLS / 32, 10] (quantize-q8.wgsl)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [ROWS] (main), [Q_ROWS] (main_qkv), [ROWS / 2] (main_glu)

/// Σ_c W[r, c] · x[c] for the four rows r of `rows`, block by block.
fn row_sums(rows: vec4<u32>) -> vec4<f32> {
  let row0 = rows.x * COLS;
  let row1 = rows.y * COLS;
  let row2 = rows.z * COLS;
  let row3 = rows.w * COLS;
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
  return vec4<f32>(acc0, acc1, acc2, acc3);
}
