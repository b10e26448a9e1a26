// Weight preamble for IQ4_NL (ggml block_iq4_nl, 18 bytes per 32 elements): f16 d, then u8 qs[16], laid out
// as Q4_0: element l < 16 is the low nibble of qs[l], element l + 16 the high nibble; value =
// d · kvalues_iq4nl[nibble] (exact in f32, bit-identical to ggml's dequantize_row_iq4_nl). Blocks start at
// even byte offsets.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row (one ggml block).
const WEIGHT_BLOCK: u32 = 32u;

/// The block whose first element is i (a multiple of 32).
struct WeightBlock { d: Act, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 5u) * 18u;
  return WeightBlock(Act(read_f16(o)), o + 2u);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of block b (j < 4): both nibbles of qs[4j .. 4j+3].
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = read_u32(b.qs + 4u * j);
  return mat2x4<Act>(vec4<Act>(iq4_values(byte_fields(w, 0u, 15u))) * b.d,
                     vec4<Act>(iq4_values(byte_fields(w, 4u, 15u))) * b.d);
}
