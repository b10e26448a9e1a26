// Weight preamble for Q6_K (ggml block_q6_K, 210 bytes per 256-element super-block): u8 ql[128] (low 4
// bits), u8 qh[64] (high 2 bits), int8 scales[16] (one per 16 elements), f16 d. In half h (128 elements)
// element e < 64 takes the low nibble of ql[64h + e] and bits 2·(e/32) of qh[32h + e % 32]; element
// e + 64 the high nibble of the same ql byte and bits 2·(e/32) + 4; scale scales[8h + e/16] (e < 128).
// Value = (d·scale)·(q − 32): exact in f32, bit-identical to ggml's dequantize_row_q6_K. Super-blocks
// start at even, not always word-aligned, byte offsets.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row: one half of a super-block.
const WEIGHT_BLOCK: u32 = 128u;

/// The half whose first element is i (a multiple of 128), with its eight int8 scales in two words.
struct WeightBlock { d: f32, scales_lo: u32, scales_hi: u32, ql: u32, qh: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 8u) * 210u;
  let h = (i >> 7u) & 1u;
  let scales = o + 192u + 8u * h;
  return WeightBlock(read_f16(o + 208u), read_u32(scales), read_u32(scales + 4u), o + 64u * h, o + 128u + 32u * h);
}

/// Elements [4j, 4j+4) and [64 + 4j, 68 + 4j) of half b (j < 16).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = read_u32(b.ql + 4u * j);
  let h = read_u32(b.qh + 4u * (j & 7u));
  let shift = 2u * (j >> 3u);
  let lo = vec4<i32>(byte_fields(w, 0u, 15u) | (byte_fields(h, shift, 3u) << vec4<u32>(4u))) - 32;
  let hi = vec4<i32>(byte_fields(w, 4u, 15u) | (byte_fields(h, shift + 4u, 3u) << vec4<u32>(4u))) - 32;
  // Scales of elements 4j (group j/4) and 64 + 4j (group 4 + j/4).
  let byte_shift = 8u * (j >> 2u);
  let scale_lo = f32(bitcast<i32>(b.scales_lo << (24u - byte_shift)) >> 24u);
  let scale_hi = f32(bitcast<i32>(b.scales_hi << (24u - byte_shift)) >> 24u);
  // d·scale is exact in f32 (an f16 times an int8); with Act = f16 it is rounded once, then the product.
  return mat2x4<Act>(vec4<Act>(lo) * Act(b.d * scale_lo), vec4<Act>(hi) * Act(b.d * scale_hi));
}
