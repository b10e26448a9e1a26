// The score of a query·key product, shared by the attention kernels (attention.wgsl, attention-decode.wgsl,
// attention-prefill.wgsl), which declare SCALE and SOFTCAP: qk · SCALE, soft-capped with SOFTCAP > 0
// (Gemma 2: s → SOFTCAP · tanh(s / SOFTCAP)).
fn capped(qk: f32) -> f32 {
  let s = qk * SCALE;
  if (SOFTCAP > 0.0) {
    // Clamped: tanh is 1 in f32 long before 10, and tanh through exp would overflow to NaN.
    return tanh(clamp(s / SOFTCAP, -10.0, 10.0)) * SOFTCAP;
  }
  return s;
}
