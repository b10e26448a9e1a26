// Learned position embedding (GPT-2): x[t] += W[pos + t, :] for each token t of the batch (pos: the first's). Needs a dtype preamble (WeightWords, load_weight).
// Dispatch (ceil(DIM / 64), tokens).

struct Step { pos: u32 }

override DIM: u32;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> W: WeightWords;            // [CTX_TRAIN, DIM] row-major
@group(0) @binding(2) var<storage, read_write> x: array<f32>;       // [tokens, DIM]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= DIM) { return; }
  x[gid.y * DIM + i] += f32(load_weight((step.pos + gid.y) * DIM + i));
}
