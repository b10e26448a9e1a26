// Log-probabilities of the model's own distribution (log-softmax of the raw logits, as OpenAI-compatible
// servers report them) for the chosen token, and the `top_logprobs` most likely tokens (largest logit first,
// lower id first on ties), in ONE workgroup (dispatch 1) after the draw. out = [logprob of token[0], then
// (id as f32 bits, logprob) pairs]. Only requests with logprobs run it. CPU twin: test/reference/sampler.ts.

const WG: u32 = 256u;
const NONE: u32 = 0xffffffffu;

override N: u32;

@group(0) @binding(0) var<uniform> s: Sampling;
@group(0) @binding(1) var<storage, read> logits: array<f32>;        // [N]
@group(0) @binding(2) var<storage, read_write> token: array<u32>;   // [1]: the chosen id (read only here)
@group(0) @binding(3) var<storage, read_write> out: array<u32>;     // [1 + 2 · top_logprobs]: f32 bits and ids

var<workgroup> part_f: array<f32, WG>;
var<workgroup> part_u: array<u32, WG>;
var<workgroup> total_f: f32;
var<workgroup> total_u: u32;

/** The largest value (lowest id on ties) among each thread's candidate (v, i); i = NONE for none. */
fn best(t: u32, v: f32, i: u32) {
  part_f[t] = v;
  part_u[t] = i;
  workgroupBarrier();
  if (t == 0u) {
    var gv = 0.0;
    var gi = NONE;
    for (var k = 0u; k < WG; k++) {
      let ki = part_u[k];
      if (ki != NONE && (gi == NONE || part_f[k] > gv || (part_f[k] == gv && ki < gi))) { gv = part_f[k]; gi = ki; }
    }
    total_f = gv;
    total_u = gi;
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let chunk = (N + WG - 1u) / WG;
  let lo = min(t * chunk, N);
  let hi = min(lo + chunk, N);

  var bv = 0.0;
  var bi = NONE;
  for (var i = lo; i < hi; i++) {
    if (bi == NONE || logits[i] > bv) { bv = logits[i]; bi = i; }
  }
  best(t, bv, bi);
  let lmax = workgroupUniformLoad(&total_f);
  var partial = 0.0;
  for (var i = lo; i < hi; i++) { partial += exp(logits[i] - lmax); }
  part_f[t] = partial;
  workgroupBarrier();
  if (t == 0u) {
    var acc = 0.0;
    for (var k = 0u; k < WG; k++) { acc += part_f[k]; }
    total_f = lmax + log(acc);
  }
  let lse = workgroupUniformLoad(&total_f);
  if (t == 0u) { out[0] = bitcast<u32>(logits[token[0]] - lse); }

  // The n largest, one per round: each round takes the largest after the previous one in (value desc, id asc).
  var pv = 0.0;
  var pi = NONE;
  for (var n = 0u; n < s.top_logprobs; n++) {
    bv = 0.0;
    bi = NONE;
    for (var i = lo; i < hi; i++) {
      let v = logits[i];
      let after = pi == NONE || v < pv || (v == pv && i > pi);
      if (after && (bi == NONE || v > bv)) { bv = v; bi = i; }
    }
    best(t, bv, bi);
    pv = workgroupUniformLoad(&total_f);
    pi = workgroupUniformLoad(&total_u);
    if (t == 0u) {
      out[1u + 2u * n] = pi;
      out[2u + 2u * n] = bitcast<u32>(pv - lse);
    }
  }
}
