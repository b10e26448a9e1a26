// Weight preamble for Q4_0 (ggml block_q4_0, 18 bytes per 32 elements): f16 d, then u8 qs[16].
// Element l < 16 is the low nibble of qs[l], element l + 16 the high nibble; value = (q − 8) · d
// (exact in f32, so bit-identical to ggml's dequantize_row_q4_0).
alias WeightWords = array<u32>;

/// The 32-element block whose first element is i (a multiple of 32).
struct WeightBlock { d: f32, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 5u) * 18u;
  return WeightBlock(read_f16(o), o + 2u);
}

/// Elements 4j .. 4j+3 of block b (j < 8): nibbles of qs[4j % 16 ..], high ones for j ≥ 4.
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  let q = byte_fields(read_u32(b.qs + 4u * (j & 3u)), select(0u, 4u, j >= 4u), 15u);
  return vec4<f32>(vec4<i32>(q) - 8) * b.d;
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return weight4(weight_block(i & ~31u), (i & 31u) >> 2u)[i & 3u]; }
