// Weight preamble for Q5_1 (ggml block_q5_1, 24 bytes per 32 elements): f16 d, f16 m, u8 qh[4] (bit l
// = the fifth bit of element l), u8 qs[16] (element l < 16: low nibble of qs[l]; l + 16: high nibble).
// Value = q · d + m (one rounding, as in ggml's dequantize_row_q5_1). 24-byte blocks are word aligned.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row (one ggml block).
const WEIGHT_BLOCK: u32 = 32u;

/// The block whose first element is i (a multiple of 32).
struct WeightBlock { d: Act, m: Act, qh: u32, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 5u) * 6u;
  let dm = unpack2x16float(W[word]);
  return WeightBlock(Act(dm.x), Act(dm.y), W[word + 1u], word + 2u);
}

/// Fifth bits of elements [first, first + 4), as 16 or 0.
fn q5_high(qh: u32, first: u32) -> vec4<u32> {
  return ((vec4<u32>(qh) >> (vec4<u32>(0u, 1u, 2u, 3u) + first)) & vec4<u32>(1u)) << vec4<u32>(4u);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of block b (j < 4).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = W[b.qs + j];
  return mat2x4<Act>(vec4<Act>(byte_fields(w, 0u, 15u) | q5_high(b.qh, 4u * j)) * b.d + b.m,
                     vec4<Act>(byte_fields(w, 4u, 15u) | q5_high(b.qh, 16u + 4u * j)) * b.d + b.m);
}
