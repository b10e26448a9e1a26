// Weight preamble for Q8_0 (ggml block_q8_0, 34 bytes per 32 elements): f16 d, then int8 qs[32].
// Element l of a block = qs[l] · d. Blocks start at even byte offsets (34·b), so the f16 and the quants
// are read with quant-common.wgsl's unaligned helpers. An int8 times an f16 is exact in f32, so the
// values are bit-identical to ggml's dequantize_row_q8_0 (with Act = f16: the product rounded to f16).
alias WeightWords = array<u32>;

/// Elements per block as the kernels walk a row (one ggml block).
const WEIGHT_BLOCK: u32 = 32u;

/// The block whose first element is i (a multiple of 32: rows start on block boundaries).
struct WeightBlock { d: Act, qs: u32 }
fn weight_block(i: u32) -> WeightBlock {
  let o = (i >> 5u) * 34u;
  return WeightBlock(Act(read_f16(o)), o + 2u);
}

/// Elements [4j, 4j+4) and [16 + 4j, 20 + 4j) of block b (j < 4).
fn weight8(b: WeightBlock, j: u32) -> mat2x4<Act> {
  return mat2x4<Act>(vec4<Act>(bytes_i8(read_u32(b.qs + 4u * j))) * b.d,
                     vec4<Act>(bytes_i8(read_u32(b.qs + 16u + 4u * j))) * b.d);
}

/// The block whose first element is i as 32 integers and a scale, for matvec-q8/matmul-q8: the int8 quants
/// as they are stored (elements 0–15 in lo, 16–31 in hi, four to a word); values q · d (offset 0).
/// The block's 34 bytes are read as the 9 words that hold them (not 17 unaligned reads).
struct Q8Block { d: f32, lo: vec4<u32>, hi: vec4<u32>, offset: i32 }
fn q8_block(i: u32) -> Q8Block {
  let o = (i >> 5u) * 34u;
  let k = o >> 2u;
  let a = vec4<u32>(W[k], W[k + 1u], W[k + 2u], W[k + 3u]);
  let b = vec4<u32>(W[k + 4u], W[k + 5u], W[k + 6u], W[k + 7u]);
  let c = vec4<u32>(a.yzw, b.x);
  let e = vec4<u32>(b.yzw, W[k + 8u]);
  let upper = (o & 2u) != 0u; // the block starts in the upper half of word k: its quants are words k+1..k+8
  let sixteen = vec4<u32>(16u);
  let d = unpack2x16float(a.x);
  return Q8Block(select(d.x, d.y, upper), select((a >> sixteen) | (c << sixteen), c, upper), select((b >> sixteen) | (e << sixteen), e, upper), 0);
}
