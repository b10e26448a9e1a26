// The store of the batched products' main (matmul.wgsl, matmul-q8.wgsl, matmul-tiled.wgsl), after the kernel and
// before its entry points: out[t] = W x[t], a row block's rows placed with OUT_STRIDE and ROW_START (which the
// kernel declares). The stacked forms store through common/products.wgsl.

/// Token t's four row sums s of rows r0 … r0 + 3 into out, added to it with RESIDUAL (rows past ROWS are not written).
fn store_rows(t: u32, r0: u32, s: vec4<f32>) {
  let o = t * OUT_STRIDE + ROW_START + r0;
  store_out(o, s.x);
  if (r0 + 1u < ROWS) { store_out(o + 1u, s.y); }
  if (r0 + 2u < ROWS) { store_out(o + 2u, s.z); }
  if (r0 + 3u < ROWS) { store_out(o + 3u, s.w); }
}
