// Weight preamble for bf16 weights (GGUF BF16), packed two per u32 word like f16. A bf16 is the high
// half of an f32, so widening is a shift: exact, and no feature needed.
alias WeightWords = array<u32>;

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return bitcast<f32>((W[i >> 1u] >> ((i & 1u) * 16u)) << 16u); }

/// The 32 elements from element i; i must be even.
struct WeightBlock { word: u32 }
fn weight_block(i: u32) -> WeightBlock { return WeightBlock(i >> 1u); }

/// Elements 4j .. 4j+3 of block b (j < 8).
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  let lo = W[b.word + 2u * j];
  let hi = W[b.word + 2u * j + 1u];
  return bitcast<vec4<f32>>(vec4<u32>(lo << 16u, lo & 0xffff0000u, hi << 16u, hi & 0xffff0000u));
}
