// Greedy sampling: token[0] = index of the largest logit, the LOWEST index on ties (like llama2.c's
// strict `>` scan). One workgroup (dispatch 1). Each thread scans a strided slice in ascending order,
// then one barrier and thread 0 merges the 64 candidates. Loop bounds never depend on the values, so
// NaNs cannot make it spin; a NaN is never "greater" and so only wins if it is a slice's first element.

override N: u32;

const WG: u32 = 64u;
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> logits: array<f32>;        // [N]
@group(0) @binding(1) var<storage, read_write> token: array<u32>;   // [1]

var<workgroup> best_value: array<f32, WG>;
var<workgroup> best_index: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  var bi = NONE;
  var bv = 0.0;
  if (t < N) {
    bi = t;
    bv = logits[t];
  }
  for (var i = t + WG; i < N; i += WG) {
    let v = logits[i];
    if (v > bv) {
      bv = v;
      bi = i;
    }
  }
  best_value[t] = bv;
  best_index[t] = bi;
  workgroupBarrier();
  if (t != 0u) { return; }
  var gi = best_index[0];
  var gv = best_value[0];
  for (var k = 1u; k < WG; k++) {
    let i = best_index[k];
    let v = best_value[k];
    if (i != NONE && (v > gv || (v == gv && i < gi))) {
      gv = v;
      gi = i;
    }
  }
  token[0] = gi;
}
