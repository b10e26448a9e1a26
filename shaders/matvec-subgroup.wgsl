// Matrix-vector product with subgroup reductions, for GPUs: out[r] = Σ_c W[r, c] · x[c], the same product,
// bindings, overrides, preambles and entry points as matvec.wgsl; the row walk, its layout and dispatch
// (workgroup 64 on four rows, coalesced) are common/matvec-lanes.wgsl's, and this file reduces the lanes' sums.
// Needs the device feature 'subgroups': shaderSource puts `enable subgroups;` at the top of the module (adapters
// without it run matvec-workgroup.wgsl, which reduces through workgroup memory alone).
// Reduction: the lanes' four row sums go through one subgroupAdd (vec4: all four rows at once); one elected lane
// per subgroup writes them to a workgroup slot of its own (its local index, so nothing is assumed about how the
// invocations of a workgroup are grouped into subgroups, nor about the subgroup size: WebGPU allows 4 to 128; a
// subgroup larger than the workgroup is simply partly empty); after the one workgroupBarrier, every lane adds
// the 64 slots (the unused ones hold 0, which adds exactly).
// Chosen only on GPUs (the 'subgroups' feature and not runsOnCpu): the CPU adapters (lavapipe, SwiftShader)
// have no coalescing to gain and pay for the barrier and the per-step block decoding; they keep matvec.wgsl.
// The same reduction serves the 8-bit-activation product (kernel matvec-q8-subgroup): then the row walk appended is
// common/matvec-q8-lanes.wgsl's (the entry points, common/lane-entries.wgsl, follow either walk).

/// One slot per invocation: the four row sums of a subgroup, at the local index of its elected lane; 0 elsewhere.
var<workgroup> partials: array<vec4<f32>, WORKGROUP>;

/// The sum over the workgroup's lanes of each lane's four row sums `mine`, in every lane. Called by all 64 lanes (uniform).
fn lanes_total(mine: vec4<f32>, lane: u32) -> vec4<f32> {
  let sums = subgroupAdd(mine);
  partials[lane] = select(vec4<f32>(0.0), sums, subgroupElect());
  workgroupBarrier();
  var result = vec4<f32>(0.0);
  for (var i = 0u; i < WORKGROUP; i++) { result += partials[i]; }
  return result;
}
