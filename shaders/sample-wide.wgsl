// The GPU sampler's draw over many workgroups, for requests without top-p (those run on sample.wgsl, whose
// radix select on mass stays in one workgroup): greedy, temperature, top-k and min-p. Passes over PARTS contiguous
// slices of the processed scores (logit-process.wgsl), 256 lanes reading adjacent elements (coalesced):
//   slice_max (dispatch PARTS): each slice's largest score, lowest id on ties → parts; zeroes the histograms.
//   top-k (only requests with 0 < top_k < N run them): khist with ROUND = 0..3 (dispatch PARTS each): sample.wgsl's
//     radix select, 8 bits a round from the top, each slice's histogram added to the round's global one; every
//     workgroup redoes the earlier rounds' digit choices from their histograms. kties (dispatch PARTS): where
//     more keys tie at the k-th than places are left, each slice's count of them. kcut (dispatch 1): the k-th
//     key and the id of the last tie kept (the lowest ids win) → parts.
//   slice_mass (dispatch PARTS): with max s from the partials (every workgroup merges them the same way), each
//     slice's kept mass Σ exp(s_i − max s) over the top-k kept with s_i ≥ max s + ln(min_p), its kept count and
//     last id of mass > 0.
//   draw (dispatch 1): r = uniform01(seed, counter) · kept mass; the slice whose range of the running sum (slices
//     in id order) holds r, then the token in it where the running sum in id order passes r. Then history[id] += 1
//     and the counter advances, as sample.wgsl. Greedy takes the max's id.
// The same distribution as sample.wgsl, summed in another order: masses are equal to rounding, and a pick can
// differ only where r lies within that rounding of a boundary between two tokens (CPU twin: test/reference/sampler.ts).
// Reductions are trees and scans in a fixed order, so a seed gives the same token on every run.
// Needs the sampling, pcg and draw preambles (common/sampling.wgsl, common/pcg.wgsl, common/draw.wgsl: WG, NONE, N,
// the bindings 0 to 5, part_* and total_*, key).

override PARTS: u32; // slices (at most WG: draw gives each a lane)
override ROUND: u32 = 0u; // khist: the radix round

// [6 · PARTS + 2] per slice: max score (f32 bits), its id, kept mass (f32 bits), kept count, last id of mass > 0,
// ties at the k-th key; then the k-th key and the last tie kept (kcut)
@group(0) @binding(6) var<storage, read_write> parts: array<u32>;
@group(0) @binding(7) var<storage, read_write> hist: array<atomic<u32>>; // [4 · 256]: top-k's histogram per round

var<workgroup> found: atomic<u32>;
var<workgroup> local_hist: array<atomic<u32>, WG>;
var<workgroup> sel: vec3<u32>;

fn topk_active() -> bool {
  return (s.flags & FLAG_GREEDY) == 0u && s.top_k > 0u && s.top_k < N;
}

/** Top-k's selection so far: the key prefix found, how many keys under it are still to keep, and ties at the last digit. */
struct Select { prefix: u32, mask: u32, need: u32, ties: u32 }

/** Redoes the digit choices of radix rounds 0 .. rounds − 1 from their histograms (sample.wgsl's rule). */
fn replay_rounds(t: u32, rounds: u32) -> Select {
  var x = Select(0u, 0u, s.top_k, 0u);
  for (var round = 0u; round < rounds; round++) {
    let shift = 24u - 8u * round;
    part_c[t] = atomicLoad(&hist[round * WG + t]);
    workgroupBarrier();
    if (t == 0u) {
      var above = 0u;
      var d = 255u;
      var ties = 0u;
      loop {
        let h = part_c[d];
        if (above + h >= x.need || d == 0u) { ties = h; break; }
        above += h;
        d -= 1u;
      }
      sel = vec3<u32>(d, x.need - above, ties);
    }
    let chosen = workgroupUniformLoad(&sel);
    x = Select(x.prefix | (chosen.x << shift), x.mask | (255u << shift), chosen.y, chosen.z);
  }
  return x;
}

/** Whether top-k keeps score v at id i: above the k-th key, or at it and not after the last tie kept. */
fn topk_keeps(v: f32, i: u32, kk: u32, kcut: u32) -> bool {
  let ki = key(v);
  return ki > kk || (ki == kk && i <= kcut);
}

/** The k-th key and kcut (kcut] from kcut's pass, or what keeps everything. */
fn topk_bounds() -> vec2<u32> {
  if (topk_active()) { return vec2<u32>(parts[6u * PARTS], parts[6u * PARTS + 1u]); }
  return vec2<u32>(0u, N);
}

struct Best { value: f32, index: u32 }

fn slice_bounds(g: u32) -> vec2<u32> {
  let chunk = (N + PARTS - 1u) / PARTS;
  let lo = min(g * chunk, N);
  return vec2<u32>(lo, min(lo + chunk, N));
}

/** Whether (v, i) beats (bv, bi): larger, or equal with a lower id; NONE marks "no candidate". */
fn beats(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return i != NONE && (bi == NONE || v > bv || (v == bv && i < bi));
}

