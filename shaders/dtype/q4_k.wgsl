// Weight preamble for Q4_K (ggml block_q4_K, 144 bytes per 256-element super-block): f16 d, f16 dmin,
// u8 scales[12] (eight 6-bit scale/min pairs, packed as ggml's get_scale_min_k4 reads them), u8 qs[128].
// Sub-block s (32 elements) takes quant l from qs[32·(s/2) + l], low nibble for even s, high for odd;
// value = (d·sc_s)·q − dmin·m_s. Both products are exact in f32, so the one rounding is the subtraction,
// as in ggml's dequantize_row_q4_K. 144-byte blocks are word aligned.
alias WeightWords = array<u32>;

/// 6-bit (scale, min) of sub-block s from the 12 scale bytes starting at word k (ggml get_scale_min_k4):
/// s < 4: (q[s] & 63, q[s+4] & 63); s ≥ 4: (q[s+4] & 15 | (q[s−4] >> 6) << 4, q[s+4] >> 4 | (q[s] >> 6) << 4).
fn k_scale_min(k: u32, s: u32) -> vec2<u32> {
  let shift = 8u * (s & 3u);
  let b0 = (W[k] >> shift) & 0xffu;
  let b1 = (W[k + 1u] >> shift) & 0xffu;
  if (s < 4u) { return vec2<u32>(b0 & 63u, b1 & 63u); }
  let b2 = (W[k + 2u] >> shift) & 0xffu;
  return vec2<u32>((b2 & 15u) | ((b0 >> 6u) << 4u), (b2 >> 4u) | ((b1 >> 6u) << 4u));
}

/// The 32-element sub-block whose first element is i (a multiple of 32).
struct WeightBlock { scale: f32, min: f32, qs: u32, shift: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let word = (i >> 8u) * 36u;
  let s = (i >> 5u) & 7u;
  let d = unpack2x16float(W[word]);
  let sm = k_scale_min(word + 1u, s);
  return WeightBlock(d.x * f32(sm.x), d.y * f32(sm.y), word + 4u + 8u * (s >> 1u), 4u * (s & 1u));
}

/// Elements 4j .. 4j+3 of sub-block b (j < 8).
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  return vec4<f32>(byte_fields(W[b.qs + j], b.shift, 15u)) * b.scale - b.min;
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return weight4(weight_block(i & ~31u), (i & 31u) >> 2u)[i & 3u]; }
