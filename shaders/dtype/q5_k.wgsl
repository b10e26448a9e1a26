// Weight preamble for Q5_K (ggml block_q5_K, 176 bytes per 256-element super-block): f16 d, f16 dmin,
// u8 scales[12] (as Q4_K), u8 qh[32], u8 qs[128]. Sub-block s (32 elements): quant l = the nibble of
// qs[32·(s/2) + l] (low for even s, high for odd) plus 16 · bit s of qh[l]; value = (d·sc_s)·q − dmin·m_s
// (exact products, one rounding: bit-identical to ggml's dequantize_row_q5_K). Word aligned.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row: a pair of sub-blocks sharing their quant bytes.
const WEIGHT_BLOCK: u32 = 64u;

/// The sub-block pair (2p, 2p+1) whose first element is i (a multiple of 64).
struct WeightBlock { lo: vec2<Act>, hi: vec2<Act>, qh: u32, qs: u32, p: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 8u) * 44u;
  let p = (i >> 6u) & 3u;
  let dm = unpack2x16float(W[word]);
  return WeightBlock(vec2<Act>(k_scale_min(dm, word + 1u, 2u * p)), vec2<Act>(k_scale_min(dm, word + 1u, 2u * p + 1u)),
                     word + 4u, word + 12u + 8u * p, p);
}

/// Elements [4j, 4j+4) and [32 + 4j, 36 + 4j) of block b (j < 8).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = W[b.qs + j];
  let h = W[b.qh + j];
  let lo = byte_fields(w, 0u, 15u) | (byte_fields(h, 2u * b.p, 1u) << vec4<u32>(4u));
  let hi = byte_fields(w, 4u, 15u) | (byte_fields(h, 2u * b.p + 1u, 1u) << vec4<u32>(4u));
  return mat2x4<Act>(vec4<Act>(lo) * b.lo.x - b.lo.y, vec4<Act>(hi) * b.hi.x - b.hi.y);
}
