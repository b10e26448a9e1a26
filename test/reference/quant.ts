// CPU twins of the dtype preambles: GGUF tensor bytes → f32, following ggml's dequantize_row_* (and the
// block structs of ggml-common.h) operation by operation. Every product below is exact in f32 (an f16
// times small integers), so the only rounding is the add in the Q4_1/Q5_1/K-quant formulas; Math.fround
// of the f64 result rounds it exactly as f32 arithmetic would (53 ≥ 2·24 + 2 bits: no double rounding).
// test/quant.test.ts proves these bit-identical to gguf-py, whose dequantization equals ggml's.
import type { FileWeightDType, WeightDType } from '../../src/gpu/shaders';
import { weightLayouts } from '../../src/gpu/quant-types';
import { f16ToF32 } from './f16';

const fr = Math.fround;

const bitsScratch = new Uint32Array(1);
const floatScratch = new Float32Array(bitsScratch.buffer);

type BlockDecoder = (v: DataView, o: number, out: Float32Array, y: number) => void;

/** ggml get_scale_min_k4: 6-bit scale and min of sub-block j from the 12 scale bytes at o. */
export function scaleMinK4(v: DataView, o: number, j: number): [number, number] {
  const q = (k: number) => v.getUint8(o + k);
  if (j < 4) return [q(j) & 63, q(j + 4) & 63];
  return [(q(j + 4) & 0xf) | ((q(j - 4) >> 6) << 4), (q(j + 4) >> 4) | ((q(j) >> 6) << 4)];
}

/** ggml's kvalues_iq4nl (ggml-common.h): the IQ4 codebook a nibble indexes. */
export const KVALUES_IQ4NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113] as const;

/** Q3_K's 6-bit scale s (0..15) from the 12 scale bytes at o, as ggml's dequantize_row_q3_K unpacks them (before − 32). */
export function scaleQ3K(v: DataView, o: number, s: number): number {
  return ((v.getUint8(o + (s & 7)) >> (4 * (s >> 3))) & 0xf) | (((v.getUint8(o + 8 + (s & 3)) >> (2 * (s >> 2))) & 3) << 4);
}

