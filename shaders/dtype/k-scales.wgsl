// Shared by the Q4_K and Q5_K preambles (composed in src/gpu/shaders.ts): their 12 scale bytes hold
// eight 6-bit (scale, min) pairs packed the way ggml's get_scale_min_k4 reads them.

/// (d·sc, dmin·m) of sub-block s, from the f16 pair (d, dmin) and the 12 scale bytes at word k
/// (ggml get_scale_min_k4: s < 4: q[s] & 63, q[s+4] & 63; s ≥ 4: q[s+4] & 15 | (q[s−4] >> 6) << 4,
/// q[s+4] >> 4 | (q[s] >> 6) << 4).
fn k_scale_min(dm: vec2<f32>, k: u32, s: u32) -> vec2<f32> {
  let shift = 8u * (s & 3u);
  let b0 = (W[k] >> shift) & 0xffu;
  let b1 = (W[k + 1u] >> shift) & 0xffu;
  let b2 = (W[k + 2u] >> shift) & 0xffu;
  let low = vec2<u32>(b0 & 63u, b1 & 63u);
  let high = vec2<u32>((b2 & 15u) | ((b0 >> 6u) << 4u), (b2 >> 4u) | ((b1 >> 6u) << 4u));
  return dm * vec2<f32>(select(high, low, s < 4u));
}
