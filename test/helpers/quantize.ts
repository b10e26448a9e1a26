// Test-only quantizers: f32 values → GGUF tensor bytes in ggml's block layouts (ggml-common.h), so tests
// can make quantized weights of any type and shape. Plain round-to-nearest with ggml's reference scale
// choices (quantize_row_*_ref) for the 32-element types and simple max-based scales for the K-quants:
// the error is close to ggml's, and the layout — what dequantizers and shaders must agree on — is exact.
import type { FileWeightDType, WeightDType } from '../../src/gpu/shaders';
import { isAligned, repackAligned } from '../../src/gpu/aligned-weights';
import { weightLayouts } from '../../src/gpu/quant-types';
import { f32ToF16, f16ToF32 } from '../reference/f16';
import { KVALUES_IQ4NL } from '../reference/quant';

type BlockEncoder = (x: Float32Array, v: DataView, o: number) => void;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f16 bits of x and the value they hold (what the dequantizer will see). */
function half(x: number): [number, number] {
  const bits = f32ToF16(x);
  return [bits, f16ToF32(bits)];
}

/** C's roundf / ggml's nearest_int: halves away from zero. */
const roundAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** The element of largest magnitude, with its sign (ggml's `max` in quantize_row_q4_0_ref). */
function signedAbsMax(x: ArrayLike<number>, from: number, n: number): number {
  let best = 0;
  for (let i = from; i < from + n; i++) if (Math.abs(x[i]!) > Math.abs(best)) best = x[i]!;
  return best;
}

/** Stores 32 values q (0..31) as ggml's Q4/Q5 nibbles: qs[j] = q[j] & 15 | (q[j + 16] & 15) << 4, qh bit j = bit 4 of q[j]. */
function storeNibbles(q: number[], v: DataView, qsAt: number, qhAt?: number): void {
  let qh = 0;
  for (let j = 0; j < 16; j++) v.setUint8(qsAt + j, (q[j]! & 15) | ((q[j + 16]! & 15) << 4));
  for (let j = 0; j < 32; j++) qh |= ((q[j]! >> 4) & 1) << j;
  if (qhAt !== undefined) v.setUint32(qhAt, qh >>> 0, true);
}

/** Q4_1/Q5_1: min and (max − min)/levels, q = trunc((x − min)/d + 0.5) capped at `levels`. */
function encodeWithMin(levels: number, x: Float32Array, v: DataView, o: number, qhAt?: number, qsAt = o + 4): void {
  const min = Math.min(...x), max = Math.max(...x);
  const d = (max - min) / levels;
  const id = d ? 1 / d : 0;
  v.setUint16(o, f32ToF16(d), true);
  v.setUint16(o + 2, f32ToF16(min), true);
  storeNibbles(Array.from(x, (e) => Math.min(levels, Math.trunc((e - min) * id + 0.5))), v, qsAt, qhAt);
}

/** K-quant (Q4_K/Q5_K) super-block: 8 sub-blocks of 32 with 6-bit scales and mins, quants 0..levels. */
function encodeK(levels: number, x: Float32Array, v: DataView, o: number, hasHighBits: boolean): void {
  const scales: number[] = [], mins: number[] = [];
  for (let s = 0; s < 8; s++) {
    const sub = x.subarray(32 * s, 32 * s + 32);
    const mn = Math.min(0, ...sub);
    scales.push((Math.max(...sub) - mn) / levels);
    mins.push(-mn);
  }
  const [dBits, d] = half(Math.max(...scales) / 63);
  const [dminBits, dmin] = half(Math.max(...mins) / 63);
  v.setUint16(o, dBits, true);
  v.setUint16(o + 2, dminBits, true);
  const ls = scales.map((s) => (d ? clamp(roundAway(s / d), 0, 63) : 0));
  const lm = mins.map((m) => (dmin ? clamp(roundAway(m / dmin), 0, 63) : 0));
  // Scale bytes as ggml's quantize_row_q4_K_ref packs them (read back by get_scale_min_k4).
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      v.setUint8(o + 4 + j, ls[j]!);
      v.setUint8(o + 4 + j + 4, lm[j]!);
    } else {
      v.setUint8(o + 4 + j + 4, (ls[j]! & 0xf) | ((lm[j]! & 0xf) << 4));
      v.setUint8(o + 4 + j - 4, v.getUint8(o + 4 + j - 4) | ((ls[j]! >> 4) << 6));
      v.setUint8(o + 4 + j, v.getUint8(o + 4 + j) | ((lm[j]! >> 4) << 6));
    }
  }
  const qsAt = o + (hasHighBits ? 48 : 16);
  for (let s = 0; s < 8; s++) {
    const step = d * ls[s]!;
    for (let l = 0; l < 32; l++) {
      const q = step ? clamp(roundAway((x[32 * s + l]! + dmin * lm[s]!) / step), 0, levels) : 0;
      const at = qsAt + 32 * (s >> 1) + l;
      v.setUint8(at, v.getUint8(at) | ((q & 15) << (4 * (s & 1))));
      if (hasHighBits) v.setUint8(o + 16 + l, v.getUint8(o + 16 + l) | ((q >> 4) << s));
    }
  }
}

