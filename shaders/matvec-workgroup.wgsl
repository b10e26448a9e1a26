// Matrix-vector product for GPUs without subgroups: out[r] = Σ_c W[r, c] · x[c], the same product, bindings,
// overrides, preambles and entry points as matvec.wgsl; the row walk, its layout and dispatch (workgroup 64 on
// four rows, neighbouring lanes reading neighbouring words of the same rows) are common/matvec-lanes.wgsl's, as
// matvec-subgroup.wgsl's are. Only the reduction differs: the lanes' four row sums (one vec4 each) meet in
// workgroup memory and are added in a tree, halving the active lanes each step (64 → 32 → … → 1, one barrier
// per step), so no subgroup operation (and no `enable subgroups;`) is needed.
// Why not matvec.wgsl on these GPUs: a thread walking whole rows alone reads memory in scattered strides and a
// 16-thread workgroup fills a fraction of a GPU's lanes; here each load instruction of the 64 lanes reads
// contiguous words, and each x element read serves four rows.
// Sums: as the subgroup kernel's, lanes' partials in Act (carried into f32 with f16), the reduction in f32; the
// sums are in another order than matvec.wgsl's, so decoding and a prefill pass agree within rounding.
// The same reduction serves the 8-bit-activation product (kernel matvec-q8-workgroup): then the row walk appended is
// common/matvec-q8-lanes.wgsl's (the entry points, common/lane-entries.wgsl, follow either walk).

/// The lanes' four row sums, reduced in place: after the last step slot 0 holds the workgroup's.
var<workgroup> partials: array<vec4<f32>, WORKGROUP>;

/// The sum over the workgroup's lanes of each lane's four row sums `mine`, in every lane. Called by all 64 lanes (uniform).
fn lanes_total(mine: vec4<f32>, lane: u32) -> vec4<f32> {
  partials[lane] = mine;
  workgroupBarrier();
  for (var half = WORKGROUP / 2u; half > 0u; half >>= 1u) {
    if (lane < half) { partials[lane] += partials[lane + half]; }
    workgroupBarrier();
  }
  return partials[0];
}
