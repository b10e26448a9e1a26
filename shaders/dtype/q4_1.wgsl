// Weight preamble for Q4_1 (ggml block_q4_1, 20 bytes per 32 elements): f16 d, f16 m, then u8 qs[16].
// Element l < 16 is the low nibble of qs[l], element l + 16 the high nibble; value = q · d + m
// (q · d is exact, so the one rounding is the add, as in ggml's dequantize_row_q4_1).
// 20-byte blocks are word aligned.
alias WeightWords = array<u32>;

/// The 32-element block whose first element is i (a multiple of 32).
struct WeightBlock { d: f32, m: f32, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 5u) * 5u;
  let dm = unpack2x16float(W[word]);
  return WeightBlock(dm.x, dm.y, word + 1u);
}

/// Elements 4j .. 4j+3 of block b (j < 8).
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  let q = byte_fields(W[b.qs + (j & 3u)], select(0u, 4u, j >= 4u), 15u);
  return vec4<f32>(q) * b.d + b.m;
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return weight4(weight_block(i & ~31u), (i & 31u) >> 2u)[i & 3u]; }
