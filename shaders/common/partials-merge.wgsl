// The merge of split attention's partials, shared by attention-combine.wgsl (split-K) and
// attention-decode-combine.wgsl (flash-decoding): chunk c left acc_c = Σ exp(s − m_c)·v over its positions and
// (m_c, l_c) after them, at partials[first + c · (dim4 + 1)]; the merge is
// out = Σ_c acc_c·exp(m_c − M) / Σ_c l_c·exp(m_c − M), M = max m_c: the same max-subtracted softmax as one chunk.
// The kernels declare `partials: array<vec4<f32>>`.

const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32: the m of an empty chunk

/// Vec4 d of the head whose `chunks` partials start at `first` (rows of dim4 + 1 vec4s), merged and normalized.
fn merge_partials(first: u32, chunks: u32, d: u32, dim4: u32) -> vec4<f32> {
  let stride = dim4 + 1u;
  var big_m = LOWEST;
  for (var c = 0u; c < chunks; c++) {
    big_m = max(big_m, partials[first + c * stride + dim4].x);
  }
  var big_l = 0.0;
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < chunks; c++) {
    let m_l = partials[first + c * stride + dim4];
    let rescale = exp(m_l.x - big_m);
    big_l += m_l.y * rescale;
    acc += partials[first + c * stride + d] * rescale;
  }
  return acc / big_l;
}
