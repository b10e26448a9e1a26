// Weight conversions done on the CPU at load: f16/bf16 ↔ f32, and quantization of f32 rows to ggml's Q8_0
// and Q4_0 blocks (so an f16 safetensors repo can sit in GPU memory at 8.5 or 4.5 bits per weight). The
// quantizers follow ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref step for step in f32 arithmetic
// (Math.fround after every operation), which is what llama-quantize and gguf-py's quants.py compute, so the
// blocks are bit-identical to theirs.
import { halfToFloat } from './f16';
import type { ModelFile, ModelTensorInfo } from './model-file';

const f32 = Math.fround;
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** f32 → IEEE half bits, round to nearest, ties to even (ggml's GGML_FP32_TO_FP16, numpy's astype(float16)). */
export function floatToHalf(x: number): number {
  scratchF32[0] = x;
  const u = scratchU32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1), mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is still right
  return sign | half;
}

/** bf16 bits → f32 (exact: bf16 is the top half of an f32). */
export function bfloatToFloat(bits: number): number {
  scratchU32[0] = (bits << 16) >>> 0;
  return scratchF32[0]!;
}

export type FloatDType = 'F32' | 'F16' | 'BF16';

/** Little-endian F32/F16/BF16 bytes → f32 values (a fresh array). */
export function toFloats(bytes: Uint8Array, dtype: FloatDType): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') {
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  const out = new Float32Array(bytes.byteLength / 2);
  const decode = dtype === 'F16' ? halfToFloat : bfloatToFloat;
  for (let i = 0; i < out.length; i++) out[i] = decode(view.getUint16(2 * i, true));
  return out;
}

/** f32 values → little-endian F16 bytes, rounded to nearest even. */
export function floatsToHalfBytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(2 * x.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < x.length; i++) view.setUint16(2 * i, floatToHalf(x[i]!), true);
  return out;
}

const QK = 32; // elements per Q8_0 / Q4_0 block

/** Q8_0 blocks of `x` (length a multiple of 32): per block f16 d = amax/127, then 32 int8 round(x/d). */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0, o = 0; b < x.length; b += QK, o += 34) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b + j]!));
    const d = f32(amax / 127);
    const id = d ? f32(1 / d) : 0;
    view.setUint16(o, floatToHalf(d), true);
    for (let j = 0; j < QK; j++) view.setInt8(o + 2 + j, roundAwayFromZero(f32(x[b + j]! * id)));
  }
  return out;
}

/**
 * Q4_0 blocks of `x`: per block the value of largest magnitude `max` (the first one on ties), f16 d = max/−8,
 * nibbles q = min(15, trunc(x/d + 8.5)); byte j holds element j (low) and element j + 16 (high).
 */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * 18);
  const view = new DataView(out.buffer);
  for (let b = 0, o = 0; b < x.length; b += QK, o += 18) {
    let amax = 0, max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[b + j]!;
      if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
    }
    const d = f32(max / -8);
    const id = d ? f32(1 / d) : 0;
    view.setUint16(o, floatToHalf(d), true);
    const nibble = (v: number) => Math.min(15, Math.trunc(f32(f32(v * id) + 8.5)));
    for (let j = 0; j < QK / 2; j++) out[o + 2 + j] = nibble(x[b + j]!) | (nibble(x[b + j + QK / 2]!) << 4);
  }
  return out;
}

/** C's roundf: halves away from zero. */
function roundAwayFromZero(v: number): number {
  return Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
}

/** Quantize-at-load targets. */
export type LoadQuantization = 'q8_0' | 'q4_0';

const GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q8_0 = 8, GGML_BF16 = 30;
const FLOAT_TYPES: Record<number, FloatDType> = { [GGML_F32]: 'F32', [GGML_F16]: 'F16', [GGML_BF16]: 'BF16' };

/**
 * `file` with its float weight matrices quantized as they are read: every 2-D `*.weight` in F32/F16/BF16 other
 * than norms and learned positions becomes Q8_0 or Q4_0, or F16 when its rows are not a whole number of
 * 32-element blocks (llama-quantize's fallback). Vectors stay as they are.
 */
export function quantizeModelFile(file: ModelFile, target: LoadQuantization): ModelFile {
  const quantType = target === 'q8_0' ? GGML_Q8_0 : GGML_Q4_0;
  const blockBytes = target === 'q8_0' ? 34 : 18;
  const originals = new Map<string, ModelTensorInfo>();
  const tensors = file.tensors.map((t): ModelTensorInfo => {
    const eligible = FLOAT_TYPES[t.type] !== undefined && t.dims.filter((d) => d > 1).length === 2 && t.dims.length === 2
      && t.name.endsWith('.weight') && !t.name.endsWith('_norm.weight') && t.name !== 'position_embd.weight';
    if (!eligible) return t;
    const [cols, rows] = t.dims as [number, number];
    const type = cols % QK === 0 ? quantType : GGML_F16;
    if (type === t.type) return t;
    originals.set(t.name, t);
    const byteLength = type === GGML_F16 ? 2 * cols * rows : (cols / QK) * blockBytes * rows;
    return { name: t.name, dims: t.dims, type, byteLength };
  });
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return {
    metadata: file.metadata,
    tensors,
    tensorsByName: byName,
    source: file.source,
    // Quantized tensors are computed whole; the others keep the file's ranged reader.
    tensorReader: (info) => (originals.has(info.name) ? undefined : file.tensorReader?.(file.tensorsByName.get(info.name) ?? info)),
    async readTensor(info) {
      const original = originals.get(info.name);
      if (!original) return file.readTensor(file.tensorsByName.get(info.name) ?? info);
      const values = toFloats(await file.readTensor(original), FLOAT_TYPES[original.type]!);
      const type = byName.get(info.name)!.type;
      return type === GGML_F16 ? floatsToHalfBytes(values) : type === GGML_Q8_0 ? quantizeQ8_0(values) : quantizeQ4_0(values);
    },
  };
}
