// Token embedding lookup: out[t] = W[token[t], :] for each token t of the batch (1 when decoding). Needs a dtype preamble (WeightWords, load_weight), which
// dequantizes exactly as ggml does, so a quantized table gives bit-identical rows (lookups compile with Act = f32
// whatever the model's precision: src/gpu/kernels.ts).
// Dispatch (ceil(DIM / 64), tokens).

override DIM: u32;
// The rows of the table this binding holds: a table larger than one storage binding is bound in row
// blocks, one dispatch each, and only the block holding the token writes.
override ROW_START: u32 = 0u;
override ROWS: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> token: array<u32>;        // [tokens]
@group(0) @binding(1) var<storage, read> W: WeightWords;            // [VOCAB, DIM] row-major
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [tokens, DIM]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= DIM) { return; }
  let t = token[gid.y];
  if (t < ROW_START || t - ROW_START >= ROWS) { return; }
  out[gid.y * DIM + i] = f32(load_weight((t - ROW_START) * DIM + i));
}
