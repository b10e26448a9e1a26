// Helpers shared by the block-quantized weight preambles (prepended before each of them), for weights
// kept as a GGUF tensor's raw bytes in `W: array<u32>` (little-endian words). ggml blocks are 18, 22,
// 34 or 210 bytes long, so a block, and the fields in it, may start at any even byte offset.

/// The four bytes at byte offset o (any alignment) as a little-endian u32. Always reads the word after
/// o's word too; when o is word-aligned that word is shifted out (it may lie past the tensor: WebGPU's
/// robust buffer access keeps the read in bounds, and its value is unused).
fn read_u32(o: u32) -> u32 {
  let k = o >> 2u;
  let shift = (o & 3u) * 8u;
  // (hi << 1) << (31 − shift) is hi << (32 − shift) without the undefined shift by 32 when shift = 0.
  return (W[k] >> shift) | ((W[k + 1u] << 1u) << (31u - shift));
}

/// The f16 at byte offset o (even), exactly as f32 (unpack2x16float: core WGSL, no shader-f16 needed;
/// subnormal f16 scales come out exact on lavapipe and SwiftShader, which the kernel tests check).
fn read_f16(o: u32) -> f32 { return unpack2x16float(W[o >> 2u] >> ((o & 2u) * 8u)).x; }

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
