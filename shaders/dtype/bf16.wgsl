// Weight preamble for bf16 weights (GGUF BF16), packed two per u32 word like f16. A bf16 is the high
// half of an f32, so widening is a shift: exact, and no feature needed (Act = f16 then rounds: bf16 has
// fewer significant bits than f16 but a wider range).
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row.
const WEIGHT_BLOCK: u32 = 8u;

/// The block of 8 elements from element i; i must be even.
struct WeightBlock { word: u32 }
fn weight_block(i: u32) -> WeightBlock { return WeightBlock(i >> 1u); }

/// Four bf16 (two words) widened to f32.
fn bf16x4(lo: u32, hi: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(lo << 16u, lo & 0xffff0000u, hi << 16u, hi & 0xffff0000u));
}

/// Elements [4j, 4j+4) and [4 + 4j, 8 + 4j) of block b (j = 0).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let k = b.word + 2u * j;
  return mat2x4<Act>(vec4<Act>(bf16x4(W[k], W[k + 1u])), vec4<Act>(bf16x4(W[k + 2u], W[k + 3u])));
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> Act { return Act(bitcast<f32>((W[i >> 1u] >> ((i & 1u) * 16u)) << 16u)); }
