// Weight preamble for Q4_K (ggml block_q4_K, 144 bytes per 256-element super-block): f16 d, f16 dmin,
// u8 scales[12] (eight 6-bit scale/min pairs, packed as ggml's get_scale_min_k4 reads them), u8 qs[128].
// Sub-blocks 2p and 2p+1 (32 elements each) share the bytes qs[32p .. 32p+31]: low nibbles for 2p, high
// for 2p+1. Value = (d·sc_s)·q − dmin·m_s; both products are exact in f32, so the one rounding is the
// subtraction, as in ggml's dequantize_row_q4_K (with Act = f16, d·sc and dmin·m are rounded to f16 once
// per sub-block, then the product and the difference). 144-byte super-blocks are word aligned.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row: a pair of sub-blocks sharing their quant bytes.
const WEIGHT_BLOCK: u32 = 64u;

/// The sub-block pair whose first element is i (a multiple of 64).
struct WeightBlock { lo: vec2<Act>, hi: vec2<Act>, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 8u) * 36u;
  let p = (i >> 6u) & 3u;
  let dm = unpack2x16float(W[word]);
  return WeightBlock(vec2<Act>(k_scale_min(dm, word + 1u, 2u * p)), vec2<Act>(k_scale_min(dm, word + 1u, 2u * p + 1u)), word + 4u + 8u * p);
}

/// Elements [4j, 4j+4) and [32 + 4j, 36 + 4j) of block b (j < 8): both nibbles of one quant word.
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = W[b.qs + j];
  return mat2x4<Act>(vec4<Act>(byte_fields(w, 0u, 15u)) * b.lo.x - b.lo.y,
                     vec4<Act>(byte_fields(w, 4u, 15u)) * b.hi.x - b.hi.y);
}
