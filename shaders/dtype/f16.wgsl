// Weight preamble for f16 weights, packed two per u32 word (element 2k in the low half, 2k+1 in the
// high half, i.e. the little-endian bytes of a GGUF F16 tensor). unpack2x16float is core WGSL, so this
// needs no `shader-f16` feature (Chromium's SwiftShader has none). Math stays in f32.
alias WeightWords = array<u32>;

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 {
  let pair = unpack2x16float(W[i >> 1u]);
  return select(pair.x, pair.y, (i & 1u) == 1u);
}

/// Elements i and i+1 from one word; i must be even.
fn load_weight2(i: u32) -> vec2<f32> { return unpack2x16float(W[i >> 1u]); }