/** Stores a 2-bit field of element e (of 256) where Q2_K/Q3_K keep it: bits 2·((e/32) % 4) of qs[32·(e/128) + e % 32]. */
function storeCrumb(v: DataView, qsAt: number, e: number, q: number): void {
  const at = qsAt + 32 * (e >> 7) + (e & 31);
  v.setUint8(at, v.getUint8(at) | ((q & 3) << (2 * ((e >> 5) & 3))));
}

/** Q2_K super-block: 16 groups of 16 with 4-bit scales and mins, quants 0..3 (as encodeK, one level of each less). */
function encodeQ2K(x: Float32Array, v: DataView, o: number): void {
  const scales: number[] = [], mins: number[] = [];
  for (let g = 0; g < 16; g++) {
    const sub = x.subarray(16 * g, 16 * g + 16);
    const mn = Math.min(0, ...sub);
    scales.push((Math.max(...sub) - mn) / 3);
    mins.push(-mn);
  }
  const [dBits, d] = half(Math.max(...scales) / 15);
  const [dminBits, dmin] = half(Math.max(...mins) / 15);
  v.setUint16(o + 80, dBits, true);
  v.setUint16(o + 82, dminBits, true);
  const ls = scales.map((s) => (d ? clamp(roundAway(s / d), 0, 15) : 0));
  const lm = mins.map((m) => (dmin ? clamp(roundAway(m / dmin), 0, 15) : 0));
  for (let g = 0; g < 16; g++) v.setUint8(o + g, ls[g]! | (lm[g]! << 4));
  for (let e = 0; e < 256; e++) {
    const step = d * ls[e >> 4]!;
    storeCrumb(v, o + 16, e, step ? clamp(roundAway((x[e]! + dmin * lm[e >> 4]!) / step), 0, 3) : 0);
  }
}

/** Q3_K super-block: 16 groups of 16 with signed 6-bit scales (as the Q6_K encoder), quants −4..3. */
function encodeQ3K(x: Float32Array, v: DataView, o: number): void {
  const groupScales = Array.from({ length: 16 }, (_, g) => signedAbsMax(x, 16 * g, 16) / -4);
  const maxScale = signedAbsMax(groupScales, 0, 16);
  const iscale = maxScale ? -32 / maxScale : 0;
  const [dBits, d] = half(iscale ? 1 / iscale : 0);
  v.setUint16(o + 108, dBits, true);
  const sc = groupScales.map((s) => clamp(roundAway(iscale * s), -32, 31));
  sc.forEach((s, g) => {
    const u = s + 32;
    v.setUint8(o + 96 + (g & 7), v.getUint8(o + 96 + (g & 7)) | ((u & 15) << (4 * (g >> 3))));
    v.setUint8(o + 104 + (g & 3), v.getUint8(o + 104 + (g & 3)) | ((u >> 4) << (2 * (g >> 2))));
  });
  for (let e = 0; e < 256; e++) {
    const step = d * sc[e >> 4]!;
    const q = (step ? clamp(roundAway(x[e]! / step), -4, 3) : 0) + 4;
    storeCrumb(v, o + 32, e, q);
    if (q & 4) v.setUint8(o + (e & 31), v.getUint8(o + (e & 31)) | (1 << (e >> 5)));
  }
}