/** The last of two ids, NONE meaning none. */
fn later(a: u32, b: u32) -> u32 {
  return select(max(a, b), min(a, b), a == NONE || b == NONE);
}

/** The best of the lanes' candidates, for every lane (a tree in lane order). */
fn reduce_best(t: u32, b: Best) -> Best {
  workgroupBarrier();
  part_f[t] = b.value;
  part_u[t] = b.index;
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (t < stride && beats(part_f[t + stride], part_u[t + stride], part_f[t], part_u[t])) {
      part_f[t] = part_f[t + stride];
      part_u[t] = part_u[t + stride];
    }
  }
  if (t == 0u) {
    total_f = part_f[0];
    total_u = part_u[0];
  }
  return Best(workgroupUniformLoad(&total_f), workgroupUniformLoad(&total_u));
}

/** Sums of the lanes' masses and counts and the last of their ids, left in total_f, total_c, total_u (a tree in lane order). */
fn reduce_mass(t: u32, mass: f32, count: u32, last: u32) {
  workgroupBarrier();
  part_f[t] = mass;
  part_c[t] = count;
  part_u[t] = last;
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (t < stride) {
      part_f[t] += part_f[t + stride];
      part_c[t] += part_c[t + stride];
      part_u[t] = later(part_u[t], part_u[t + stride]);
    }
  }
  if (t == 0u) {
    total_f = part_f[0];
    total_c = part_c[0];
    total_u = part_u[0];
  }
  workgroupBarrier();
}

/** Inclusive prefix sum of x over the lanes (Hillis–Steele, fixed order); part_f[WG − 1] holds the total after it. */
fn scan_lanes(t: u32, x: f32) -> f32 {
  workgroupBarrier(); // earlier readers of part_f are done
  part_f[t] = x;
  for (var offset = 1u; offset < WG; offset <<= 1u) {
    workgroupBarrier();
    var add = 0.0;
    if (t >= offset) { add = part_f[t - offset]; }
    workgroupBarrier();
    part_f[t] += add;
  }
  workgroupBarrier();
  return part_f[t];
}

/** max s and its id from the slices' partials; every workgroup merges them in the same order. */
fn max_of_parts(t: u32) -> Best {
  var b = Best(0.0, NONE);
  if (t < PARTS) { b = Best(bitcast<f32>(parts[t]), parts[PARTS + t]); }
  return reduce_best(t, b);
}

@compute @workgroup_size(WG)
fn slice_max(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = slice_bounds(wg.x);
  var b = Best(0.0, NONE);
  for (var i = range.x + t; i < range.y; i += WG) {
    let v = scores[i];
    if (b.index == NONE || v > b.value) { b = Best(v, i); }
  }
  let best = reduce_best(t, b);
  if (t == 0u) {
    parts[wg.x] = bitcast<u32>(best.value);
    parts[PARTS + wg.x] = best.index;
  }
  if (wg.x == 0u) {
    for (var k = t; k < 4u * WG; k += WG) { atomicStore(&hist[k], 0u); }
  }
}

@compute @workgroup_size(WG)
fn khist(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  if (!topk_active()) { return; }
  let x = replay_rounds(t, ROUND);
  let shift = 24u - 8u * ROUND;
  atomicStore(&local_hist[t], 0u);
  workgroupBarrier();
  let range = slice_bounds(wg.x);
  for (var i = range.x + t; i < range.y; i += WG) {
    let ki = key(scores[i]);
    if ((ki & x.mask) == x.prefix) { atomicAdd(&local_hist[(ki >> shift) & 255u], 1u); }
  }
  workgroupBarrier();
  let c = atomicLoad(&local_hist[t]);
  if (c > 0u) { atomicAdd(&hist[ROUND * WG + t], c); }
}

@compute @workgroup_size(WG)
fn kties(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  if (!topk_active()) { return; }
  let x = replay_rounds(t, 4u);
  if (x.ties <= x.need) { return; }
  let range = slice_bounds(wg.x);
  var count = 0u;
  for (var i = range.x + t; i < range.y; i += WG) { count += select(0u, 1u, key(scores[i]) == x.prefix); }
  reduce_mass(t, 0.0, count, NONE);
  if (t == 0u) { parts[5u * PARTS + wg.x] = total_c; }
}

