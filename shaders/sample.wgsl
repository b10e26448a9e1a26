// Picks the next token from the processed scores (logit-process.wgsl) in ONE workgroup (dispatch 1): only the
// chosen id leaves the GPU. Each thread owns a contiguous slice; a reduction = partials, thread 0 combines them
// in thread order, all read the result by workgroupUniformLoad (2 barriers; uniform, so loops may hold barriers).
// With m_i = exp(s_i − max s): greedy = largest score, lowest id on ties. top-k = the k largest (lower id first
// on ties) by radix select on order-preserving u32 keys (4 histogram passes; ties cut by id, rare). top-p = of
// those, the smallest "key ≥ τ" set holding top_p of their mass (τ by radix select on mass, 11 passes; ties kept). min-p = s_i ≥ max s
// + ln(min_p) (transformers' order: temperature, top-k, top-p, min-p). The draw: r = uniform01(seed, counter) ·
// kept mass, the token where the running sum in id order passes r. Then history[id] += 1 and the counter
// advances on the GPU. `report` is for the tests (CPU twin: test/reference/sampler.ts). Needs the sampling,
// pcg and draw preambles (common/sampling.wgsl, common/pcg.wgsl, common/draw.wgsl: WG, NONE, N, the bindings,
// part_* and total_*, key).

var<workgroup> picked: u32;
var<workgroup> hist: array<atomic<u32>, WG>;  // radix-select histogram (WG = 256 = one bin per digit)
var<workgroup> sel_digit: u32;
var<workgroup> sel_need: u32;
var<workgroup> sel_ties: u32;
var<workgroup> bin_part: array<f32, 2048>;   // top-p: [8 digits][WG threads] partial masses
var<workgroup> bin_sum: array<f32, 8>;
var<workgroup> sel_above: f32;

fn sum_u(t: u32, v: u32) -> u32 {
  part_c[t] = v;
  workgroupBarrier();
  if (t == 0u) {
    var acc = 0u;
    for (var k = 0u; k < WG; k++) { acc += part_c[k]; }
    total_c = acc;
  }
  return workgroupUniformLoad(&total_c);
}

