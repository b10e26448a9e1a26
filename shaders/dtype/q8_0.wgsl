// Weight preamble for Q8_0 (ggml block_q8_0, 34 bytes per 32 elements): f16 d, then int8 qs[32].
// Element l of a block = qs[l] · d. Blocks start at even byte offsets (34·b), so the f16 and the quants
// are read with bytes.wgsl's unaligned helpers. The product of an int8 and an f16 is exact in f32, so
// the values are bit-identical to ggml's dequantize_row_q8_0.
alias WeightWords = array<u32>;

/// The 32-element block whose first element is i (a multiple of 32: rows start on block boundaries).
struct WeightBlock { d: f32, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 5u) * 34u;
  return WeightBlock(read_f16(o), o + 2u);
}

/// Elements 4j .. 4j+3 of block b (j < 8).
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  return vec4<f32>(bytes_i8(read_u32(b.qs + 4u * j))) * b.d;
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return weight4(weight_block(i & ~31u), (i & 31u) >> 2u)[i & 3u]; }