/** Index of the IQ4 codebook value nearest t. */
function nearestIq4(t: number): number {
  let best = 0;
  for (let k = 1; k < 16; k++) if (Math.abs(KVALUES_IQ4NL[k]! - t) < Math.abs(KVALUES_IQ4NL[best]! - t)) best = k;
  return best;
}

/** 32 values as IQ4 nibbles of step d (qs[j] = q[j] | q[j + 16] << 4), each the nearest codebook value. */
function storeIq4(x: ArrayLike<number>, from: number, d: number, v: DataView, qsAt: number): void {
  const q = Array.from({ length: 32 }, (_, j) => nearestIq4(d ? x[from + j]! / d : 0));
  storeNibbles(q, v, qsAt);
}

/** IQ4_XS super-block: a signed 6-bit scale per 32 elements (the largest magnitude at −32), IQ4 nibbles. */
function encodeIq4Xs(x: Float32Array, v: DataView, o: number): void {
  const subScales = Array.from({ length: 8 }, (_, b) => signedAbsMax(x, 32 * b, 32) / -127);
  const [dBits, d] = half(signedAbsMax(subScales, 0, 8) / -32);
  v.setUint16(o, dBits, true);
  let scalesH = 0;
  for (let b = 0; b < 8; b++) {
    const ls = (d ? clamp(roundAway(subScales[b]! / d), -32, 31) : 0) + 32;
    v.setUint8(o + 4 + (b >> 1), v.getUint8(o + 4 + (b >> 1)) | ((ls & 15) << (4 * (b & 1))));
    scalesH |= (ls >> 4) << (2 * b);
    storeIq4(x, 32 * b, d * (ls - 32), v, o + 8 + 16 * b);
  }
  v.setUint16(o + 2, scalesH, true);
}

