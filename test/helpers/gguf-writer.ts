// A small GGUF writer for tests: builds synthetic models and hand-crafted (also deliberately broken) headers.
// Follows ggml/docs/gguf.md: header, metadata KVs, tensor infos, padding to `alignment`, tensor data.
import { GGUFValueType, type GGUFFile, type GGUFValue } from '../../src/model/gguf';
import { GGMLType, tensorByteLength } from '../../src/model/ggml-types';
import { f32ToF16 } from '../reference/f16';

/** A metadata value with an explicit GGUF value type (plain JS values get a type inferred, see inferType). */
export class Typed {
  constructor(readonly type: number, readonly value: GGUFValue | GGUFValue[], readonly elemType?: number) {}
}
export const u8 = (v: number) => new Typed(GGUFValueType.UINT8, v);
export const i8 = (v: number) => new Typed(GGUFValueType.INT8, v);
export const u16 = (v: number) => new Typed(GGUFValueType.UINT16, v);
export const i16 = (v: number) => new Typed(GGUFValueType.INT16, v);
export const u32 = (v: number) => new Typed(GGUFValueType.UINT32, v);
export const i32 = (v: number) => new Typed(GGUFValueType.INT32, v);
export const f32 = (v: number) => new Typed(GGUFValueType.FLOAT32, v);
export const f64 = (v: number) => new Typed(GGUFValueType.FLOAT64, v);
export const u64 = (v: bigint | number) => new Typed(GGUFValueType.UINT64, BigInt(v));
export const i64 = (v: bigint | number) => new Typed(GGUFValueType.INT64, BigInt(v));
/** An array whose elements have GGUF type `elemType` (use for empty or nested arrays). */
export const arr = (elemType: number, values: GGUFValue[] | ArrayLike<number>) => new Typed(GGUFValueType.ARRAY, Array.from(values as ArrayLike<GGUFValue>), elemType);

export type MetaValue = GGUFValue | Typed;

export interface TensorSpec {
  name: string;
  /** ggml order: dims[0] is the contiguous row length. */
  dims: number[];
  type: number;
  /** Raw bytes in the tensor's ggml type; Float32Array is accepted for F32 (and converted for F16). */
  data: Uint8Array | Float32Array;
}

export interface GGUFSpec {
  version?: number;
  alignment?: number;
  /** Insertion order is preserved. `general.alignment` is added as UINT32 when `alignment` is set and the key is absent. */
  metadata?: Record<string, MetaValue> | [string, MetaValue][];
  tensors?: TensorSpec[];
}

/** Little-endian byte builder; also used directly by fuzz tests to craft impossible headers. */
export class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): this { this.grow(1); this.view.setUint8(this.length, v); this.length += 1; return this; }
  i8(v: number): this { this.grow(1); this.view.setInt8(this.length, v); this.length += 1; return this; }
  u16(v: number): this { this.grow(2); this.view.setUint16(this.length, v, true); this.length += 2; return this; }
  i16(v: number): this { this.grow(2); this.view.setInt16(this.length, v, true); this.length += 2; return this; }
  u32(v: number): this { this.grow(4); this.view.setUint32(this.length, v, true); this.length += 4; return this; }
  i32(v: number): this { this.grow(4); this.view.setInt32(this.length, v, true); this.length += 4; return this; }
  f32(v: number): this { this.grow(4); this.view.setFloat32(this.length, v, true); this.length += 4; return this; }
  f64(v: number): this { this.grow(8); this.view.setFloat64(this.length, v, true); this.length += 8; return this; }
  u64(v: bigint | number): this { this.grow(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; return this; }
  i64(v: bigint | number): this { this.grow(8); this.view.setBigInt64(this.length, BigInt(v), true); this.length += 8; return this; }
  bytes(b: Uint8Array): this { this.grow(b.length); this.buf.set(b, this.length); this.length += b.length; return this; }
  str(s: string): this { const b = new TextEncoder().encode(s); return this.u64(b.length).bytes(b); }
  padTo(alignment: number): this { while (this.length % alignment !== 0) this.u8(0); return this; }
  finish(): Uint8Array { return this.buf.slice(0, this.length); }
}

