// Weight preamble for Q2_K (ggml block_q2_K, 84 bytes per 256-element super-block): u8 scales[16] (low
// nibble: scale, high nibble: min, one pair per 16 elements), u8 qs[64] (2-bit quants), f16 d, f16 dmin.
// In half h (128 elements) element e takes bits 2·(e/32) of qs[32h + e % 32] and the pair scales[8h + e/16];
// value = (d·sc)·q − dmin·m. Both products are exact in f32, so the one rounding is the subtraction, as in
// ggml's dequantize_row_q2_K (with Act = f16, d·sc and dmin·m are rounded to f16 once per 16 elements, then
// the product and the difference). 84-byte super-blocks are word aligned.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row: one half of a super-block.
const WEIGHT_BLOCK: u32 = 128u;

/// The half whose first element is i (a multiple of 128): (d, dmin), its eight scale bytes, its quant words.
struct WeightBlock { dm: vec2<f32>, scales_lo: u32, scales_hi: u32, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 8u) * 21u;
  let h = (i >> 7u) & 1u;
  return WeightBlock(unpack2x16float(W[word + 20u]), W[word + 2u * h], W[word + 2u * h + 1u], word + 4u + 8u * h);
}

/// (d·sc, dmin·m) of the scale byte at bit `shift` of `scales`.
fn q2_k_scale_min(dm: vec2<f32>, scales: u32, shift: u32) -> vec2<Act> {
  let sc = (scales >> shift) & 0xffu;
  return vec2<Act>(dm * vec2<f32>(f32(sc & 15u), f32(sc >> 4u)));
}

/// Elements [4j, 4j+4) and [64 + 4j, 68 + 4j) of half b (j < 16): bits 2·(j/8) and 4 + 2·(j/8) of one quant word.
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = W[b.qs + (j & 7u)];
  let shift = 2u * (j >> 3u);
  let lo = q2_k_scale_min(b.dm, b.scales_lo, 8u * (j >> 2u));
  let hi = q2_k_scale_min(b.dm, b.scales_hi, 8u * (j >> 2u));
  return mat2x4<Act>(vec4<Act>(byte_fields(w, shift, 3u)) * lo.x - lo.y,
                     vec4<Act>(byte_fields(w, shift + 4u, 3u)) * hi.x - hi.y);
}
