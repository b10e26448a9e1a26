// KV cache element preamble: an f32 cache (the kernels that read or write the cache declare it as array<KvScalar>
// or array<vec4<KvScalar>> and convert on load and store, which for f32 is the identity, so the f32 cache is
// exactly what it was before there was a choice). kv-f16.wgsl halves the cache's bytes.
alias KvScalar = f32;
