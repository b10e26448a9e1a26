// CPU twins of the integer-dot kernels: quantize-q8.wgsl (activations to 8 bits per block of 32) and
// matvec-q8.wgsl / matmul-q8.wgsl (q4_0 or q8_0 weights times those blocks), in the kernels' order of
// operations with f32 rounding at each step.
import { f16ToF32 } from './f16';
import { unpackAligned } from './quant';

/** Words per activation block: d, Σq, then 32 int8 quants four to a word. */
export const Q8_BLOCK_WORDS = 10;

const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);
const i32Bits = new Int32Array(f32Bits.buffer);

/** WGSL's round: to nearest, halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** quantize-q8.wgsl: x [tokens, cols] → blocks [tokens, cols / 32, 10] (d as f32 bits, Σq, packed quants); rows are whole blocks. */
export function quantizeQ8Ref(x: Float32Array): Uint32Array {
  const blocks = x.length / 32;
  const out = new Uint32Array(blocks * Q8_BLOCK_WORDS);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[32 * b + i]!));
    const d = Math.fround(amax / 127);
    let sum = 0;
    for (let k = 0; k < 8; k++) {
      let word = 0;
      for (let i = 0; i < 4; i++) {
        const q = d > 0 ? Math.min(127, Math.max(-127, roundHalfEven(Math.fround(x[32 * b + 4 * k + i]! / d)))) : 0;
        sum += q;
        word |= (q & 0xff) << (8 * i);
      }
      out[b * Q8_BLOCK_WORDS + 2 + k] = word >>> 0;
    }
    f32Bits[0] = d;
    out[b * Q8_BLOCK_WORDS] = u32Bits[0]!;
    i32Bits[0] = sum;
    out[b * Q8_BLOCK_WORDS + 1] = u32Bits[0]!;
  }
  return out;
}

/** The activation values the quantized blocks stand for (q · d), [tokens, cols]. */
export function dequantizeQ8Ref(xq: Uint32Array): Float32Array {
  const blocks = xq.length / Q8_BLOCK_WORDS;
  const out = new Float32Array(blocks * 32);
  for (let b = 0; b < blocks; b++) {
    u32Bits[0] = xq[b * Q8_BLOCK_WORDS]!;
    const d = f32Bits[0]!;
    for (let i = 0; i < 32; i++) {
      const q = ((xq[b * Q8_BLOCK_WORDS + 2 + (i >> 2)]! >>> (8 * (i & 3))) << 24) >> 24;
      out[32 * b + i] = Math.fround(q * d);
    }
  }
  return out;
}

/** Scale, integer quants and offset of the weight block `block` of a q4_0 or q8_0 tensor (GGUF bytes). */
function weightBlock(dtype: 'q4_0' | 'q8_0', bytes: Uint8Array, block: number): { d: number; q: number[]; offset: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'q8_0') {
    const o = 34 * block;
    return { d: f16ToF32(v.getUint16(o, true)), q: Array.from({ length: 32 }, (_, i) => v.getInt8(o + 2 + i)), offset: 0 };
  }
  const o = 18 * block;
  const q = Array.from({ length: 32 }, (_, i) => (i < 16 ? v.getUint8(o + 2 + i) & 15 : v.getUint8(o + 2 + i - 16) >> 4));
  return { d: f16ToF32(v.getUint16(o, true)), q, offset: 8 };
}

/**
 * matvec-q8.wgsl for each token of xq: out[t, r] = Σ_blocks in order of (d_w · d_x) · (Σ q_w · q_x − offset · Σ q_x),
 * in f32. (The GPU may fuse the last multiply-add: agreement to about an ulp of the sum, not bit for bit.)
 */
export function matvecQ8Ref(dtype: 'q4_0' | 'q8_0' | 'q4_0_aligned' | 'q8_0_aligned', bytes: Uint8Array, xq: Uint32Array, rows: number, cols: number): Float32Array {
  if (dtype === 'q4_0_aligned' || dtype === 'q8_0_aligned') return matvecQ8Ref(dtype === 'q4_0_aligned' ? 'q4_0' : 'q8_0', unpackAligned(dtype, bytes, rows * cols), xq, rows, cols);
  const nb = cols / 32;
  const tokens = xq.length / (nb * Q8_BLOCK_WORDS);
  const out = new Float32Array(tokens * rows);
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const w = weightBlock(dtype, bytes, r * nb + b);
        const o = (t * nb + b) * Q8_BLOCK_WORDS;
        u32Bits[0] = xq[o]!;
        const dx = f32Bits[0]!;
        u32Bits[0] = xq[o + 1]!;
        const sx = i32Bits[0]!;
        let s = 0;
        for (let i = 0; i < 32; i++) s += w.q[i]! * (((xq[o + 2 + (i >> 2)]! >>> (8 * (i & 3))) << 24) >> 24);
        acc = Math.fround(acc + Math.fround(Math.fround(w.d * dx) * (s - w.offset * sx)));
      }
      out[t * rows + r] = acc;
    }
  }
  return out;
}
