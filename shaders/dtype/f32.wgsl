// Weight preamble for f32 weights: one f32 per element. Prepended to embedding.wgsl and matvec.wgsl;
// the kernel declares `W: WeightWords` (module-scope declarations are order-independent).
// Every preamble provides the same four things (see shaders/README.md): WeightWords, load_weight,
// WeightBlock + weight_block, weight4.
alias WeightWords = array<f32>;

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return W[i]; }

/// The 32 elements from element i (any i for f32).
struct WeightBlock { first: u32 }
fn weight_block(i: u32) -> WeightBlock { return WeightBlock(i); }

/// Elements 4j .. 4j+3 of block b (j < 8).
fn weight4(b: WeightBlock, j: u32) -> vec4<f32> {
  let i = b.first + 4u * j;
  return vec4<f32>(W[i], W[i + 1u], W[i + 2u], W[i + 3u]);
}
