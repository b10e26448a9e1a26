// Helpers shared by the block-quantized weight preambles (prepended before each of them, after
// byte-reads.wgsl where blocks are not word aligned): the quants' fields in a word, and load_weight.

/// The four bytes of w as signed integers (int8 quants), byte 0 first.
fn bytes_i8(w: u32) -> vec4<i32> {
  return bitcast<vec4<i32>>(vec4<u32>(w) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u);
}

/// Bits [shift, shift + width) of each byte of w, byte 0 first (nibbles, 2-bit and 1-bit fields);
/// mask = 2^width − 1.
fn byte_fields(w: u32, shift: u32, mask: u32) -> vec4<u32> {
  return (vec4<u32>(w) >> (vec4<u32>(0u, 8u, 16u, 24u) + shift)) & vec4<u32>(mask);
}

/// Element i of the weight tensor, through the preamble's block functions (so embedding rows and
/// matvec see the very same values).
fn load_weight(i: u32) -> Act {
  let e = i % WEIGHT_BLOCK;
  let half = WEIGHT_BLOCK / 2u;
  let w = weight8(weight_block(i - e), (e % half) >> 2u);
  return select(w[0], w[1], e >= half)[e & 3u];
}
