// GGUF reader (versions 2 and 3, little-endian). Reads the header, metadata and tensor infos
// through a ByteSource with a growing read window, so only the header region is fetched — never the
// tensor data. Every count and length is checked against what is left in the file BEFORE anything is
// allocated, so corrupt or hostile files fail fast with a FormatError instead of hanging or exhausting memory.
// Layout reference: ggml/docs/gguf.md.
import { FormatError, UnsupportedError } from '../errors';
import type { ByteSource } from '../io/byte-source';
import { ggmlTypeInfo, tensorByteLength } from './ggml-types';

/** Metadata value type ids as stored in the file. */
export const GGUFValueType = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6,
  BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;
type GGUFValueTypeId = (typeof GGUFValueType)[keyof typeof GGUFValueType];

/** Numeric arrays come back as typed arrays (a 32000-entry scores array is one allocation). */
export type GGUFNumberArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
export type GGUFArray = GGUFNumberArray | BigUint64Array | BigInt64Array | string[] | boolean[] | GGUFArray[];
/** 64-bit integer scalars are bigint; all other numbers are number. */
export type GGUFValue = number | bigint | boolean | string | GGUFArray;

export interface GGUFTensorInfo {
  name: string;
  /** ggml order: dims[0] = ne0, the contiguous (fastest-varying) dim. */
  dims: number[];
  /** ggml type id, see GGMLType. */
  type: number;
  /** ABSOLUTE byte offset of the tensor data in the file. */
  offset: number;
  byteLength: number;
}

export interface GGUFFile {
  version: number;
  metadata: Map<string, GGUFValue>;
  /** Value type of each metadata entry (for arrays: ARRAY), e.g. for re-writing a file. */
  metadataTypes: Map<string, GGUFValueTypeId>;
  tensors: GGUFTensorInfo[];
  tensorsByName: Map<string, GGUFTensorInfo>;
  alignment: number;
  /** Absolute offset of the (aligned) tensor data section. */
  dataOffset: number;
  source: ByteSource;
  /** The bytes of a tensor of this file, read from `source` (ModelFile's reader). */
  readTensor(tensor: { name: string }): Promise<Uint8Array>;
  /** A byte range of a tensor, read from `source` (ModelFile's ranged reader). */
  tensorReader(tensor: { name: string }): ((offset: number, length: number) => Promise<Uint8Array>) | undefined;
}

const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian uint32
const DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4;
const MAX_ARRAY_NESTING = 8;
/** Versions above this are not a future GGUF but garbage (llama.cpp is at 3). */
const MAX_PLAUSIBLE_VERSION = 0xffff;
const FIRST_WINDOW = 64 * 1024;
const MAX_WINDOW_STEP = 8 * 1024 * 1024;
const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// ignoreBOM: keep a leading U+FEFF — it is a real token in the Llama vocab, not a byte-order mark.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Sequential little-endian reader over a ByteSource, buffering a window that grows as needed. */
class HeaderReader {
  private buf = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0; // file offset of buf[0]
  private step = FIRST_WINDOW;
  pos = 0; // absolute file offset of the next byte

  constructor(readonly source: ByteSource) {}

  get remaining(): number { return this.source.size - this.pos; }
  private get local(): number { return this.pos - this.bufStart; }

  truncated(what: string): FormatError {
    return new FormatError(`${this.source.name}: the file seems truncated: ${what} at offset ${this.pos} runs past the end of the ${this.source.size}-byte file`);
  }

  /** True if the next n bytes are already buffered (no await needed). */
  has(n: number): boolean { return this.local + n <= this.buf.length; }

  /** Makes the next n bytes available; FormatError if the file is shorter. */
  async fill(n: number, what: string): Promise<void> {
    if (n > this.remaining) throw this.truncated(what);
    if (this.has(n)) return;
    const keep = this.buf.subarray(this.local);
    const want = Math.min(Math.max(n - keep.length, this.step), this.source.size - (this.pos + keep.length));
    this.step = Math.min(this.step * 2, MAX_WINDOW_STEP);
    const fresh = await this.source.read(this.pos + keep.length, want);
    const next = new Uint8Array(keep.length + fresh.length);
    next.set(keep, 0);
    next.set(fresh, keep.length);
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.bufStart = this.pos;
  }

  // Synchronous primitives: callers must have called fill() for their size first.
  u8(): number { const v = this.buf[this.local]!; this.pos += 1; return v; }
  u32(): number { const v = this.view.getUint32(this.local, true); this.pos += 4; return v; }
  u64(): bigint { const v = this.view.getBigUint64(this.local, true); this.pos += 8; return v; }
  bytes(n: number): Uint8Array { const s = this.buf.subarray(this.local, this.local + n); this.pos += n; return s; }
  dataView(): DataView { return this.view; }
  localOffset(): number { return this.local; }
  skip(n: number): void { this.pos += n; }

