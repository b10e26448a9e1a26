// How flash-decoding (attention-decode.wgsl, then attention-decode-combine.wgsl) cuts one token's attended
// positions over workgroups, from the step's position on the GPU: chunks of at least MIN_CHUNK positions and at
// most MAX_SPLITS of them, so a short context runs few workgroups and a long one MAX_SPLITS per head, chosen
// anew each step with no host round trip and the grid (N_HEADS, MAX_SPLITS) fixed at load. Both kernels call
// decode_split, so the combine reads exactly the partials the attention wrote.
override WINDOW: u32; // > 0: a sliding window of the last WINDOW positions; 0: every position
override MAX_SPLITS: u32;
override MIN_CHUNK: u32 = 64u;

struct DecodeSplit {
  first: u32, // the first position the token sees
  chunk: u32, // positions per workgroup
  used: u32, // workgroups (chunks) that hold any: the rest return at once
}

fn decode_split(pos: u32) -> DecodeSplit {
  let seen = pos + 1u;
  let first = select(0u, seen - min(WINDOW, seen), WINDOW > 0u);
  let n = seen - first;
  let chunk = max(MIN_CHUNK, (n + MAX_SPLITS - 1u) / MAX_SPLITS);
  return DecodeSplit(first, chunk, (n + chunk - 1u) / chunk);
}
