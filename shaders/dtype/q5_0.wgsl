// Weight preamble for Q5_0 (ggml block_q5_0, 22 bytes per 32 elements): f16 d, u8 qh[4] (bit l = the
// fifth bit of element l), u8 qs[16] (element l < 16: low nibble of qs[l]; l + 16: high nibble).
// Value = (q − 16) · d, exact in f32 (bit-identical to ggml's dequantize_row_q5_0).
alias WeightWords = array<u32>;

/// The 32-element block whose first element is i (a multiple of 32).
struct WeightBlock { d: f32, qh: u32, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 5u) * 22u;
  return WeightBlock(read_f16(o), read_u32(o + 2u), o + 6u);
}

/// Elements 4j .. 4j+3 of block b (j < 8).
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  let low = byte_fields(read_u32(b.qs + 4u * (j & 3u)), select(0u, 4u, j >= 4u), 15u);
  let high = (vec4<u32>(b.qh) >> (vec4<u32>(0u, 1u, 2u, 3u) + 4u * j)) & vec4<u32>(1u);
  return vec4<f32>(vec4<i32>(low | (high << vec4<u32>(4u))) - 16) * b.d;
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return weight4(weight_block(i & ~31u), (i & 31u) >> 2u)[i & 3u]; }