const decoders: Record<FileWeightDType, BlockDecoder> = {
  f32: (v, o, out, y) => { out[y] = v.getFloat32(o, true); },
  f16: (v, o, out, y) => { out[y] = f16ToF32(v.getUint16(o, true)); },
  // A bf16 is the high half of an f32.
  bf16: (v, o, out, y) => {
    bitsScratch[0] = v.getUint16(o, true) << 16;
    out[y] = floatScratch[0]!;
  },
  // { f16 d; int8 qs[32] }
  q8_0: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    for (let j = 0; j < 32; j++) out[y + j] = v.getInt8(o + 2 + j) * d;
  },
  // { f16 d; u8 qs[16] }: element j low nibble, j + 16 high nibble, (q − 8)·d
  q4_0: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    for (let j = 0; j < 16; j++) {
      const q = v.getUint8(o + 2 + j);
      out[y + j] = ((q & 0x0f) - 8) * d;
      out[y + j + 16] = ((q >> 4) - 8) * d;
    }
  },
  // { f16 d; f16 m; u8 qs[16] }: q·d + m
  q4_1: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    const m = f16ToF32(v.getUint16(o + 2, true));
    for (let j = 0; j < 16; j++) {
      const q = v.getUint8(o + 4 + j);
      out[y + j] = fr((q & 0x0f) * d + m);
      out[y + j + 16] = fr((q >> 4) * d + m);
    }
  },
  // { f16 d; u8 qh[4]; u8 qs[16] }: fifth bit of element j is bit j of qh, (q − 16)·d
  q5_0: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    const qh = v.getUint32(o + 2, true);
    for (let j = 0; j < 16; j++) {
      const q = v.getUint8(o + 6 + j);
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[y + j] = (((q & 0x0f) | h0) - 16) * d;
      out[y + j + 16] = (((q >> 4) | h1) - 16) * d;
    }
  },
  // { f16 d; f16 m; u8 qh[4]; u8 qs[16] }: q·d + m
  q5_1: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    const m = f16ToF32(v.getUint16(o + 2, true));
    const qh = v.getUint32(o + 4, true);
    for (let j = 0; j < 16; j++) {
      const q = v.getUint8(o + 8 + j);
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[y + j] = fr(((q & 0x0f) | h0) * d + m);
      out[y + j + 16] = fr(((q >> 4) | h1) * d + m);
    }
  },
  // { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] }
  q4_k: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    const min = f16ToF32(v.getUint16(o + 2, true));
    for (let j = 0, is = 0, q = o + 16; j < 256; j += 64, is += 2, q += 32) {
      const [sc1, m1] = scaleMinK4(v, o + 4, is);
      const [sc2, m2] = scaleMinK4(v, o + 4, is + 1);
      const d1 = d * sc1, mn1 = min * m1, d2 = d * sc2, mn2 = min * m2;
      for (let l = 0; l < 32; l++) out[y + j + l] = fr(d1 * (v.getUint8(q + l) & 0xf) - mn1);
      for (let l = 0; l < 32; l++) out[y + j + 32 + l] = fr(d2 * (v.getUint8(q + l) >> 4) - mn2);
    }
  },
  // { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] }
  q5_k: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    const min = f16ToF32(v.getUint16(o + 2, true));
    let u1 = 1, u2 = 2;
    for (let j = 0, is = 0, ql = o + 48; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      const [sc1, m1] = scaleMinK4(v, o + 4, is);
      const [sc2, m2] = scaleMinK4(v, o + 4, is + 1);
      const d1 = d * sc1, mn1 = min * m1, d2 = d * sc2, mn2 = min * m2;
      for (let l = 0; l < 32; l++) {
        const qh = v.getUint8(o + 16 + l);
        out[y + j + l] = fr(d1 * ((v.getUint8(ql + l) & 0xf) + (qh & u1 ? 16 : 0)) - mn1);
        out[y + j + 32 + l] = fr(d2 * ((v.getUint8(ql + l) >> 4) + (qh & u2 ? 16 : 0)) - mn2);
      }
    }
  },
  // { u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d }
  q6_k: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o + 208, true));
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n, qh = o + 128 + 32 * n, sc = o + 192 + 8 * n, yn = y + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = v.getUint8(qh + l);
        const q1 = ((v.getUint8(ql + l) & 0xf) | (((h >> 0) & 3) << 4)) - 32;
        const q2 = ((v.getUint8(ql + l + 32) & 0xf) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((v.getUint8(ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((v.getUint8(ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[yn + l] = d * v.getInt8(sc + is) * q1;
        out[yn + l + 32] = d * v.getInt8(sc + is + 2) * q2;
        out[yn + l + 64] = d * v.getInt8(sc + is + 4) * q3;
        out[yn + l + 96] = d * v.getInt8(sc + is + 6) * q4;
      }
    }
  },
  // { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin }: (d·(sc & 15))·q − dmin·(sc >> 4), q 2 bits
  q2_k: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o + 80, true));
    const min = f16ToF32(v.getUint16(o + 82, true));
    for (let n = 0, is = 0; n < 2; n++) {
      const q = o + 16 + 32 * n;
      for (let shift = 0; shift < 8; shift += 2) {
        for (const half of [0, 16]) {
          const sc = v.getUint8(o + is++);
          const dl = d * (sc & 0xf), ml = min * (sc >> 4);
          for (let l = 0; l < 16; l++) out[y++] = fr(dl * ((v.getUint8(q + half + l) >> shift) & 3) - ml);
        }
      }
    }
  },
  // { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d }: (d·(sc − 32))·(q − (hmask bit ? 0 : 4))
  q3_k: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o + 108, true));
    for (let n = 0, is = 0, m = 1; n < 2; n++) {
      const q = o + 32 + 32 * n;
      for (let shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (const half of [0, 16]) {
          const dl = d * (scaleQ3K(v, o + 96, is++) - 32);
          for (let l = 0; l < 16; l++) {
            out[y++] = dl * (((v.getUint8(q + half + l) >> shift) & 3) - (v.getUint8(o + half + l) & m ? 0 : 4));
          }
        }
      }
    }
  },
  // { f16 d; u8 qs[16] }: d·kvalues[nibble], element j low nibble, j + 16 high
  iq4_nl: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    for (let j = 0; j < 16; j++) {
      const q = v.getUint8(o + 2 + j);
      out[y + j] = d * KVALUES_IQ4NL[q & 0xf]!;
      out[y + j + 16] = d * KVALUES_IQ4NL[q >> 4]!;
    }
  },
  // { f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128] }: (d·(ls − 32))·kvalues[nibble] per 32-element sub-block
  iq4_xs: (v, o, out, y) => {
    const d = f16ToF32(v.getUint16(o, true));
    const scalesH = v.getUint16(o + 2, true);
    for (let ib = 0; ib < 8; ib++) {
      const ls = ((v.getUint8(o + 4 + (ib >> 1)) >> (4 * (ib & 1))) & 0xf) | (((scalesH >> (2 * ib)) & 3) << 4);
      const dl = d * (ls - 32);
      for (let j = 0; j < 16; j++) {
        const q = v.getUint8(o + 8 + 16 * ib + j);
        out[y + 32 * ib + j] = dl * KVALUES_IQ4NL[q & 0xf]!;
        out[y + 32 * ib + j + 16] = dl * KVALUES_IQ4NL[q >> 4]!;
      }
    }
  },
};