/** GGUF type for a plain JS value: integers → UINT32/INT32, other numbers → FLOAT32, typed arrays by element type. */
export function inferType(v: GGUFValue): { type: number; elemType?: number } {
  if (typeof v === 'string') return { type: GGUFValueType.STRING };
  if (typeof v === 'boolean') return { type: GGUFValueType.BOOL };
  if (typeof v === 'bigint') return { type: v < 0n ? GGUFValueType.INT64 : GGUFValueType.UINT64 };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return { type: GGUFValueType.FLOAT32 };
    return { type: v < 0 ? GGUFValueType.INT32 : GGUFValueType.UINT32 };
  }
  const elemByCtor: [Function, number][] = [
    [Uint8Array, GGUFValueType.UINT8], [Int8Array, GGUFValueType.INT8], [Uint16Array, GGUFValueType.UINT16],
    [Int16Array, GGUFValueType.INT16], [Uint32Array, GGUFValueType.UINT32], [Int32Array, GGUFValueType.INT32],
    [Float32Array, GGUFValueType.FLOAT32], [Float64Array, GGUFValueType.FLOAT64],
    [BigUint64Array, GGUFValueType.UINT64], [BigInt64Array, GGUFValueType.INT64],
  ];
  for (const [ctor, t] of elemByCtor) if (v instanceof ctor) return { type: GGUFValueType.ARRAY, elemType: t };
  const first = (v as GGUFValue[])[0];
  return { type: GGUFValueType.ARRAY, elemType: first === undefined ? GGUFValueType.STRING : inferType(first).type };
}

export function writeValue(w: ByteWriter, type: number, v: GGUFValue | GGUFValue[], elemType?: number): void {
  switch (type) {
    case GGUFValueType.UINT8: w.u8(v as number); break;
    case GGUFValueType.INT8: w.i8(v as number); break;
    case GGUFValueType.UINT16: w.u16(v as number); break;
    case GGUFValueType.INT16: w.i16(v as number); break;
    case GGUFValueType.UINT32: w.u32(v as number); break;
    case GGUFValueType.INT32: w.i32(v as number); break;
    case GGUFValueType.FLOAT32: w.f32(v as number); break;
    case GGUFValueType.FLOAT64: w.f64(v as number); break;
    case GGUFValueType.UINT64: w.u64(v as bigint); break;
    case GGUFValueType.INT64: w.i64(v as bigint); break;
    case GGUFValueType.BOOL: w.u8(v ? 1 : 0); break;
    case GGUFValueType.STRING: w.str(v as string); break;
    case GGUFValueType.ARRAY: {
      const items = Array.from(v as ArrayLike<GGUFValue>);
      const et = elemType ?? (items.length ? inferType(items[0]!).type : GGUFValueType.STRING);
      w.u32(et).u64(items.length);
      for (const item of items) {
        const inner = et === GGUFValueType.ARRAY ? inferType(item).elemType : undefined;
        writeValue(w, et, item, inner);
      }
      break;
    }
    default: throw new Error(`gguf-writer: unknown value type ${type}`);
  }
}

function tensorBytes(t: TensorSpec): Uint8Array {
  if (t.data instanceof Float32Array) {
    if (t.type === GGMLType.F32) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (t.type === GGMLType.F16) return new Uint8Array(Uint16Array.from(t.data, f32ToF16).buffer);
    throw new Error(`gguf-writer: give tensor '${t.name}' as raw bytes for type ${t.type}`);
  }
  return t.data;
}

/** Serializes a complete GGUF file. Tensor data is checked against the type's byte length. */
export function writeGGUF(spec: GGUFSpec): Uint8Array {
  const alignment = spec.alignment ?? 32;
  const entries: [string, MetaValue][] = Array.isArray(spec.metadata) ? [...spec.metadata] : Object.entries(spec.metadata ?? {});
  if (spec.alignment !== undefined && !entries.some(([k]) => k === 'general.alignment')) entries.push(['general.alignment', u32(alignment)]);
  const tensors = spec.tensors ?? [];
  const w = new ByteWriter();
  w.u32(0x46554747).u32(spec.version ?? 3).u64(tensors.length).u64(entries.length);
  for (const [key, value] of entries) {
    w.str(key);
    const t = value instanceof Typed ? { type: value.type, elemType: value.elemType } : inferType(value);
    w.u32(t.type);
    writeValue(w, t.type, value instanceof Typed ? value.value : value, t.elemType);
  }
  const datas = tensors.map(tensorBytes);
  let offset = 0;
  tensors.forEach((t, i) => {
    const expected = tensorByteLength(t.type, t.dims);
    if (datas[i]!.length !== expected) throw new Error(`gguf-writer: tensor '${t.name}' has ${datas[i]!.length} bytes, expected ${expected}`);
    w.str(t.name).u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type).u64(offset);
    offset += Math.ceil(expected / alignment) * alignment;
  });
  if (datas.length > 0) w.padTo(alignment); // llama.cpp leaves a tensor-less file unpadded
  for (const d of datas) w.bytes(d).padTo(alignment); // llama.cpp pads after the last tensor too
  return w.finish();
}

