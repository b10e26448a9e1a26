// Weight preamble for Q4_1 (ggml block_q4_1, 20 bytes per 32 elements): f16 d, f16 m, then u8 qs[16].
// Element l < 16 is the low nibble of qs[l], element l + 16 the high nibble; value = q · d + m
// (q · d is exact, so the one rounding is the add, as in ggml's dequantize_row_q4_1).
// 20-byte blocks are word aligned.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row (one ggml block).
const WEIGHT_BLOCK: u32 = 32u;

/// The block whose first element is i (a multiple of 32).
struct WeightBlock { d: Act, m: Act, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 5u) * 5u;
  let dm = unpack2x16float(W[word]);
  return WeightBlock(Act(dm.x), Act(dm.y), word + 1u);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of block b (j < 4): both nibbles of qs[4j .. 4j+3].
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = W[b.qs + j];
  return mat2x4<Act>(vec4<Act>(byte_fields(w, 0u, 15u)) * b.d + b.m,
                     vec4<Act>(byte_fields(w, 4u, 15u)) * b.d + b.m);
}
