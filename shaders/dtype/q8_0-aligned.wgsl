// Weight preamble for Q8_0 repacked at load (aligned-common.wgsl): a block's 32 int8 quants are two vec4 words,
// elements 0–15 in the first, 16–31 in the second; value = q · d, as q8_0.wgsl's.
/// Elements per block as the kernels walk a row (one ggml block), and per file block.
const WEIGHT_BLOCK: u32 = 32u;
const FILE_BLOCK_SHIFT: u32 = 5u;
const QUANT_VEC4S: u32 = 2u;

/// The block whose first element is i (a multiple of 32).
struct WeightBlock { d: Act, lo: vec4<u32>, hi: vec4<u32> }
fn weight_block(i: u32) -> WeightBlock {
  let at = aligned_block(i);
  let q = aligned_quants(at);
  return WeightBlock(Act(aligned_scale(at)), W[q], W[q + 1u]);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of block b (j < 4).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  return mat2x4<Act>(vec4<Act>(bytes_i8(b.lo[j])) * b.d, vec4<Act>(bytes_i8(b.hi[j])) * b.d);
}

/// The block whose first element is i as 32 integers and a scale, for the integer-dot kernels (offset 0).
struct Q8Block { d: f32, lo: vec4<u32>, hi: vec4<u32>, offset: i32 }
fn q8_block(i: u32) -> Q8Block {
  let at = aligned_block(i);
  let q = aligned_quants(at);
  return Q8Block(aligned_scale(at), W[q], W[q + 1u], 0);
}