@compute @workgroup_size(WG)
fn kcut(@builtin(local_invocation_index) t: u32) {
  if (!topk_active()) { return; }
  let x = replay_rounds(t, 4u);
  var cut = N;
  if (x.ties > x.need) {
    // The need-th tie in id order: its slice from a scan of the slices' counts (exact in f32 below 2²⁴), then
    // a scan of that slice.
    var c = 0.0;
    if (t < PARTS) { c = f32(parts[5u * PARTS + t]); }
    let after = scan_lanes(t, c);
    var before = 0.0;
    if (t > 0u) { before = part_f[t - 1u]; }
    let need = f32(x.need);
    if (t == 0u) { total_u = NONE; }
    workgroupBarrier();
    if (t < PARTS && before < need && need <= after) { total_u = t; }
    let g = workgroupUniformLoad(&total_u);
    var carry = 0.0;
    if (g > 0u && g != NONE) { carry = part_f[g - 1u]; }
    let range = select(vec2<u32>(0u, 0u), slice_bounds(g), g != NONE); // none: counts and histograms disagree (a bug)
    if (t == 0u) { atomicStore(&found, NONE); total_u = N; }
    for (var base = range.x; base < range.y; base += WG) {
      let i = base + t;
      var tie = 0.0;
      if (i < range.y && key(scores[i]) == x.prefix) { tie = 1.0; }
      let rank = carry + scan_lanes(t, tie);
      if (tie > 0.0 && rank == need) { atomicStore(&found, i); }
      carry += part_f[WG - 1u];
      workgroupBarrier();
      if (t == 0u) { total_u = atomicLoad(&found); }
      if (workgroupUniformLoad(&total_u) != NONE) { break; }
    }
    cut = workgroupUniformLoad(&total_u);
  }
  if (t == 0u) {
    parts[6u * PARTS] = x.prefix;
    parts[6u * PARTS + 1u] = cut;
  }
}

@compute @workgroup_size(WG)
fn slice_mass(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  if ((s.flags & FLAG_GREEDY) != 0u) { return; }
  let smax = max_of_parts(t).value;
  let mt = smax + s.min_p_log; // min-p: keep s >= mt
  let k = topk_bounds();
  let range = slice_bounds(wg.x);
  var mass = 0.0;
  var count = 0u;
  var last = NONE;
  for (var i = range.x + t; i < range.y; i += WG) {
    let v = scores[i];
    if (v >= mt && topk_keeps(v, i, k.x, k.y)) {
      let m = exp(v - smax);
      mass += m;
      count += 1u;
      if (m > 0.0) { last = i; }
    }
  }
  reduce_mass(t, mass, count, last);
  if (t == 0u) {
    parts[2u * PARTS + wg.x] = bitcast<u32>(total_f);
    parts[3u * PARTS + wg.x] = total_c;
    parts[4u * PARTS + wg.x] = total_u;
  }
}

/** The token of slice g where the running sum (from the slice's start, `prefix`) passes r; NONE if rounding puts r past it. */
fn draw_in_slice(t: u32, g: u32, prefix: f32, r: f32, smax: f32) -> u32 {
  let mt = smax + s.min_p_log;
  let k = topk_bounds();
  let range = slice_bounds(g);
  if (t == 0u) { atomicStore(&found, NONE); }
  var carry = prefix;
  for (var base = range.x; base < range.y; base += WG) {
    let i = base + t;
    var m = 0.0;
    if (i < range.y) {
      let v = scores[i];
      if (v >= mt && topk_keeps(v, i, k.x, k.y)) { m = exp(v - smax); }
    }
    let running = carry + scan_lanes(t, m);
    // The first token whose running sum passes r; one of mass 0 never is (the token before it passes r first).
    if (i < range.y && r < running) { atomicMin(&found, i); }
    carry += part_f[WG - 1u];
    workgroupBarrier();
    if (t == 0u) { total_u = atomicLoad(&found); }
    if (workgroupUniformLoad(&total_u) != NONE) { break; }
  }
  return workgroupUniformLoad(&total_u);
}

@compute @workgroup_size(WG)
fn draw(@builtin(local_invocation_index) t: u32) {
  let best = max_of_parts(t);
  let greedy = (s.flags & FLAG_GREEDY) != 0u;
  var mass = 0.0;
  var count = 0u;
  var last = NONE;
  if (!greedy && t < PARTS) {
    mass = bitcast<f32>(parts[2u * PARTS + t]);
    count = parts[3u * PARTS + t];
    last = parts[4u * PARTS + t];
  }
  reduce_mass(t, 0.0, count, last);
  let kept_count = total_c;
  let last_kept = total_u;
  // Slices in id order: slice t's range of the running sum is [before, after).
  let after = scan_lanes(t, mass);
  var before = 0.0;
  if (t > 0u) { before = part_f[t - 1u]; }
  let total = part_f[PARTS - 1u];
  let counter = state[0];
  let r = uniform01(s.seed, counter) * total;
  if (t == 0u) { total_u = NONE; }
  workgroupBarrier();
  if (!greedy && t < PARTS && before <= r && r < after) { total_u = t; }
  let g = workgroupUniformLoad(&total_u);
  var id = best.index;
  if (!greedy) {
    id = last_kept; // r at or past the kept mass (rounding): the last token that has mass, as sample.wgsl
    if (g != NONE) {
      var prefix = 0.0;
      if (g > 0u) { prefix = part_f[g - 1u]; }
      let pick = draw_in_slice(t, g, prefix, r, best.value);
      id = select(pick, parts[4u * PARTS + g], pick == NONE);
    }
  }
  if (t == 0u) {
    token[0] = id;
    history[id] += 1u;
    state[0] = counter + 1u;
    report[0] = kept_count;
    report[1] = bitcast<u32>(total);
    report[2] = bitcast<u32>(r);
    report[3] = 0u;
  }
}
