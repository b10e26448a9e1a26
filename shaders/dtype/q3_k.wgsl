// Weight preamble for Q3_K (ggml block_q3_K, 110 bytes per 256-element super-block): u8 hmask[32] (the third
// bit of each quant), u8 qs[64] (low 2 bits), u8 scales[12] (sixteen 6-bit scales, one per 16 elements), f16 d.
// Element e (of 256) takes bits 2·((e/32) % 4) of qs[32·(e/128) + e % 32] and bit e/32 of hmask[e % 32];
// q = low | high << 2, minus 4 (ggml: minus 4 where the hmask bit is clear). Scale s (of 16): low 4 bits from
// scales[s % 8] (nibble s/8), high 2 bits from scales[8 + s % 4] (bits 2·(s/4)), minus 32. Value = (d·sc)·q:
// exact in f32 (an f16 times a 6-bit and a 3-bit integer), bit-identical to ggml's dequantize_row_q3_K.
// Super-blocks start at even, not always word-aligned, byte offsets.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row: one half of a super-block.
const WEIGHT_BLOCK: u32 = 128u;

/// The half h whose first element is i (a multiple of 128), with its eight 6-bit scales unpacked to bytes
/// (0..63, before the −32): scales_lo holds the scales of elements [0, 64) of the half, scales_hi [64, 128).
struct WeightBlock { d: f32, scales_lo: u32, scales_hi: u32, hmask: u32, qs: u32, hbit: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 8u) * 110u;
  let h = (i >> 7u) & 1u;
  let s = 4u * h;
  let low0 = read_u32(o + 96u);
  let low1 = read_u32(o + 100u);
  let high = read_u32(o + 104u);
  let scales_lo = ((low0 >> s) & 0x0f0f0f0fu) | (((high >> s) & 0x03030303u) << 4u);
  let scales_hi = ((low1 >> s) & 0x0f0f0f0fu) | (((high >> (s + 2u)) & 0x03030303u) << 4u);
  return WeightBlock(read_f16(o + 108u), scales_lo, scales_hi, o, o + 32u + 32u * h, 4u * h);
}

/// Elements [4j, 4j+4) and [64 + 4j, 68 + 4j) of half b (j < 16): one quant word and one hmask word.
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = read_u32(b.qs + 4u * (j & 7u));
  let m = read_u32(b.hmask + 4u * (j & 7u));
  let shift = 2u * (j >> 3u);
  let bit = b.hbit + (j >> 3u);
  let lo = vec4<i32>(byte_fields(w, shift, 3u) | (byte_fields(m, bit, 1u) << vec4<u32>(2u))) - 4;
  let hi = vec4<i32>(byte_fields(w, shift + 4u, 3u) | (byte_fields(m, bit + 2u, 1u) << vec4<u32>(2u))) - 4;
  let byte_shift = 8u * (j >> 2u);
  let scale_lo = f32(i32((b.scales_lo >> byte_shift) & 63u) - 32);
  let scale_hi = f32(i32((b.scales_hi >> byte_shift) & 63u) - 32);
  // d·scale is exact in f32; with Act = f16 it is rounded once, then the product.
  return mat2x4<Act>(vec4<Act>(lo) * Act(b.d * scale_lo), vec4<Act>(hi) * Act(b.d * scale_hi));
}
