// Learned position embedding (GPT-2): x[t] += W[pos + t, :] for each token t of the batch (pos: the first's). Needs a dtype preamble (WeightWords, load_weight).
// Dispatch (ceil(DIM / 64), tokens).

struct Step { pos: u32 }

override DIM: u32;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> W: WeightWords;            // [CTX_TRAIN, DIM] row-major
@group(0) @binding(2) var<storage, read_write> x: array<f32>;       // [tokens, DIM]

// main_packed only: per token (position, …): sequences packed in one batch each start at position 0.
@group(0) @binding(3) var<storage, read> seqs: array<vec4<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  add_row(gid, step.pos + gid.y);
}

@compute @workgroup_size(64)
fn main_packed(@builtin(global_invocation_id) gid: vec3<u32>) {
  add_row(gid, seqs[gid.y].x);
}

fn add_row(gid: vec3<u32>, pos: u32) {
  let i = gid.x;
  if (i >= DIM) { return; }
  x[gid.y * DIM + i] += f32(load_weight(pos * DIM + i));
}
