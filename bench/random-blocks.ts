// Seeded random weights written straight in ggml's block layouts (ggml-common.h), fast enough to write a
// 1B-parameter model in seconds and an 8B one in about a minute: every quant bit pattern is random, and the
// scales are fixed per tensor so each weight has a standard deviation of about 1/√fan-in (activations stay
// at unit scale through the layers, as in a trained model). Speed does not depend on the values; llama.cpp and
// Hearth read the same bytes. Quantizing random floats would give the same distribution at 50× the time.
import { floatToHalf } from '../src/model/quantize';

/** The matrix types a bench model is written in (a subset of what llama.cpp's quantize picks for the bench's quants). */
export type BlockType = 'f16' | 'q4_0' | 'q5_0' | 'q8_0' | 'q4_k' | 'q6_k' | 'q2_k' | 'q3_k' | 'iq4_nl' | 'iq4_xs';

export const blockLayouts: Record<BlockType, { ggmlType: number; elements: number; bytes: number }> = {
  f16: { ggmlType: 1, elements: 1, bytes: 2 },
  q4_0: { ggmlType: 2, elements: 32, bytes: 18 },
  q5_0: { ggmlType: 6, elements: 32, bytes: 22 },
  q8_0: { ggmlType: 8, elements: 32, bytes: 34 },
  q4_k: { ggmlType: 12, elements: 256, bytes: 144 },
  q6_k: { ggmlType: 14, elements: 256, bytes: 210 },
  q2_k: { ggmlType: 10, elements: 256, bytes: 84 },
  q3_k: { ggmlType: 11, elements: 256, bytes: 110 },
  iq4_nl: { ggmlType: 20, elements: 32, bytes: 18 },
  iq4_xs: { ggmlType: 23, elements: 256, bytes: 136 },
};

/** A seeded xorshift32 stream (one per tensor, seeded from its name, so tensors are independent of write order). */
export class RandomStream {
  private x: number;
  constructor(seed: number) { this.x = (seed | 0) || 0x9e3779b9; }
  static fromName(name: string, salt: number): RandomStream {
    let h = 0x811c9dc5 ^ salt; // FNV-1a
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    return new RandomStream(h);
  }
  /** Fills `bytes` (any length) with random bytes. */
  fill(bytes: Uint8Array): void {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    let x = this.x;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      words[i] = x;
    }
    for (let i = words.length * 4; i < bytes.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      bytes[i] = x & 0xff;
    }
    this.x = x;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.x;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.x = x;
    return (x >>> 0) / 4294967296;
  }
}

/** A seeded mulberry32 stream of uniform floats: `uniform(n, halfWidth, center)` is n values in center ± halfWidth. */
export function uniformStream(seed: number): (n: number, halfWidth: number, center?: number) => Float32Array {
  let state = seed;
  return (n, halfWidth, center = 0) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) | 0;
      let x = Math.imul(state ^ (state >>> 15), state | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      out[i] = center + halfWidth * (2 * (((x ^ (x >>> 14)) >>> 0) / 4294967296) - 1);
    }
    return out;
  };
}

const setHalf = (b: Uint8Array, o: number, h: number) => { b[o] = h & 0xff; b[o + 1] = h >>> 8; };

/**
 * Standard deviation of one weight per unit of the block's f16 scale `d`, for the random quants below:
 * Q4_0 (q − 8), q uniform on 0..15: √((16² − 1)/12) ≈ 4.61; Q5_0 (q − 16) on 0..31: 9.23; Q8_0 int8: 73.9;
 * Q4_K d·sc·q − dmin·m with sc, m uniform 6-bit and q on 0..15: taken as 4.61 · 31.5; Q6_K d·sc·(q − 32),
 * q on 0..63 and sc int8: 18.5 · 73.9; Q2_K d·sc·q − dmin·m, q on 0..3 and sc on 0..15: 1.12 · 7.5; Q3_K d·(sc − 32)·q,
 * q on −4..3: 2.29 · 18.5; IQ4_NL d·kvalues[q] (rms 67.4); IQ4_XS d·(ls − 32)·kvalues[q]: 67.4 · 18.5.
 */
const stdPerScale: Record<Exclude<BlockType, 'f16'>, number> = {
  q4_0: 4.61, q5_0: 9.23, q8_0: 73.9, q4_k: 4.61 * 31.5, q6_k: 18.5 * 73.9,
  q2_k: 1.12 * 7.5, q3_k: 2.29 * 18.5, iq4_nl: 67.4, iq4_xs: 67.4 * 18.5,
};
/** Byte offset of the block's f16 scale `d` (and of `dmin` where the type has one). */
const scaleOffsets: Partial<Record<BlockType, { d: number; dmin?: number; dminPerScale?: number }>> = {
  q6_k: { d: 208 }, q4_k: { d: 0, dmin: 2, dminPerScale: 31.5 }, q2_k: { d: 80, dmin: 82, dminPerScale: 7.5 }, q3_k: { d: 108 },
};

/**
 * Writes `blocks` random blocks of `type` into `out` (its length: blocks × the block's bytes), weights of
 * standard deviation `std`. F16 'blocks' are single halves, drawn uniformly from a 4096-value table.
 */
export function randomBlocks(type: BlockType, out: Uint8Array, rng: RandomStream, std: number): void {
  rng.fill(out);
  const { bytes } = blockLayouts[type];
  if (type === 'f16') {
    const halfWidth = std * Math.sqrt(3);
    const table = Uint16Array.from({ length: 4096 }, (_, i) => floatToHalf(halfWidth * ((2 * i + 1) / 4096 - 1)));
    const halves = new Uint16Array(out.buffer, out.byteOffset, out.byteLength >>> 1); // little-endian hosts
    for (let i = 0; i < halves.length; i++) halves[i] = table[halves[i]! & 4095]!;
    return;
  }
  const d = floatToHalf(std / stdPerScale[type]);
  // dmin: a mean offset of dmin·m, about one standard deviation of the block's weights.
  const { d: at, dmin, dminPerScale } = scaleOffsets[type] ?? { d: 0 };
  const min = dmin === undefined ? 0 : floatToHalf(std / dminPerScale!);
  for (let o = 0; o < out.length; o += bytes) {
    setHalf(out, o + at, d);
    if (dmin !== undefined) setHalf(out, o + dmin, min);
  }
}
