// The logit processors that come before the draw, one thread per vocabulary entry (dispatch ceil(N / 64)):
//   grammar mask (JSON mode) → + logit_bias → repetition penalty (tokens seen in the prompt or the output:
//   positive logits divided by it, negative ones multiplied, as transformers/CTRL do) → − count·frequency −
//   presence (tokens of the output, as OpenAI defines them) → · 1/temperature.
// A masked token gets MASKED, whose exp(MASKED − max) is 0: it can never be drawn. Flags in `s.flags` skip
// the reads a request does not need. CPU twin: test/reference/sampler.ts processLogits. Needs the sampling
// preamble (common/sampling.wgsl: Sampling, FLAG_*).

const MASKED: f32 = -3.0e38;

override N: u32;

@group(0) @binding(0) var<uniform> s: Sampling;
@group(0) @binding(1) var<storage, read> logits: array<f32>;       // [N]
@group(0) @binding(2) var<storage, read> bias: array<f32>;         // [N]
@group(0) @binding(3) var<storage, read> history: array<u32>;      // [N]: bit 31 = in the prompt, bits 0..30 = count in the output
@group(0) @binding(4) var<storage, read> mask: array<u32>;         // [ceil(N / 32)]: bit i % 32 of word i / 32 = token i allowed
@group(0) @binding(5) var<storage, read_write> scores: array<f32>;  // [N]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= N) { return; }
  if ((s.flags & FLAG_MASK) != 0u && ((mask[i >> 5u] >> (i & 31u)) & 1u) == 0u) {
    scores[i] = MASKED;
    return;
  }
  var l = logits[i];
  if ((s.flags & FLAG_BIAS) != 0u) { l += bias[i]; }
  if ((s.flags & FLAG_PENALTIES) != 0u) {
    let h = history[i];
    let count = h & 0x7fffffffu;
    if (h != 0u) { l = select(l * s.repetition_penalty, l / s.repetition_penalty, l > 0.0); }
    if (count > 0u) { l -= f32(count) * s.frequency_penalty + s.presence_penalty; }
  }
  scores[i] = l * s.inv_temperature;
}
