// Weight preamble for f32 weights: one f32 per element. Prepended to the weight-reading kernels, which
// declare `W: WeightWords` (module-scope declarations are order-independent), after the compute-precision
// preamble (act-f32/act-f16.wgsl: `Act`). Every preamble provides WeightWords, WEIGHT_BLOCK, WeightBlock +
// weight_block, weight8 and load_weight (shaders/README.md); values come out as Act (f16: rounded).
alias WeightWords = array<f32>;

/// Elements per block as the kernels walk a row.
const WEIGHT_BLOCK: u32 = 8u;

/// The block of 8 elements from element i (any i).
struct WeightBlock { first: u32 }
fn weight_block(i: u32) -> WeightBlock { return WeightBlock(i); }

/// Elements [4j, 4j+4) and [4 + 4j, 8 + 4j) of block b (j = 0).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let i = b.first + 4u * j;
  return mat2x4<Act>(vec4<Act>(vec4<f32>(W[i], W[i + 1u], W[i + 2u], W[i + 3u])),
                     vec4<Act>(vec4<f32>(W[i + 4u], W[i + 5u], W[i + 6u], W[i + 7u])));
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> Act { return Act(W[i]); }
