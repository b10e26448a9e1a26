// Weight preamble for Q5_0 (ggml block_q5_0, 22 bytes per 32 elements): f16 d, u8 qh[4] (bit l = the
// fifth bit of element l), u8 qs[16] (element l < 16: low nibble of qs[l]; l + 16: high nibble).
// Value = (q − 16) · d, exact in f32 (bit-identical to ggml's dequantize_row_q5_0).
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row (one ggml block).
const WEIGHT_BLOCK: u32 = 32u;

/// The block whose first element is i (a multiple of 32).
struct WeightBlock { d: Act, qh: u32, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 5u) * 22u;
  return WeightBlock(Act(read_f16(o)), read_u32(o + 2u), o + 6u);
}

/// Fifth bits of elements [first, first + 4), as 16 or 0.
fn q5_high(qh: u32, first: u32) -> vec4<u32> {
  return ((vec4<u32>(qh) >> (vec4<u32>(0u, 1u, 2u, 3u) + first)) & vec4<u32>(1u)) << vec4<u32>(4u);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of block b (j < 4).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = read_u32(b.qs + 4u * j);
  let lo = vec4<i32>(byte_fields(w, 0u, 15u) | q5_high(b.qh, 4u * j)) - 16;
  let hi = vec4<i32>(byte_fields(w, 4u, 15u) | q5_high(b.qh, 16u + 4u * j)) - 16;
  return mat2x4<Act>(vec4<Act>(lo) * b.d, vec4<Act>(hi) * b.d);
}
