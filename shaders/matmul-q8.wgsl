// Matrix-matrix product with 8-bit activations for a batch of tokens (prompt prefill): out[t, r] for the
// weights and activations of matvec-q8.wgsl. A tile of 4 weight rows × TILE (4) tokens per thread, workgroup 16,
// as matmul.wgsl: each weight block is read once for 4 tokens and each activation block serves 4 rows. Each
// (row, token) sum runs over the blocks in order exactly as matvec-q8.wgsl sums it (block_product is the same
// function), so prefill and decode agree bit for bit. Needs the dtype preamble's q8_block (Q8Block) and the
// q8 activation preamble (dtype/q8-act.wgsl).
// Dispatch (ceil(ROWS / 64), ceil(tokens / TILE)); xq and out hold whole tiles of token rows, so tokens need
// no bounds check. Rows past ROWS re-read the last row and are not written; ROW_START places a row block's rows.
// Entry points (common/matmul-entry.wgsl) as matmul.wgsl's, calling tile_sums below.

override ROWS: u32;
override COLS: u32; // a multiple of 32
override OUT_STRIDE: u32; // elements per output row of main: all rows of W
override ROW_START: u32 = 0u;

const TILE: u32 = 4u;

@group(0) @binding(0) var<storage, read> W: WeightWords;            // [ROWS, COLS] row-major
@group(0) @binding(1) var<storage, read> xq: array<u32>;            // [tokens, COLS / 32, 10] (quantize-q8.wgsl)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [tokens, OUT_STRIDE] (main), [tokens, Q_ROWS], [tokens, ROWS / 2]

/// Σ_c W[r, c] · x[t, c] for the four rows r of `rows` and the tile's four tokens t: column t holds token t's sums.
fn tile_sums(rows: vec4<u32>, tile: u32) -> mat4x4<f32> {
  let row0 = rows.x * COLS;
  let row1 = rows.y * COLS;
  let row2 = rows.z * COLS;
  let row3 = rows.w * COLS;
  let tokenWords = COLS / 32u * 10u; // xq words per token
  let x0 = tile * TILE * tokenWords; // the tile's first token
  // acc<row>_<token>
  var acc0_0 = 0.0; var acc0_1 = 0.0; var acc0_2 = 0.0; var acc0_3 = 0.0;
  var acc1_0 = 0.0; var acc1_1 = 0.0; var acc1_2 = 0.0; var acc1_3 = 0.0;
  var acc2_0 = 0.0; var acc2_1 = 0.0; var acc2_2 = 0.0; var acc2_3 = 0.0;
  var acc3_0 = 0.0; var acc3_1 = 0.0; var acc3_2 = 0.0; var acc3_3 = 0.0;
  for (var c = 0u; c < COLS; c += 32u) {
    let o = x0 + c / 32u * 10u;
    let a0 = act_block(o);
    let a1 = act_block(o + tokenWords);
    let a2 = act_block(o + 2u * tokenWords);
    let a3 = act_block(o + 3u * tokenWords);
    let w0 = q8_block(row0 + c);
    acc0_0 += block_product(w0, a0); acc0_1 += block_product(w0, a1); acc0_2 += block_product(w0, a2); acc0_3 += block_product(w0, a3);
    let w1 = q8_block(row1 + c);
    acc1_0 += block_product(w1, a0); acc1_1 += block_product(w1, a1); acc1_2 += block_product(w1, a2); acc1_3 += block_product(w1, a3);
    let w2 = q8_block(row2 + c);
    acc2_0 += block_product(w2, a0); acc2_1 += block_product(w2, a1); acc2_2 += block_product(w2, a2); acc2_3 += block_product(w2, a3);
    let w3 = q8_block(row3 + c);
    acc3_0 += block_product(w3, a0); acc3_1 += block_product(w3, a1); acc3_2 += block_product(w3, a2); acc3_3 += block_product(w3, a3);
  }
  return mat4x4<f32>(vec4<f32>(acc0_0, acc1_0, acc2_0, acc3_0), vec4<f32>(acc0_1, acc1_1, acc2_1, acc3_1),
                     vec4<f32>(acc0_2, acc1_2, acc2_2, acc3_2), vec4<f32>(acc0_3, acc1_3, acc2_3, acc3_3));
}
