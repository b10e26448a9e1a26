// Weight preamble for Q4_0 repacked at load (aligned-common.wgsl): a block's 16 bytes of quants are one vec4 word,
// element l < 16 the low nibble of byte l, element l + 16 its high nibble; value = (q − 8) · d, as q4_0.wgsl's.
/// Elements per block as the kernels walk a row (one ggml block), and per file block.
const WEIGHT_BLOCK: u32 = 32u;
const FILE_BLOCK_SHIFT: u32 = 5u;
const QUANT_VEC4S: u32 = 1u;

/// The block whose first element is i (a multiple of 32).
struct WeightBlock { d: Act, qs: vec4<u32> }
fn weight_block(i: u32) -> WeightBlock {
  let at = aligned_block(i);
  return WeightBlock(Act(aligned_scale(at)), W[aligned_quants(at)]);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of block b (j < 4): both nibbles of quant word j.
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let w = b.qs[j];
  return mat2x4<Act>(vec4<Act>(vec4<i32>(byte_fields(w, 0u, 15u)) - 8) * b.d,
                     vec4<Act>(vec4<i32>(byte_fields(w, 4u, 15u)) - 8) * b.d);
}

/// The block whose first element is i as 32 integers and a scale, for the integer-dot kernels: the nibbles as
/// unsigned bytes (elements 0–15 in lo, 16–31 in hi), whose values are (q − 8) · d.
struct Q8Block { d: f32, lo: vec4<u32>, hi: vec4<u32>, offset: i32 }
fn q8_block(i: u32) -> Q8Block {
  let at = aligned_block(i);
  let q = W[aligned_quants(at)];
  return Q8Block(aligned_scale(at), q & vec4<u32>(0x0f0f0f0fu), (q >> vec4<u32>(4u)) & vec4<u32>(0x0f0f0f0fu), 8);
}
