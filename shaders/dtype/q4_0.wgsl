// Weight preamble for Q4_0 (ggml block_q4_0, 18 bytes per 32 elements): f16 d, then u8 qs[16].
// Element l < 16 is the low nibble of qs[l], element l + 16 the high nibble; value = (q − 8) · d
// (exact in f32, so bit-identical to ggml's dequantize_row_q4_0). Blocks start at even byte offsets.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row (one ggml block).
const WEIGHT_BLOCK: u32 = 32u;

/// The block whose first element is i (a multiple of 32).
struct WeightBlock { d: Act, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 5u) * 18u;
  return WeightBlock(Act(read_f16(o)), o + 2u);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of block b (j < 4): both nibbles of qs[4j .. 4j+3].
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = read_u32(b.qs + 4u * j);
  return mat2x4<Act>(vec4<Act>(vec4<i32>(byte_fields(w, 0u, 15u)) - 8) * b.d,
                     vec4<Act>(vec4<i32>(byte_fields(w, 4u, 15u)) - 8) * b.d);
}

/// The block whose first element is i as 32 integers and a scale, for matvec-q8/matmul-q8: the nibbles as
/// unsigned bytes (elements 0–15 in lo, 16–31 in hi, four to a word), whose values are (q − offset) · d.
/// The block's 18 bytes are read as the 5 words that hold them, not as 9 unaligned reads.
struct Q8Block { d: f32, lo: vec4<u32>, hi: vec4<u32>, offset: i32 }
fn q8_block(i: u32) -> Q8Block {
  let o = (i >> 5u) * 18u;
  let k = o >> 2u;
  let w = vec4<u32>(W[k], W[k + 1u], W[k + 2u], W[k + 3u]);
  let next = vec4<u32>(w.yzw, W[k + 4u]);
  let upper = (o & 2u) != 0u; // the block starts in the upper half of word k: its quants are words k+1..k+4
  let q = select((w >> vec4<u32>(16u)) | (next << vec4<u32>(16u)), next, upper);
  let d = unpack2x16float(w.x);
  return Q8Block(select(d.x, d.y, upper), q & vec4<u32>(0x0f0f0f0fu), (q >> vec4<u32>(4u)) & vec4<u32>(0x0f0f0f0fu), 8);
}