  async readU32(what: string): Promise<number> { if (!this.has(4)) await this.fill(4, what); return this.u32(); }
  async readU64(what: string): Promise<bigint> { if (!this.has(8)) await this.fill(8, what); return this.u64(); }

  /** A uint64 count/length as a number, checked to be safe and, if `minBytesEach` > 0, to fit in what remains. */
  async readCount(what: string, minBytesEach: number): Promise<number> {
    const at = this.pos;
    const big = await this.readU64(what);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FormatError(`${this.source.name}: ${what} at offset ${at} is ${big}, which is impossibly large (corrupt file?)`);
    }
    const n = Number(big);
    if (minBytesEach > 0 && n * minBytesEach > this.remaining) {
      throw new FormatError(`${this.source.name}: ${what} at offset ${at} is ${n}, but only ${this.remaining} bytes remain in the file (corrupt or truncated file?)`);
    }
    return n;
  }

  /** The next string if it is entirely buffered (the common case in big token arrays), else undefined. */
  tryReadStringSync(): string | undefined {
    if (!this.has(8)) return undefined;
    const big = this.view.getBigUint64(this.local, true);
    if (big > BigInt(this.buf.length - this.local - 8)) return undefined;
    const len = Number(big);
    this.pos += 8;
    return decodeUtf8(this.bytes(len));
  }

  async readString(what: string): Promise<string> {
    const len = await this.readCount(`length of ${what}`, 1);
    if (!this.has(len)) await this.fill(len, what);
    return decodeUtf8(this.bytes(len));
  }
}

function decodeUtf8(b: Uint8Array): string {
  // Tokens are mostly short ASCII: skip TextDecoder's per-call overhead for them.
  if (b.length <= 32) {
    let ascii = true;
    for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) { ascii = false; break; }
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  return utf8.decode(b);
}

const scalarSize: Partial<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

async function readScalar(r: HeaderReader, type: number, what: string): Promise<GGUFValue> {
  const size = scalarSize[type]!;
  if (!r.has(size)) await r.fill(size, what);
  const v = r.dataView(), o = r.localOffset();
  r.skip(size);
  switch (type) {
    case GGUFValueType.UINT8: return v.getUint8(o);
    case GGUFValueType.INT8: return v.getInt8(o);
    case GGUFValueType.UINT16: return v.getUint16(o, true);
    case GGUFValueType.INT16: return v.getInt16(o, true);
    case GGUFValueType.UINT32: return v.getUint32(o, true);
    case GGUFValueType.INT32: return v.getInt32(o, true);
    case GGUFValueType.FLOAT32: return v.getFloat32(o, true);
    case GGUFValueType.BOOL: return v.getUint8(o) !== 0;
    case GGUFValueType.UINT64: return v.getBigUint64(o, true);
    case GGUFValueType.INT64: return v.getBigInt64(o, true);
    default: return v.getFloat64(o, true); // FLOAT64
  }
}

type TypedArrayCtor = { new(buffer: ArrayBuffer): GGUFNumberArray | BigUint64Array | BigInt64Array; BYTES_PER_ELEMENT: number };
const arrayCtors: Partial<Record<number, TypedArrayCtor>> = {
  0: Uint8Array, 1: Int8Array, 2: Uint16Array, 3: Int16Array, 4: Uint32Array, 5: Int32Array,
  6: Float32Array, 10: BigUint64Array, 11: BigInt64Array, 12: Float64Array,
};

async function readValue(r: HeaderReader, type: number, what: string, depth: number): Promise<GGUFValue> {
  if (type === GGUFValueType.STRING) return r.readString(what);
  if (type === GGUFValueType.ARRAY) return readArray(r, what, depth + 1);
  if (scalarSize[type] !== undefined) return readScalar(r, type, what);
  throw new FormatError(`${r.source.name}: ${what} has unknown value type ${type} (corrupt file?)`);
}

