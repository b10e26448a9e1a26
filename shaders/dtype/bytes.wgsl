// Byte-level reads for weights kept as a GGUF tensor's raw bytes in `W: array<u32>` (little-endian
// words). Prepended before the preamble of every block-quantized dtype: ggml blocks are 18, 22, 34 or
// 210 bytes long, so a block (and the fields in it) can start at any even byte offset.

/// The four bytes at byte offset o (any alignment) as a little-endian u32. Always reads the word after
/// o's word too; when o is word-aligned that word is shifted out (it may lie past the tensor: WebGPU's
/// robust buffer access keeps the read in bounds, and its value is unused).
fn read_u32(o: u32) -> u32 {
  let k = o >> 2u;
  let shift = (o & 3u) * 8u;
  // (hi << 1) << (31 − shift) is hi << (32 − shift) without the undefined shift by 32 when shift = 0.
  return (W[k] >> shift) | ((W[k + 1u] << 1u) << (31u - shift));
}

/// The 16 bits at byte offset o (even) in the low half of the result.
fn read_u16(o: u32) -> u32 { return (W[o >> 2u] >> ((o & 2u) * 8u)) & 0xffffu; }

/// The f16 at byte offset o (even), exactly as f32 (unpack2x16float: core WGSL, no shader-f16 needed).
fn read_f16(o: u32) -> f32 { return unpack2x16float(W[o >> 2u] >> ((o & 2u) * 8u)).x; }

/// The four bytes of w as signed integers (int8 quants), byte 0 first.
fn bytes_i8(w: u32) -> vec4<i32> {
  return bitcast<vec4<i32>>(vec4<u32>(w) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u);
}

/// Bits [shift, shift + width) of each byte of w, byte 0 first (nibbles, 2-bit fields).
fn byte_fields(w: u32, shift: u32, mask: u32) -> vec4<u32> {
  return (vec4<u32>(w) >> (vec4<u32>(0u, 8u, 16u, 24u) + shift)) & vec4<u32>(mask);
}
