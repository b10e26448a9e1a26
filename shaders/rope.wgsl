// Rotary position embedding, in place on x = [tokens, N_HEADS, HEAD_DIM] (q or k of a batch of tokens at
// positions pos, pos + 1, …; one token when decoding).
// The angles come from a host-computed table cos_sin[pos][i] = (cos θ, sin θ), θ = pos · base^(−2i/ROT_DIM),
// so large-angle accuracy does not depend on the GPU's cos/sin. Dims past ROT_DIM stay untouched.
// NEOX = false: llama "norm" style, pairs (2i, 2i+1); NEOX = true: pairs (i, i + ROT_DIM/2).
// One thread per pair; dispatch (ceil(N_HEADS * ROT_DIM / 2 / 64), tokens).

struct Step { pos: u32 }

override N_HEADS: u32;
override HEAD_DIM: u32;
override ROT_DIM: u32;
override NEOX: bool;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;       // [tokens, N_HEADS, HEAD_DIM]
@group(0) @binding(2) var<storage, read> cos_sin: array<f32>;       // [CTX, ROT_DIM/2, 2]

// main_packed only: per token (rope position, …): sequences packed in one batch each start at position 0.
@group(0) @binding(3) var<storage, read> seqs: array<vec4<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  rotate(gid, step.pos + gid.y);
}

@compute @workgroup_size(64)
fn main_packed(@builtin(global_invocation_id) gid: vec3<u32>) {
  rotate(gid, seqs[gid.y].x);
}

fn rotate(gid: vec3<u32>, pos: u32) {
  let half_rot = ROT_DIM / 2u;
  let t = gid.x;
  if (t >= N_HEADS * half_rot) { return; }
  let head = t / half_rot;
  let i = t % half_rot;
  let angle = (pos * half_rot + i) * 2u;
  let c = cos_sin[angle];
  let s = cos_sin[angle + 1u];
  let base = (gid.y * N_HEADS + head) * HEAD_DIM;
  let ia = select(base + 2u * i, base + i, NEOX);
  let ib = select(ia + 1u, ia + half_rot, NEOX);
  let a = x[ia];
  let b = x[ib];
  x[ia] = a * c - b * s;
  x[ib] = a * s + b * c;
}