fn sum_f(t: u32, v: f32) -> f32 {
  part_f[t] = v;
  workgroupBarrier();
  if (t == 0u) {
    var acc = 0.0;
    for (var k = 0u; k < WG; k++) { acc += part_f[k]; }
    total_f = acc;
  }
  return workgroupUniformLoad(&total_f);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let chunk = (N + WG - 1u) / WG;
  let lo = min(t * chunk, N);
  let hi = min(lo + chunk, N);

  // Largest score, lowest id first: slices are in id order, so the first slice holding the maximum wins.
  var bv = 0.0;
  var bi = NONE;
  for (var i = lo; i < hi; i++) {
    let v = scores[i];
    if (bi == NONE || v > bv) { bv = v; bi = i; }
  }
  part_f[t] = bv;
  part_u[t] = bi;
  workgroupBarrier();
  if (t == 0u) {
    var gv = 0.0;
    var gi = NONE;
    for (var k = 0u; k < WG; k++) {
      if (part_u[k] != NONE && (gi == NONE || part_f[k] > gv)) { gv = part_f[k]; gi = part_u[k]; }
    }
    total_f = gv;
    total_u = gi;
  }
  let smax = workgroupUniformLoad(&total_f);
  let amax = workgroupUniformLoad(&total_u);
  let counter = state[0];

  var kk = 0u;      // top-k: keep key > kk, and key == kk with id <= kcut
  var kcut = N;
  var pk = 0u;      // top-p: keep key >= pk
  let mt = smax + s.min_p_log; // min-p: keep s >= mt
  if ((s.flags & FLAG_GREEDY) == 0u && s.top_k > 0u && s.top_k < N) {
    // Radix select, 8 bits a round from the top: the digit of the k-th largest key among keys sharing the
    // digits found so far, from a 256-bin histogram; `need` ends as how many keys equal to it are kept.
    var need = s.top_k;
    var mask = 0u;
    var ties = 0u;
    for (var round = 0u; round < 4u; round++) {
      let shift = 24u - 8u * round;
      atomicStore(&hist[t], 0u);
      workgroupBarrier();
      for (var i = lo; i < hi; i++) {
        let ki = key(scores[i]);
        if ((ki & mask) == kk) { atomicAdd(&hist[(ki >> shift) & 255u], 1u); }
      }
      workgroupBarrier();
      if (t == 0u) {
        var above = 0u;
        var d = 255u;
        loop {
          let h = atomicLoad(&hist[d]);
          if (above + h >= need || d == 0u) { sel_ties = h; break; }
          above += h;
          d -= 1u;
        }
        sel_digit = d;
        sel_need = need - above;
      }
      kk |= workgroupUniformLoad(&sel_digit) << shift;
      need = workgroupUniformLoad(&sel_need);
      ties = workgroupUniformLoad(&sel_ties);
      mask |= 255u << shift;
    }
    if (ties > need) {
      // More tokens tie at the k-th score than places left: keep the `need` lowest ids among them.
      var x = 0u;
      for (var bit = 0x80000000u; bit != 0u; bit >>= 1u) {
        let cand = x | bit;
        var c = 0u;
        for (var i = lo; i < min(hi, cand); i++) { c += select(0u, 1u, key(scores[i]) == kk); }
        if (sum_u(t, c) < need) { x = cand; }
      }
      kcut = x;
    }
  }
  if ((s.flags & FLAG_GREEDY) == 0u && s.top_p < 1.0) {
    var partial = 0.0;
    for (var i = lo; i < hi; i++) {
      let ki = key(scores[i]);
      if (ki > kk || (ki == kk && i <= kcut)) { partial += exp(scores[i] - smax); }
    }
    let goal = s.top_p * sum_f(t, partial);
    // Radix select on mass, 3 bits a round from the top (11 rounds): per-thread mass of each of the 8 digits
    // under the prefix found so far, summed per digit by 8 threads; thread 0 takes the largest digit whose keys,
    // with everything above them, still hold `goal`.
    var pm = 0u;
    var bins: array<f32, 8>;
    if (t == 0u) { sel_above = 0.0; }
    for (var round = 0u; round < 11u; round++) {
      let shift = select(29u - 3u * round, 0u, round == 10u);
      let digits = select(7u, 3u, round == 10u);
      for (var d = 0u; d < 8u; d++) { bins[d] = 0.0; } // explicitly: not every compiler re-zeroes a var declared in a loop
      for (var i = lo; i < hi; i++) {
        let v = scores[i];
        let ki = key(v);
        if ((ki > kk || (ki == kk && i <= kcut)) && (ki & pm) == pk) { bins[(ki >> shift) & digits] += exp(v - smax); }
      }
      for (var d = 0u; d < 8u; d++) { bin_part[d * WG + t] = bins[d]; }
      workgroupBarrier();
      if (t < 8u) {
        var acc = 0.0;
        for (var k = 0u; k < WG; k++) { acc += bin_part[t * WG + k]; }
        bin_sum[t] = acc;
      }
      workgroupBarrier();
      if (t == 0u) {
        var above = sel_above;
        var d = digits;
        loop {
          let m = above + bin_sum[d];
          if (m >= goal || d == 0u) { break; }
          above = m;
          d -= 1u;
        }
        sel_digit = d;
        sel_above = above;
      }
      pk |= workgroupUniformLoad(&sel_digit) << shift;
      pm |= digits << shift;
    }
  }

  // Kept mass per slice (and the last kept id, for an r that rounding puts past the end).
  var partial = 0.0;
  var count = 0u;
  var last = NONE;
  for (var i = lo; i < hi; i++) {
    let v = scores[i];
    let ki = key(v);
    if ((ki > kk || (ki == kk && i <= kcut)) && ki >= pk && v >= mt) {
      let m = exp(v - smax);
      partial += m;
      count += 1u;
      if (m > 0.0) { last = i; }
    }
  }
  part_f[t] = partial;
  part_c[t] = count;
  part_u[t] = last;
  workgroupBarrier();
  if (t == 0u) {
    var acc = 0.0;
    var n = 0u;
    var l = NONE;
    for (var k = 0u; k < WG; k++) {
      acc += part_f[k];
      n += part_c[k];
      if (part_u[k] != NONE) { l = part_u[k]; }
    }
    total_f = acc;
    total_c = n;
    picked = l;
  }
  workgroupBarrier();
  let total = total_f;
  let r = uniform01(s.seed, counter) * total;
  var prefix = 0.0;
  for (var k = 0u; k < t; k++) { prefix += part_f[k]; }
  let next = prefix + part_f[t];
  let kept_count = total_c;
  workgroupBarrier();
  if ((s.flags & FLAG_GREEDY) == 0u && prefix <= r && r < next) {
    var acc = prefix;
    var choice = last;
    for (var i = lo; i < hi; i++) {
      let v = scores[i];
      let ki = key(v);
      if ((ki > kk || (ki == kk && i <= kcut)) && ki >= pk && v >= mt) {
        acc += exp(v - smax);
        if (r < acc) { choice = i; break; }
      }
    }
    picked = choice;
  }
  workgroupBarrier();
  if (t == 0u) {
    let id = select(picked, amax, (s.flags & FLAG_GREEDY) != 0u);
    token[0] = id;
    history[id] += 1u;
    state[0] = counter + 1u;
    report[0] = kept_count;
    report[1] = bitcast<u32>(total);
    report[2] = bitcast<u32>(r);
    report[3] = pk;
  }
}
