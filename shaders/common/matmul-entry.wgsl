// The entry points of the batched products (matmul.wgsl, matmul-q8.wgsl), appended to each: the kernel
// defines tile_sums(rows, tile) (four rows' sums for each of the tile's TILE tokens), and these write them as
// out[t] = W x[t] (main, which places a row block's rows with OUT_STRIDE and ROW_START; main_bias adds the
// block's bias rows), as a [q; k; v] stack's three outputs (main_qkv) or as a gated FFN's act(gate) · up
// (main_glu); see common/products.wgsl and common/matmul-store.wgsl.
// Dispatch (ceil(ROWS / 64), ceil(tokens / TILE)), and (ceil(ROWS / 2 / 32), ceil(tokens / TILE)) for main_glu.

// Each writes the tile's TILE tokens in turn (a loop of constant bounds over the columns of tile_sums).

@compute @workgroup_size(16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = 4u * gid.x;
  if (r0 >= ROWS) { return; }
  let s = tile_sums(four_rows(r0, ROWS), gid.y);
  for (var i = 0u; i < TILE; i++) { store_rows(gid.y * TILE + i, r0, s[i]); }
}

@compute @workgroup_size(16)
fn main_bias(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = 4u * gid.x;
  if (r0 >= ROWS) { return; }
  let s = tile_sums(four_rows(r0, ROWS), gid.y);
  for (var i = 0u; i < TILE; i++) { store_rows(gid.y * TILE + i, r0, with_bias(r0, s[i])); }
}

@compute @workgroup_size(16)
fn main_qkv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = 4u * gid.x;
  if (r0 >= ROWS) { return; }
  let rows = qkv_rows(r0);
  let s = tile_sums(rows, gid.y);
  for (var i = 0u; i < TILE; i++) { store_rows_qkv(gid.y * TILE + i, r0, rows, s[i]); }
}

@compute @workgroup_size(16)
fn main_glu(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g0 = 2u * gid.x;
  if (g0 >= ROWS / 2u) { return; }
  let s = tile_sums(glu_rows(g0, ROWS / 2u), gid.y);
  for (var i = 0u; i < TILE; i++) { store_glu(gid.y * TILE + i, g0, s[i]); }
}
