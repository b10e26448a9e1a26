// Preamble of the sampler kernels (logit-process, sample, sample-wide, logprobs): the per-request uniform that
// src/sampler/gpu-sampler.ts writes (48 bytes, in this field order) and its flags. One declaration for the four
// kernels, composed by src/gpu/shaders.ts (WGSL has no imports).

struct Sampling {
  inv_temperature: f32,    // 1 / temperature; 1 when greedy
  repetition_penalty: f32, // 1 = off
  frequency_penalty: f32,
  presence_penalty: f32,
  top_p: f32,              // 1 = off
  min_p_log: f32,          // ln(min_p), computed on the CPU; -3.4e38 = off
  top_k: u32,              // 0 = off
  seed: u32,
  flags: u32,              // FLAG_* below
  top_logprobs: u32,
  pad0: u32,
  pad1: u32,
}

const FLAG_MASK: u32 = 1u;      // a token mask (JSON mode) is applied
const FLAG_BIAS: u32 = 2u;      // logit_bias is applied
const FLAG_PENALTIES: u32 = 4u; // repetition / frequency / presence penalties are applied
const FLAG_GREEDY: u32 = 8u;    // take the argmax instead of drawing