const encoders: Record<FileWeightDType, BlockEncoder> = {
  f32: (x, v, o) => v.setFloat32(o, x[0]!, true),
  f16: (x, v, o) => v.setUint16(o, f32ToF16(x[0]!), true),
  bf16: (x, v, o) => {
    // Round to nearest even on the f32 bits (ggml_compute_fp32_to_bf16; test values are finite).
    f32Scratch[0] = x[0]!;
    const bits = u32Scratch[0]!;
    v.setUint16(o, (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16, true);
  },
  q8_0: (x, v, o) => {
    const d = Math.max(...x.map(Math.abs)) / 127;
    const id = d ? 1 / d : 0;
    v.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < 32; j++) v.setInt8(o + 2 + j, roundAway(x[j]! * id));
  },
  q4_0: (x, v, o) => {
    const d = signedAbsMax(x, 0, 32) / -8;
    const id = d ? 1 / d : 0;
    v.setUint16(o, f32ToF16(d), true);
    storeNibbles(Array.from(x, (e) => Math.min(15, Math.trunc(e * id + 8.5))), v, o + 2);
  },
  q4_1: (x, v, o) => encodeWithMin(15, x, v, o),
  q5_0: (x, v, o) => {
    const d = signedAbsMax(x, 0, 32) / -16;
    const id = d ? 1 / d : 0;
    v.setUint16(o, f32ToF16(d), true);
    storeNibbles(Array.from(x, (e) => Math.min(31, Math.trunc(e * id + 16.5))), v, o + 6, o + 2);
  },
  q5_1: (x, v, o) => encodeWithMin(31, x, v, o, o + 4, o + 8),
  q4_k: (x, v, o) => encodeK(15, x, v, o, false),
  q5_k: (x, v, o) => encodeK(31, x, v, o, true),
  q2_k: encodeQ2K,
  q3_k: encodeQ3K,
  iq4_nl: (x, v, o) => {
    const [dBits, d] = half(signedAbsMax(x, 0, 32) / -127);
    v.setUint16(o, dBits, true);
    storeIq4(x, 0, d, v, o + 2);
  },
  iq4_xs: encodeIq4Xs,
  q6_k: (x, v, o) => {
    // 16 groups of 16 with int8 scales (sign included, as ggml's make_qx_quants gives), quants −32..31.
    const groupScales = Array.from({ length: 16 }, (_, g) => signedAbsMax(x, 16 * g, 16) / -32);
    const maxScale = signedAbsMax(groupScales, 0, 16);
    const iscale = maxScale ? -128 / maxScale : 0;
    const [dBits, d] = half(iscale ? 1 / iscale : 0);
    v.setUint16(o + 208, dBits, true);
    const sc = groupScales.map((s) => Math.min(127, roundAway(iscale * s)));
    sc.forEach((s, g) => v.setInt8(o + 192 + g, s));
    const L = Array.from(x, (e, i) => {
      const step = d * sc[i >> 4]!;
      return (step ? clamp(roundAway(e / step), -32, 31) : 0) + 32;
    });
    for (let n = 0; n < 2; n++) {
      for (let l = 0; l < 32; l++) {
        const [q1, q2, q3, q4] = [0, 32, 64, 96].map((k) => L[128 * n + k + l]!) as [number, number, number, number];
        v.setUint8(o + 64 * n + l, (q1 & 15) | ((q3 & 15) << 4));
        v.setUint8(o + 64 * n + l + 32, (q2 & 15) | ((q4 & 15) << 4));
        v.setUint8(o + 128 + 32 * n + l, (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  },
};

/** GGUF tensor bytes of `values` in `dtype` (length a multiple of the block size). */
export function quantize(dtype: WeightDType, values: Float32Array): Uint8Array {
  if (isAligned(dtype)) return repackAligned(dtype, quantize(weightLayouts[dtype].repackOf!, values));
  const { blockElements, blockBytes } = weightLayouts[dtype];
  if (values.length % blockElements !== 0) throw new Error(`quantize ${dtype}: ${values.length} values is not a whole number of ${blockElements}-element blocks`);
  const bytes = new Uint8Array((values.length / blockElements) * blockBytes);
  const view = new DataView(bytes.buffer);
  const encode = encoders[dtype as FileWeightDType];
  for (let b = 0; b < values.length / blockElements; b++) {
    encode(values.subarray(b * blockElements, (b + 1) * blockElements), view, b * blockBytes);
  }
  return bytes;
}

/** Tensor bytes as the GPU buffer holds them: u32 words, zero-padded to a whole word. */
export function toWords(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(Math.ceil(bytes.byteLength / 4));
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

/**
 * `blocks` blocks of random bytes in `dtype`'s layout with every float field (scales, mins, f16/bf16/f32
 * values) forced finite: every quant bit pattern and scale exponent, subnormal f16 scales included.
 */
export function randomBlockBytes(dtype: WeightDType, blocks: number, rng: () => number): Uint8Array {
  if (isAligned(dtype)) return repackAligned(dtype, randomBlockBytes(weightLayouts[dtype].repackOf!, blocks, rng));
  const { blockBytes } = weightLayouts[dtype];
  const bytes = Uint8Array.from({ length: blocks * blockBytes }, () => Math.floor(rng() * 256));
  const v = new DataView(bytes.buffer);
  const halfFields: Partial<Record<WeightDType, number[]>> = {
    f16: [0], q8_0: [0], q4_0: [0], q4_1: [0, 2], q5_0: [0], q5_1: [0, 2], q4_k: [0, 2], q5_k: [0, 2], q6_k: [208],
    q2_k: [80, 82], q3_k: [108], iq4_nl: [0], iq4_xs: [0],
  };
  for (let o = 0; o < bytes.length; o += blockBytes) {
    for (const f of halfFields[dtype] ?? []) {
      const h = v.getUint16(o + f, true);
      if (((h >> 10) & 31) === 31) v.setUint16(o + f, h ^ 0x4000, true); // exponent 31 (Inf/NaN) → 15
    }
    if (dtype === 'bf16' && ((v.getUint16(o, true) >> 7) & 0xff) === 0xff) v.setUint16(o, v.getUint16(o, true) ^ 0x4000, true);
    if (dtype === 'f32' && ((v.getUint32(o, true) >>> 23) & 0xff) === 0xff) v.setUint32(o, v.getUint32(o, true) ^ 0x40000000, true);
  }
  return bytes;
}
