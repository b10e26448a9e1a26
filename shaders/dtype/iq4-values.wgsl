// Shared by the IQ4_NL and IQ4_XS preambles (composed in src/gpu/shaders.ts): ggml's non-linear 4-bit
// codebook kvalues_iq4nl (ggml-common.h), which a nibble indexes.

const KVALUES_IQ4NL = array<i32, 16>(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);

/// The codebook values of four nibbles.
fn iq4_values(q: vec4<u32>) -> vec4<i32> {
  return vec4<i32>(KVALUES_IQ4NL[q.x], KVALUES_IQ4NL[q.y], KVALUES_IQ4NL[q.z], KVALUES_IQ4NL[q.w]);
}
