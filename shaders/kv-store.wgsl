// The K/V cache write of a layer whose q/k/v product cannot write the cache in its epilogue (unstacked
// projections, q/k norms, rope it cannot hold: ForwardBlocks.attentionInput) when the cache is not f32: token t's
// k and v rows [tokens, KV_ROWS] go to cache rows step.pos + t, rounded to the cache's KvScalar (dtype/kv-f16.wgsl).
// An f32 cache takes a buffer copy instead. One thread per element of a token's row: dispatch
// (ceil(KV_ROWS / 64), tokens).

struct Step { pos: u32 }

override KV_ROWS: u32;
override CACHE_ROWS: u32;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> k: array<f32>;                    // [tokens, KV_ROWS]
@group(0) @binding(2) var<storage, read> v: array<f32>;                    // [tokens, KV_ROWS]
@group(0) @binding(3) var<storage, read_write> k_cache: array<KvScalar>;   // [CACHE_ROWS, KV_ROWS]
@group(0) @binding(4) var<storage, read_write> v_cache: array<KvScalar>;   // [CACHE_ROWS, KV_ROWS]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let row = step.pos + gid.y;
  if (i >= KV_ROWS || row >= CACHE_ROWS) {
    return;
  }
  k_cache[row * KV_ROWS + i] = KvScalar(k[gid.y * KV_ROWS + i]);
  v_cache[row * KV_ROWS + i] = KvScalar(v[gid.y * KV_ROWS + i]);
}
