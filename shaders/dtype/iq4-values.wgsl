// Shared by the IQ4_NL and IQ4_XS preambles (composed in src/gpu/shaders.ts): ggml's non-linear 4-bit
// codebook kvalues_iq4nl (ggml-common.h: −127, −104, −83, −65, −49, −35, −22, −10, 1, 13, 25, 38, 53, 69, 89,
// 113), which a nibble indexes. The 16 int8 values are packed four to a word and picked with selects and a
// shift, all four nibbles at once, rather than indexed in a const array (as llama.cpp's WebGPU shaders do): the
// CPU adapters keep const arrays in memory (shaders/README.md, "What costs time on the CPU adapters").
const IQ4_VALUES_0: u32 = 0xbfad9881u; // −127, −104, −83, −65 (int8, byte 0 first)
const IQ4_VALUES_1: u32 = 0xf6eaddcfu; // −49, −35, −22, −10
const IQ4_VALUES_2: u32 = 0x26190d01u; // 1, 13, 25, 38
const IQ4_VALUES_3: u32 = 0x71594535u; // 53, 69, 89, 113

/// The codebook values of four nibbles: bit 2 picks the word within a pair, bit 3 the pair, bits 0–1 the byte.
fn iq4_values(q: vec4<u32>) -> vec4<i32> {
  let odd = (q & vec4<u32>(4u)) != vec4<u32>(0u);
  let low = select(vec4<u32>(IQ4_VALUES_0), vec4<u32>(IQ4_VALUES_1), odd);
  let high = select(vec4<u32>(IQ4_VALUES_2), vec4<u32>(IQ4_VALUES_3), odd);
  let w = select(low, high, (q & vec4<u32>(8u)) != vec4<u32>(0u));
  return bitcast<vec4<i32>>(w << (vec4<u32>(24u) - 8u * (q & vec4<u32>(3u)))) >> vec4<u32>(24u);
}
