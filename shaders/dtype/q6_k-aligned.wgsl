// Weight preamble for Q6_K repacked at load (aligned-common.wgsl): a super-block's d in its group's scale word, its
// other 208 bytes — ql[128], qh[64], int8 scales[16] — as 13 vec4 words. The fields and values are q6_k.wgsl's,
// read as aligned u32 words.

/// Elements per block as the kernels walk a row: one half of a super-block; a file block is the whole super-block.
const WEIGHT_BLOCK: u32 = 128u;
const FILE_BLOCK_SHIFT: u32 = 8u;
const QUANT_VEC4S: u32 = 13u;

/// The u32 word k of W.
fn aligned_word(k: u32) -> u32 {
  return W[k >> 2u][k & 3u];
}

/// The half whose first element is i (a multiple of 128), with its eight int8 scales in two words; ql and qh are the
/// u32 indexes of its first quant words.
struct WeightBlock { d: f32, scales_lo: u32, scales_hi: u32, ql: u32, qh: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let at = aligned_block(i);
  let o = 4u * aligned_quants(at);
  let h = (i >> 7u) & 1u;
  let scales = o + 48u + 2u * h;
  return WeightBlock(aligned_scale(at), aligned_word(scales), aligned_word(scales + 1u), o + 16u * h, o + 32u + 8u * h);
}

/// Elements [4j, 4j+4) and [64 + 4j, 68 + 4j) of half b (j < 16), as q6_k.wgsl's weight8 computes them.
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = aligned_word(b.ql + j);
  let h = aligned_word(b.qh + (j & 7u));
  let shift = 2u * (j >> 3u);
  let lo = vec4<i32>(byte_fields(w, 0u, 15u) | (byte_fields(h, shift, 3u) << vec4<u32>(4u))) - 32;
  let hi = vec4<i32>(byte_fields(w, 4u, 15u) | (byte_fields(h, shift + 4u, 3u) << vec4<u32>(4u))) - 32;
  let byte_shift = 8u * (j >> 2u);
  let scale_lo = f32(bitcast<i32>(b.scales_lo << (24u - byte_shift)) >> 24u);
  let scale_hi = f32(bitcast<i32>(b.scales_hi << (24u - byte_shift)) >> 24u);
  return mat2x4<Act>(vec4<Act>(lo) * Act(b.d * scale_lo), vec4<Act>(hi) * Act(b.d * scale_hi));
}