/** A spec that re-creates a parsed file (metadata with its original types, tensor bytes as given). */
export function specFromFile(file: GGUFFile, tensorData: Map<string, Uint8Array>): GGUFSpec {
  const metadata: [string, MetaValue][] = [...file.metadata].map(([k, v]) => {
    const type = file.metadataTypes.get(k)!;
    if (type === GGUFValueType.ARRAY) return [k, new Typed(type, v, inferType(v).elemType)];
    return [k, new Typed(type, v)];
  });
  return {
    version: file.version,
    alignment: file.metadata.has('general.alignment') ? file.alignment : undefined,
    metadata,
    tensors: file.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: tensorData.get(t.name)! })),
  };
}

export interface TinyLlamaOptions {
  dim?: number; layers?: number; heads?: number; kvHeads?: number; ff?: number; vocab?: number;
  contextLength?: number; tied?: boolean; seed?: number;
  /**
   * 'uniform' (default): every weight U(−0.1, 0.1); small and flat, enough for shape and format tests.
   * 'scaled': norm weights 1 ± 0.1, matrices with std 1/√(fan-in) (so activations keep unit scale through the
   * layers and logits spread with std ≈ 1) and embeddings with std 1/√dim (small next to the blocks' output, so
   * a tied output matrix does not just repeat the input token).
   */
  init?: 'uniform' | 'scaled';
  /**
   * 'minimal' (default): <unk> <s> </s> t3 t4 …, text does not tokenize meaningfully.
   * 'bytes': <unk> <s> </s>, the 256 byte tokens <0x00>…<0xFF>, then SentencePiece pieces (▁, a–z, common
   * merges) with descending scores, so any text tokenizes (byte fallback) the same way in llama.cpp and Hearth.
   */
  vocabulary?: 'minimal' | 'bytes';
  /** Extra or overriding metadata entries (value undefined removes a key). */
  metadata?: Record<string, MetaValue | undefined>;
  /** Tensor names to leave out (for negative tests). */
  omitTensors?: string[];
}

