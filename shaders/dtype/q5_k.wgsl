// Weight preamble for Q5_K (ggml block_q5_K, 176 bytes per 256-element super-block): f16 d, f16 dmin,
// u8 scales[12] (as Q4_K), u8 qh[32], u8 qs[128]. Sub-block s (32 elements): quant l = the nibble of
// qs[32·(s/2) + l] (low for even s, high for odd) plus 16 · bit s of qh[l]; value = (d·sc_s)·q − dmin·m_s
// (exact products, one rounding: bit-identical to ggml's dequantize_row_q5_K). Word aligned.
alias WeightWords = array<u32>;

/// 6-bit (scale, min) of sub-block s from the 12 scale bytes at word k (ggml get_scale_min_k4).
fn k_scale_min(k: u32, s: u32) -> vec2<u32> {
  let shift = 8u * (s & 3u);
  let b0 = (W[k] >> shift) & 0xffu;
  let b1 = (W[k + 1u] >> shift) & 0xffu;
  if (s < 4u) { return vec2<u32>(b0 & 63u, b1 & 63u); }
  let b2 = (W[k + 2u] >> shift) & 0xffu;
  return vec2<u32>((b2 & 15u) | ((b0 >> 6u) << 4u), (b2 >> 4u) | ((b1 >> 6u) << 4u));
}

/// The 32-element sub-block whose first element is i (a multiple of 32).
struct WeightBlock { scale: f32, min: f32, qh: u32, qs: u32, s: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 8u) * 44u;
  let s = (i >> 5u) & 7u;
  let d = unpack2x16float(W[word]);
  let sm = k_scale_min(word + 1u, s);
  return WeightBlock(d.x * f32(sm.x), d.y * f32(sm.y), word + 4u, word + 12u + 8u * (s >> 1u), s);
}

/// Elements 4j .. 4j+3 of sub-block b (j < 8).
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  let low = byte_fields(W[b.qs + j], 4u * (b.s & 1u), 15u);
  let high = byte_fields(W[b.qh + j], b.s, 1u);
  return vec4<f32>(low | (high << vec4<u32>(4u))) * b.scale - b.min;
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return weight4(weight_block(i & ~31u), (i & 31u) >> 2u)[i & 3u]; }
