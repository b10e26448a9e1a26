// Weight preamble for f32 weights: one f32 per element. Prepended to embedding.wgsl and matvec.wgsl;
// the kernel declares `W: WeightWords` (module-scope declarations are order-independent).
alias WeightWords = array<f32>;

/// Element i of the weight tensor.
fn load_weight(i: u32) -> f32 { return W[i]; }

/// Elements i and i+1. The f16 twin requires i even; here any i works.
fn load_weight2(i: u32) -> vec2<f32> { return vec2<f32>(W[i], W[i + 1u]); }