/** A deterministic pseudo-random F32 llama with the standard tensor names; small enough to write in tests. */
export function tinyLlamaSpec(o: TinyLlamaOptions = {}): GGUFSpec {
  const dim = o.dim ?? 16, layers = o.layers ?? 2, heads = o.heads ?? 4, kvHeads = o.kvHeads ?? 2;
  const ff = o.ff ?? 32, vocab = o.vocab ?? 40, headDim = dim / heads;
  let state = (o.seed ?? 1) >>> 0;
  const random = (n: number) => Float32Array.from({ length: n }, () => {
    state = (state + 0x6d2b79f5) >>> 0; // mulberry32
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) - 0.5) * 0.2;
  });
  const scaled = o.init === 'scaled';
  // U(−0.1, 0.1) has std 0.1/√3: scaling by k·√3·10 gives std k.
  const withStd = (n: number, std: number) => random(n).map((x) => x * std * Math.sqrt(3) * 10);
  const weight = (name: string, dims: number[]): Float32Array => {
    const n = dims.reduce((a, b) => a * b, 1);
    if (!scaled) return random(n);
    if (dims.length === 1) return random(n).map((x) => 1 + x); // norm weights
    return withStd(n, 1 / Math.sqrt(dims[0]!)); // dims[0] is the row length: fan-in, or dim for token_embd
  };
  const vocabulary = o.vocabulary === 'bytes' ? byteFallbackVocabulary(vocab) : minimalVocabulary(vocab);
  const meta: Record<string, MetaValue | undefined> = {
    'general.architecture': 'llama',
    'general.name': 'tiny-llama',
    'llama.context_length': u32(o.contextLength ?? 64),
    'llama.embedding_length': u32(dim),
    'llama.block_count': u32(layers),
    'llama.feed_forward_length': u32(ff),
    'llama.attention.head_count': u32(heads),
    'llama.attention.head_count_kv': u32(kvHeads),
    'llama.rope.dimension_count': u32(headDim),
    'llama.attention.layer_norm_rms_epsilon': f32(1e-5),
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': vocabulary.tokens,
    'tokenizer.ggml.scores': vocabulary.scores,
    'tokenizer.ggml.token_type': vocabulary.types,
    ...(o.vocabulary === 'bytes' ? { 'tokenizer.ggml.bos_token_id': u32(1), 'tokenizer.ggml.eos_token_id': u32(2), 'tokenizer.ggml.unknown_token_id': u32(0) } : {}),
    ...o.metadata,
  };
  const tensors: TensorSpec[] = [];
  const add = (name: string, dims: number[]) => {
    if (!o.omitTensors?.includes(name)) tensors.push({ name, dims, type: GGMLType.F32, data: weight(name, dims) });
  };
  add('token_embd.weight', [dim, vocab]);
  for (let l = 0; l < layers; l++) {
    add(`blk.${l}.attn_norm.weight`, [dim]);
    add(`blk.${l}.attn_q.weight`, [dim, heads * headDim]);
    add(`blk.${l}.attn_k.weight`, [dim, kvHeads * headDim]);
    add(`blk.${l}.attn_v.weight`, [dim, kvHeads * headDim]);
    add(`blk.${l}.attn_output.weight`, [heads * headDim, dim]);
    add(`blk.${l}.ffn_norm.weight`, [dim]);
    add(`blk.${l}.ffn_gate.weight`, [dim, ff]);
    add(`blk.${l}.ffn_up.weight`, [dim, ff]);
    add(`blk.${l}.ffn_down.weight`, [ff, dim]);
  }
  add('output_norm.weight', [dim]);
  if (!o.tied) add('output.weight', [dim, vocab]);
  const metadata = Object.entries(meta).filter((e): e is [string, MetaValue] => e[1] !== undefined);
  return { metadata, tensors };
}

interface SpmVocabulary { tokens: string[]; scores: Float32Array; types: Int32Array }

function minimalVocabulary(size: number): SpmVocabulary {
  return {
    tokens: Array.from({ length: size }, (_, i) => (i === 0 ? '<unk>' : i === 1 ? '<s>' : i === 2 ? '</s>' : `t${i}`)),
    scores: new Float32Array(size),
    types: Int32Array.from({ length: size }, (_, i) => (i === 0 ? 2 : i < 3 ? 3 : 1)),
  };
}

/** Merges of English-like text, best first; every piece splits into two earlier pieces or single characters. */
const SPM_PIECES = [
  '▁t', 'he', '▁a', 'in', 'er', 'an', '▁s', 'on', 're', '▁w', 'nd', '▁the', 'at', 'en', '▁o', 'ou', 'ed', 'is', 'it',
  'or', 'ing', '▁b', '▁c', 'as', '▁h', '▁m', '▁d', '▁f', 'ar', '▁and', '▁to', 'll', '▁l', 'om', '▁p', 'ay', '▁was',
];

/** <unk> <s> </s>, 256 byte tokens, ▁ and a–z, SPM_PIECES, then two-letter pieces until `size` tokens. */
function byteFallbackVocabulary(size: number): SpmVocabulary {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const pieces = ['\u2581', ...letters, ...SPM_PIECES];
  for (const a of letters) for (const b of letters) if (!pieces.includes(a + b)) pieces.push(a + b);
  const first = 3 + 256;
  if (size < first + 1 + letters.length) throw new Error(`gguf-writer: a byte-fallback vocabulary needs at least ${first + 1 + letters.length} tokens`);
  if (size > first + pieces.length) throw new Error(`gguf-writer: a byte-fallback vocabulary has at most ${first + pieces.length} tokens`);
  const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
  const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => hex(b)), ...pieces.slice(0, size - first)];
  const types = Int32Array.from(tokens, (_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < first ? 6 : 1));
  // Earlier pieces merge first (higher score); specials and bytes score 0 as in llama.cpp's converted vocabularies.
  const scores = Float32Array.from(tokens, (_, i) => (i < first ? 0 : -(i - first)));
  return { tokens, scores, types };
}