/**
 * CPU twin of shaders/dtype/aligned-common.wgsl's addressing: the file's blocks back from an aligned layout, whose
 * groups of 8 blocks hold the 8 f16 scales d in their first 16 bytes and then each block's other bytes (ggml's
 * block struct without d: Q4_0's and Q8_0's d is first, Q6_K's last, at byte 208).
 */
export function unpackAligned(dtype: WeightDType, bytes: Uint8Array, elements: number): Uint8Array {
  const { blockElements, blockBytes } = weightLayouts[dtype];
  const dAt = dtype === 'q6_k_aligned' ? 208 : 0;
  const blocks = elements / blockElements;
  const out = new Uint8Array(blocks * blockBytes);
  for (let b = 0; b < blocks; b++) {
    const group = (b >> 3) * 8 * blockBytes;
    const k = b & 7;
    const rest = bytes.subarray(group + 16 + k * (blockBytes - 2), group + 16 + (k + 1) * (blockBytes - 2));
    const block = out.subarray(b * blockBytes, (b + 1) * blockBytes);
    block.set(rest.subarray(0, dAt));
    block.set(bytes.subarray(group + 2 * k, group + 2 * k + 2), dAt);
    block.set(rest.subarray(dAt), dAt + 2);
  }
  return out;
}

/** The f32 values of a tensor of `elements` elements stored as `dtype` bytes (a GGUF tensor's data). */
export function dequantize(dtype: WeightDType, bytes: Uint8Array, elements: number): Float32Array {
  if (weightLayouts[dtype].repackOf) return dequantize(weightLayouts[dtype].repackOf, unpackAligned(dtype, bytes, elements), elements);
  const { blockElements, blockBytes } = weightLayouts[dtype];
  if (elements % blockElements !== 0) throw new Error(`${dtype}: ${elements} elements is not a whole number of ${blockElements}-element blocks`);
  const blocks = elements / blockElements;
  if (bytes.byteLength < blocks * blockBytes) throw new Error(`${dtype}: ${elements} elements need ${blocks * blockBytes} bytes, got ${bytes.byteLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(elements);
  const decode = decoders[dtype as FileWeightDType];
  for (let b = 0; b < blocks; b++) decode(view, b * blockBytes, out, b * blockElements);
  return out;
}