async function readArray(r: HeaderReader, what: string, depth: number): Promise<GGUFArray> {
  if (depth > MAX_ARRAY_NESTING) throw new FormatError(`${r.source.name}: ${what} nests arrays more than ${MAX_ARRAY_NESTING} deep (corrupt file?)`);
  const elemType = await r.readU32(`element type of ${what}`);
  const ctor = arrayCtors[elemType];
  if (ctor) {
    const count = await r.readCount(`element count of ${what}`, ctor.BYTES_PER_ELEMENT);
    const byteLength = count * ctor.BYTES_PER_ELEMENT;
    if (!r.has(byteLength)) await r.fill(byteLength, what);
    const raw = r.bytes(byteLength);
    const copy = new Uint8Array(byteLength); // own, aligned buffer
    copy.set(raw);
    if (!hostIsLittleEndian && ctor.BYTES_PER_ELEMENT > 1) swapInPlace(copy, ctor.BYTES_PER_ELEMENT);
    return new ctor(copy.buffer);
  }
  if (elemType === GGUFValueType.BOOL) {
    const count = await r.readCount(`element count of ${what}`, 1);
    if (!r.has(count)) await r.fill(count, what);
    return Array.from(r.bytes(count), (b) => b !== 0);
  }
  if (elemType === GGUFValueType.STRING) {
    const count = await r.readCount(`element count of ${what}`, 8);
    const out: string[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = r.tryReadStringSync() ?? await r.readString(`${what}[${i}]`);
    return out;
  }
  if (elemType === GGUFValueType.ARRAY) {
    const count = await r.readCount(`element count of ${what}`, 12);
    const out: GGUFArray[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = await readArray(r, `${what}[${i}]`, depth + 1);
    return out;
  }
  throw new FormatError(`${r.source.name}: ${what} is an array of unknown value type ${elemType} (corrupt file?)`);
}

function swapInPlace(b: Uint8Array, width: number): void {
  for (let i = 0; i < b.length; i += width) b.subarray(i, i + width).reverse();
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 30;
}

async function readMagicAndVersion(r: HeaderReader): Promise<number> {
  const name = r.source.name;
  if (r.source.size < 8) {
    if (r.source.size >= 4) {
      const m = await r.source.read(0, 4);
      if (new DataView(m.buffer, m.byteOffset, 4).getUint32(0, true) === GGUF_MAGIC) throw r.truncated('the header');
    }
    throw new FormatError(`${name}: not a GGUF file (it is only ${r.source.size} bytes long)`);
  }
  await r.fill(8, 'the header');
  const magicBytes = r.bytes(4);
  const magic = new DataView(magicBytes.buffer, magicBytes.byteOffset, 4).getUint32(0, true);
  if (magic !== GGUF_MAGIC) {
    if (magic === 0x47475546) throw new UnsupportedError(`${name}: this is a big-endian GGUF file; Hearth reads only little-endian GGUF (convert it with llama.cpp's gguf tools)`);
    const shown = Array.from(magicBytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
    throw new FormatError(`${name}: not a GGUF file (magic "${shown}", expected "GGUF")`);
  }
  const version = r.u32();
  if ((version & 0xffffff) === 0 && version !== 0) { // a small version written big-endian
    const swapped = ((version >>> 24) | ((version >>> 8) & 0xff00)) >>> 0;
    throw new UnsupportedError(`${name}: this is a big-endian GGUF file (version ${swapped}); Hearth reads only little-endian GGUF (convert it with llama.cpp's gguf tools)`);
  }
  if (version === 1) throw new UnsupportedError(`${name}: GGUF version 1 is not supported (only 2 and 3); re-convert the model with a current llama.cpp`);
  // A later format would count up from 3; a number like 2960923846 is garbage after a lucky (or copied) magic.
  if (version === 0 || version > MAX_PLAUSIBLE_VERSION) {
    throw new FormatError(`${name}: the file starts with "GGUF" but its version field reads ${version}: the file is corrupt or truncated (download it again)`);
  }
  if (version !== 2 && version !== 3) throw new UnsupportedError(`${name}: GGUF version ${version} is not supported (only 2 and 3)`);
  return version;
}

/** Parses the header, metadata and tensor infos. Reads only the header region of the source. */
export async function readGGUF(source: ByteSource): Promise<GGUFFile> {
  const r = new HeaderReader(source);
  const version = await readMagicAndVersion(r);
  // Smallest tensor info: 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset).
  const tensorCount = await r.readCount('tensor count', 24);
  // Smallest metadata entry: 8 (key length) + 4 (type) + 1 (uint8/bool value).
  const kvCount = await r.readCount('metadata entry count', 13);
  const { metadata, metadataTypes } = await readMetadata(r, kvCount);
  const alignment = alignmentOf(metadata, source.name);
  const pending = await readTensorInfos(r, tensorCount, alignment);
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  const tensors = pending.map((t) => placeTensor(t, dataOffset, source));
  const file: GGUFFile = {
    version, metadata, metadataTypes, tensors, tensorsByName: new Map(tensors.map((t) => [t.name, t])), alignment, dataOffset, source,
    readTensor: (tensor) => readTensorBytes(file, tensor.name),
    tensorReader: (tensor) => tensorRangeReader(file, tensor.name),
  };
  return file;
}

async function readMetadata(r: HeaderReader, kvCount: number): Promise<{ metadata: Map<string, GGUFValue>; metadataTypes: Map<string, GGUFValueTypeId> }> {
  const metadata = new Map<string, GGUFValue>();
  const metadataTypes = new Map<string, GGUFValueTypeId>();
  for (let i = 0; i < kvCount; i++) {
    const key = await r.readString(`metadata key #${i}`);
    if (metadata.has(key)) throw new FormatError(`${r.source.name}: metadata key '${key}' appears twice (corrupt file?)`);
    const type = await r.readU32(`value type of metadata '${key}'`);
    metadata.set(key, await readValue(r, type, `metadata '${key}'`, 0));
    metadataTypes.set(key, type as GGUFValueTypeId);
  }
  return { metadata, metadataTypes };
}

function alignmentOf(metadata: Map<string, GGUFValue>, name: string): number {
  const alignValue = metadata.get('general.alignment');
  if (alignValue === undefined) return DEFAULT_ALIGNMENT;
  const a = typeof alignValue === 'bigint' ? Number(alignValue) : alignValue;
  if (typeof a !== 'number' || !isPowerOfTwo(a)) {
    throw new FormatError(`${name}: general.alignment is ${String(alignValue)}; it must be a power of two (corrupt file?)`);
  }
  return a;
}

/** A tensor info as the header states it: its data offset relative to the data section. */
interface HeaderTensorInfo { name: string; dims: number[]; type: number; relOffset: number }

async function readTensorInfos(r: HeaderReader, tensorCount: number, alignment: number): Promise<HeaderTensorInfo[]> {
  const name = r.source.name;
  const infos: HeaderTensorInfo[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const tname = await r.readString(`name of tensor #${i}`);
    if (seen.has(tname)) throw new FormatError(`${name}: tensor '${tname}' appears twice (corrupt file?)`);
    seen.add(tname);
    const nDims = await r.readU32(`n_dims of tensor '${tname}'`);
    if (nDims > MAX_DIMS) throw new FormatError(`${name}: tensor '${tname}' has ${nDims} dimensions; GGUF allows at most ${MAX_DIMS} (corrupt file?)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const dim = await r.readCount(`dimension ${d} of tensor '${tname}'`, 0);
      if (dim <= 0) throw new FormatError(`${name}: tensor '${tname}' has dimension ${d} of size ${dim}; dimensions must be positive (corrupt file?)`);
      dims.push(dim);
    }
    const type = await r.readU32(`type of tensor '${tname}'`);
    const relOffset = await r.readCount(`data offset of tensor '${tname}'`, 0);
    if (!ggmlTypeInfo(type)) {
      throw new UnsupportedError(`${name}: tensor '${tname}' has ggml type id ${type}, which Hearth does not know (newer llama.cpp quantization?)`);
    }
    if (relOffset % alignment !== 0) {
      throw new FormatError(`${name}: tensor '${tname}' data offset ${relOffset} is not a multiple of the alignment ${alignment} (corrupt file?)`);
    }
    infos.push({ name: tname, dims, type, relOffset });
  }
  return infos;
}

/** The tensor's absolute place in the file, checked to lie within it. */
function placeTensor(t: HeaderTensorInfo, dataOffset: number, source: ByteSource): GGUFTensorInfo {
  let byteLength: number;
  try {
    byteLength = tensorByteLength(t.type, t.dims);
  } catch (e) {
    if (e instanceof FormatError) throw new FormatError(`${source.name}: tensor '${t.name}': ${e.message}`, { cause: e });
    throw e;
  }
  const offset = dataOffset + t.relOffset;
  if (offset + byteLength > source.size) {
    throw new FormatError(`${source.name}: the file seems truncated: tensor '${t.name}' data (${byteLength} bytes at offset ${offset}) runs past the end of the ${source.size}-byte file`);
  }
  return { name: t.name, dims: t.dims, type: t.type, offset, byteLength };
}

/** Reads byte ranges of one tensor's data from the file's source; undefined for an unknown tensor. */
export function tensorRangeReader(file: GGUFFile, name: string): ((offset: number, length: number) => Promise<Uint8Array>) | undefined {
  const info = file.tensorsByName.get(name);
  if (!info) return undefined;
  return (offset, length) => {
    if (offset < 0 || length < 0 || offset + length > info.byteLength) throw new FormatError(`${file.source.name}: read of ${length} bytes at ${offset} is outside tensor '${name}' (${info.byteLength} bytes)`);
    return file.source.read(info.offset + offset, length);
  };
}

/** The raw bytes of one tensor, read from the file's source. */
export async function readTensorBytes(file: GGUFFile, tensor: GGUFTensorInfo | string): Promise<Uint8Array> {
  const info = typeof tensor === 'string' ? file.tensorsByName.get(tensor) : tensor;
  if (!info) throw new FormatError(`${file.source.name}: the model has no tensor '${String(tensor)}'`);
  return file.source.read(info.offset, info.byteLength);
}

// ---- Typed metadata getters: a wrong type names the key and what was found. ----
