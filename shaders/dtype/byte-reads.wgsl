// Byte reads for the block-quantized weight preambles that keep a GGUF tensor's raw bytes in
// `W: array<u32>` (little-endian words), prepended before quant-common.wgsl. ggml blocks are 18, 22,
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
