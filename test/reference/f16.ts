// IEEE 754 binary16 ↔ binary32, written independently of src/ so kernel tests have their own oracle.
// Decoding is exact (every f16 is an f32); encoding rounds to nearest, ties to even, like a GPU's
// pack2x16float and numpy's astype(float16).

/** The f32 value of the f16 with these 16 bits. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Nearest integer to q ≥ 0, ties to even (q is exact, so the comparison with 0.5 is too). */
function roundHalfEven(q: number): number {
  const floor = Math.floor(q);
  const rest = q - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The f16 bits nearest to x (rounded to f32 first, as a GPU sees it), ties to even; overflow gives ±Inf. */
export function f32ToF16(x: number): number {
  scratchF32[0] = x;
  const f32Bits = scratchU32[0]!;
  const sign = (f32Bits >>> 16) & 0x8000;
  const f32Exponent = (f32Bits >>> 23) & 0xff;
  const a = Math.abs(scratchF32[0]!);
  if (Number.isNaN(a)) return 0x7e00;
  // 65520 is halfway between 65504 (largest f16) and 65536: it and everything above round to infinity.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal range: a multiple of 2^-24. A result of 1024 is the smallest normal, whose bits are 0x400.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  const exponent = f32Exponent - 127; // exact, since a is a normal f32 here
  let fraction = roundHalfEven((a / 2 ** exponent - 1) * 1024);
  let biased = exponent + 15;
  if (fraction === 1024) {
    fraction = 0;
    biased += 1;
  }
  return sign | (biased << 10) | fraction;
}

/** Rounds values to f16 and packs them two per u32 word, element 2k in the low half (GGUF F16 bytes on a little-endian host). */
export function packF16(values: ArrayLike<number>): { words: Uint32Array; rounded: Float32Array } {
  const words = new Uint32Array(Math.ceil(values.length / 2));
  const rounded = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const bits = f32ToF16(values[i]!);
    rounded[i] = f16ToF32(bits);
    words[i >> 1] = (words[i >> 1]! | (bits << ((i & 1) * 16))) >>> 0;
  }
  return { words, rounded };
}
