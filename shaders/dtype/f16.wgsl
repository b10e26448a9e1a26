// Weight preamble for f16 weights, packed two per u32 word (element 2k in the low half, 2k+1 in the
// high half, i.e. the little-endian bytes of a GGUF F16 tensor). unpack2x16float is core WGSL, so this
// needs no `shader-f16` feature (Chromium's SwiftShader has none); with Act = f16 the f32 → f16 step is exact.
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row.
const WEIGHT_BLOCK: u32 = 8u;

/// The block of 8 elements from element i; i must be even (rows of even length start on a whole word).
struct WeightBlock { word: u32 }
fn weight_block(i: u32) -> WeightBlock { return WeightBlock(i >> 1u); }

/// Elements [4j, 4j+4) and [4 + 4j, 8 + 4j) of block b (j = 0).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  let k = b.word + 2u * j;
  return mat2x4<Act>(vec4<Act>(vec4<f32>(unpack2x16float(W[k]), unpack2x16float(W[k + 1u]))),
                     vec4<Act>(vec4<f32>(unpack2x16float(W[k + 2u]), unpack2x16float(W[k + 3u]))));
}

/// Element i of the weight tensor.
fn load_weight(i: u32) -> Act {
  let pair = unpack2x16float(W[i >> 1u]);
  return Act(select(pair.x, pair.y, (i & 1u) == 1u));
}
