// Weight preamble for Q6_K (ggml block_q6_K, 210 bytes per 256-element super-block): u8 ql[128] (low 4
// bits), u8 qh[64] (high 2 bits), int8 scales[16] (one per 16 elements), f16 d. Element 128·h + 32·k + l
// (h < 2, k < 4, l < 32) takes the nibble k/2 of ql[64·h + 32·(k%2) + l], the bit pair k of qh[32·h + l],
// and scale scales[8·h + 2·k + l/16]; value = (d·scale)·(q − 32). Exact in f32 (bit-identical to ggml's
// dequantize_row_q6_K). 210-byte blocks start at even, not always word-aligned, byte offsets.
alias WeightWords = array<u32>;

/// The 32-element quarter (h, k) whose first element is i (a multiple of 32), with its two scales.
struct WeightBlock { scale_lo: f32, scale_hi: f32, ql: u32, ql_shift: u32, qh: u32, qh_shift: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 8u) * 210u;
  let h = (i >> 7u) & 1u;
  let k = (i >> 5u) & 3u;
  let d = read_f16(o + 208u);
  let scales = bytes_i8(read_u16(o + 192u + 8u * h + 2u * k));
  return WeightBlock(d * f32(scales.x), d * f32(scales.y),
                     o + 64u * h + 32u * (k & 1u), 4u * (k >> 1u), o + 128u + 32u * h, 2u * k);
}

/// Elements 4j .. 4j+3 of quarter b (j < 8); elements 16 .. 31 use the second scale.
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  let low = byte_fields(read_u32(b.ql + 4u * j), b.ql_shift, 15u);
  let high = byte_fields(read_u32(b.qh + 4u * j), b.qh_shift, 3u);
  let q = vec4<i32>(low | (high << vec4<u32>(4u))) - 32;
  return vec4<f32>(q) * select(b.scale_lo, b.scale_hi, j >= 4u);
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return weight4(weight_block(i & ~31u), (i & 31u) >> 2u)[i & 3u]; }
