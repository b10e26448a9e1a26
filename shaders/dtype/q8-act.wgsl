// Preamble of the integer-dot kernels (matvec-q8, matmul-q8), after the dtype preamble (which gives Q8Block and
// q8_block): reading the activation blocks that quantize-q8.wgsl writes (`xq: array<u32>`, 10 words a block), and
// the product of a weight block and an activation block. Both kernels use this one function, so their sums agree
// bit for bit.

/// Activation block b (from word o = 10·b): its scale, Σq, and its 32 quants (elements 0–15, 16–31).
struct ActBlock { d: f32, sum: i32, lo: vec4<u32>, hi: vec4<u32> }
fn act_block(o: u32) -> ActBlock {
  return ActBlock(bitcast<f32>(xq[o]), bitcast<i32>(xq[o + 1u]),
                  vec4<u32>(xq[o + 2u], xq[o + 3u], xq[o + 4u], xq[o + 5u]), vec4<u32>(xq[o + 6u], xq[o + 7u], xq[o + 8u], xq[o + 9u]));
}

/// A weight block times an activation block: (d_w · d_x) · Σ w_q · x_q, the weights' offset taken out with Σ x_q.
fn block_product(w: Q8Block, a: ActBlock) -> f32 {
  let s = dot4I8Packed(w.lo.x, a.lo.x) + dot4I8Packed(w.lo.y, a.lo.y) + dot4I8Packed(w.lo.z, a.lo.z) + dot4I8Packed(w.lo.w, a.lo.w)
        + dot4I8Packed(w.hi.x, a.hi.x) + dot4I8Packed(w.hi.y, a.hi.y) + dot4I8Packed(w.hi.z, a.hi.z) + dot4I8Packed(w.hi.w, a.hi.w);
  return (w.d * a.d) * f32(s - w.offset * a.sum);
}

