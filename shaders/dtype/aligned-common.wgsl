// Shared by the aligned weight preambles (q4_0-aligned.wgsl, q8_0-aligned.wgsl, q6_k-aligned.wgsl): a file's
// blocks of 2^FILE_BLOCK_SHIFT elements, an f16 scale d and 16 · QUANT_VEC4S other bytes, repacked at load
// (src/gpu/aligned-weights.ts) into groups of 8 blocks — the 8 scales in one 16-byte word, then each block's other
// bytes as the file holds them — so every read is an aligned word, where the file's 18-, 34- and 210-byte blocks
// start at any even byte.
alias WeightWords = array<vec4<u32>>;

/// The block whose first element is i: its group's first word (the scales) and its place k in the group.
fn aligned_block(i: u32) -> vec2<u32> {
  let b = i >> FILE_BLOCK_SHIFT;
  return vec2<u32>((b >> 3u) * (1u + 8u * QUANT_VEC4S), b & 7u);
}

/// The f16 scale of an aligned_block, exactly as f32.
fn aligned_scale(at: vec2<u32>) -> f32 {
  return unpack2x16float(W[at.x][at.y >> 1u])[at.y & 1u];
}

/// The first vec4 word of an aligned_block's other bytes.
fn aligned_quants(at: vec2<u32>) -> u32 {
  return at.x + 1u + QUANT_VEC4S * at.y;
}
