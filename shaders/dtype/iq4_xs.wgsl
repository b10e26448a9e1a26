// Weight preamble for IQ4_XS (ggml block_iq4_xs, 136 bytes per 256-element super-block): f16 d, u16 scales_h,
// u8 scales_l[4], u8 qs[128]. Sub-block b (32 elements) has the 6-bit scale ls = nibble b of scales_l (low
// nibble for even b) | bits 2b, 2b+1 of scales_h << 4, and the bytes qs[16b .. 16b+15] laid out as IQ4_NL's;
// value = (d·(ls − 32)) · kvalues_iq4nl[nibble]: exact in f32 (11 + 5 + 7 significant bits), bit-identical to
// ggml's dequantize_row_iq4_xs. 136-byte super-blocks are word aligned.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row: one 32-element sub-block.
const WEIGHT_BLOCK: u32 = 32u;

/// The sub-block whose first element is i (a multiple of 32): its scale d·(ls − 32) and its first quant word.
struct WeightBlock { d: Act, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 8u) * 34u;
  let b = (i >> 5u) & 7u;
  let head = W[word]; // d, scales_h
  let ls = ((W[word + 1u] >> (4u * b)) & 15u) | (((head >> (16u + 2u * b)) & 3u) << 4u);
  // d·(ls − 32) is exact in f32; with Act = f16 it is rounded once, then the products.
  return WeightBlock(Act(unpack2x16float(head).x * f32(i32(ls) - 32)), word + 2u + 4u * b);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of sub-block b (j < 4): both nibbles of one quant word.
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = W[b.qs + j];
  return mat2x4<Act>(vec4<Act>(iq4_values(byte_fields(w, 0u, 15u))) * b.d,
                     vec4<Act>(iq4_values(byte_fields(w, 4u, 15u))) * b.d);
}
