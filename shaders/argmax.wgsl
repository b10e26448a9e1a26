// Greedy sampling: token[0] = index of the largest logit, the LOWEST index on ties (like llama2.c's
// strict `>` scan and llama.cpp's greedy sampler). Loop bounds never depend on the values, so NaNs cannot make
// it spin; a NaN is never "greater" and so only wins if it is a lane's first element.
//   main (dispatch 1): one workgroup of 64; each thread scans a strided slice in ascending order, one barrier,
//     thread 0 merges the 64 candidates. The software profile's form: on CPU adapters one workgroup is enough.
//   partials (dispatch PARTS) then finish (dispatch 1): the GPU form. Workgroup g reduces the contiguous slice
//     g of the logits (its 256 lanes read adjacent elements: coalesced) to one (max, index) in parts[g]; finish
//     reduces the PARTS partials. A tree of "larger, or equal and lower index" merges: the same winner as main.
//     On the GPU profile the output head's product writes the partials itself (common/matvec-lanes.wgsl's main_argmax:
//     one per workgroup of 4 rows, so PARTS is ceil(N / 4), tens of thousands), and only finish runs: its 256
//     lanes read any count of them in strides of 256 (adjacent lanes, adjacent slots: coalesced).

override N: u32;
override PARTS: u32 = 1u; // the partials: workgroups of `partials` (at most WIDE), or of the head's main_argmax (any count)

const WG: u32 = 64u;
const WIDE: u32 = 256u;
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> logits: array<f32>;        // [N]
@group(0) @binding(1) var<storage, read_write> token: array<u32>;   // [1]
@group(0) @binding(2) var<storage, read_write> parts: array<u32>;   // [2 · PARTS]: max values (f32 bits), then their indices

var<workgroup> best_value: array<f32, WIDE>;
var<workgroup> best_index: array<u32, WIDE>;

/** Whether candidate (v, i) beats (bv, bi): larger, or equal with a lower index; NONE marks "no candidate". */
fn beats(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return i != NONE && (bi == NONE || v > bv || (v == bv && i < bi));
}

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

/** Tree-merges the WIDE lanes' candidates; lane 0 ends with the winner. */
fn merge_lanes(t: u32) {
  for (var stride = WIDE / 2u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (t < stride && beats(best_value[t + stride], best_index[t + stride], best_value[t], best_index[t])) {
      best_value[t] = best_value[t + stride];
      best_index[t] = best_index[t + stride];
    }
  }
}

@compute @workgroup_size(WIDE)
fn partials(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let chunk = (N + PARTS - 1u) / PARTS;
  let lo = min(wg.x * chunk, N);
  let hi = min(lo + chunk, N);
  var bi = NONE;
  var bv = 0.0;
  for (var i = lo + t; i < hi; i += WIDE) {
    let v = logits[i];
    if (bi == NONE || v > bv) {
      bv = v;
      bi = i;
    }
  }
  best_value[t] = bv;
  best_index[t] = bi;
  merge_lanes(t);
  if (t == 0u) {
    parts[wg.x] = bitcast<u32>(best_value[0]);
    parts[PARTS + wg.x] = best_index[0];
  }
}

@compute @workgroup_size(WIDE)
fn finish(@builtin(local_invocation_index) t: u32) {
  var bi = NONE;
  var bv = 0.0;
  for (var k = t; k < PARTS; k += WIDE) {
    let v = bitcast<f32>(parts[k]);
    let i = parts[PARTS + k];
    if (beats(v, i, bv, bi)) {
      bv = v;
      bi = i;
    }
  }
  best_value[t] = bv;
  best_index[t] = bi;
  merge_lanes(t);
  if (t == 0u) { token[0] = best_index[0]; }
}
