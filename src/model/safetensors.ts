// safetensors reader: an 8-byte little-endian header length, a JSON header (tensor name → dtype, shape,
// [begin, end) byte offsets into the data that follows; optional string map `__metadata__`), then the data.
// Only the header is read. Every length, offset and shape is checked against the file before it is used
// (the header against a cap and the file size, each tensor's bytes against dtype × shape and the data
// section, tensors against each other), so corrupt or hostile files fail fast with a FormatError.
// Sharded repos list their files in `model.safetensors.index.json` (`weight_map`: tensor → shard).
import { FormatError, UnsupportedError } from '../errors';
import type { ByteSource } from '../io/byte-source';

/** Element types Hearth reads from safetensors files. */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16';
const SUPPORTED_SAFETENSORS_DTYPES: readonly SafetensorsDType[] = ['F32', 'F16', 'BF16'];

/** Bytes per element of every dtype the format defines: enough to check the sizes of tensors Hearth will not read. */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32, I64: 64, U64: 64, F64: 64, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
};

export interface SafetensorsTensor {
  name: string;
  /** As stored, e.g. 'F16'; only F32/F16/BF16 can be read (see checkedDType). */
  dtype: string;
  /** Row-major (numpy/PyTorch) order: shape[shape.length − 1] is contiguous. */
  shape: number[];
  /** Absolute byte offset in the file. */
  offset: number;
  byteLength: number;
  source: ByteSource;
}

export interface SafetensorsFile {
  source: ByteSource;
  /** `__metadata__` (e.g. { format: 'pt' }). */
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

/** The header of a real model is at most a few MB; the format's own reader refuses more than 100 MB. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Parses the header of a safetensors file; reads only the header bytes. */
export async function readSafetensors(source: ByteSource): Promise<SafetensorsFile> {
  const name = source.name;
  if (source.size < 8) throw new FormatError(`${name}: not a safetensors file (it is only ${source.size} bytes long; the 8-byte header length is missing)`);
  const lengthBytes = await source.read(0, 8);
  const headerLength = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(`${name}: the safetensors header claims ${headerLength} bytes, more than the ${MAX_HEADER_BYTES} a header may have (not a safetensors file, or corrupt)`);
  }
  const n = Number(headerLength);
  if (8 + n > source.size) {
    throw new FormatError(`${name}: the file seems truncated: its ${n}-byte safetensors header runs past the end of the ${source.size}-byte file`);
  }
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let header: unknown;
  try {
    header = JSON.parse(text.decode(await source.read(8, n)));
  } catch (e) {
    throw new FormatError(`${name}: the safetensors header is not valid UTF-8 JSON (${(e as Error).message}); not a safetensors file, or corrupt`, { cause: e });
  }
  if (!isPlainObject(header)) throw new FormatError(`${name}: the safetensors header is not a JSON object`);

  const dataStart = 8 + n;
  const dataSize = source.size - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (!isPlainObject(entry)) throw new FormatError(`${name}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new FormatError(`${name}: __metadata__.${k} must be a string, not ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.set(key, tensorEntry(name, key, entry, source, dataStart, dataSize));
  }
  checkNoOverlap(name, [...tensors.values()]);
  return { source, metadata, tensors };
}

function tensorEntry(file: string, key: string, entry: unknown, source: ByteSource, dataStart: number, dataSize: number): SafetensorsTensor {
  const where = `${file}: tensor '${key}'`;
  if (!isPlainObject(entry)) throw new FormatError(`${where} is not an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') throw new FormatError(`${where} has no dtype string`);
  const bits = Object.hasOwn(DTYPE_BITS, dtype) ? DTYPE_BITS[dtype]! : undefined;
  if (bits === undefined) {
    throw new UnsupportedError(`${where} has dtype '${dtype.slice(0, 40)}', which the safetensors format does not define (newer format?); Hearth reads ${SUPPORTED_SAFETENSORS_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`${where} has shape ${JSON.stringify(shape)?.slice(0, 80)}; it must be a list of at most 8 non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new FormatError(`${where} has data_offsets ${JSON.stringify(offsets)?.slice(0, 80)}; they must be [begin, end] with 0 ≤ begin ≤ end`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataSize) {
    throw new FormatError(`${file}: the file seems truncated: tensor '${key}' (bytes ${begin}-${end} of the data) runs past the end of the ${dataSize}-byte data section`);
  }
  let elements = 1;
  for (const d of shape as number[]) {
    elements *= d;
    if (!Number.isSafeInteger(elements)) throw new FormatError(`${where} has shape [${shape.join(', ')}], too many elements`);
  }
  const expected = (elements * bits) / 8;
  if (end - begin !== expected) {
    throw new FormatError(`${where} is ${dtype} [${shape.join(', ')}], i.e. ${expected} bytes, but its data_offsets span ${end - begin}`);
  }
  return { name: key, dtype, shape: shape as number[], offset: dataStart + begin, byteLength: end - begin, source };
}

function checkNoOverlap(file: string, tensors: SafetensorsTensor[]): void {
  const sorted = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!, t = sorted[i]!;
    if (t.offset < prev.offset + prev.byteLength) {
      throw new FormatError(`${file}: tensors '${prev.name}' and '${t.name}' overlap in the data section (corrupt file?)`);
    }
  }
}

/** The tensor's dtype if Hearth can read it; UnsupportedError naming the tensor, its dtype and what is supported. */
export function checkedDType(t: SafetensorsTensor): SafetensorsDType {
  if ((SUPPORTED_SAFETENSORS_DTYPES as readonly string[]).includes(t.dtype)) return t.dtype as SafetensorsDType;
  throw new UnsupportedError(`${t.source.name}: tensor '${t.name}' is ${t.dtype}; Hearth reads safetensors weights in ${SUPPORTED_SAFETENSORS_DTYPES.join(', ')} (convert or re-export the model in one of those)`);
}

/** `model.safetensors.index.json`: which shard file holds each tensor. */
export interface ShardIndex {
  /** Tensor name → shard file name (relative to the repo). */
  weightMap: Map<string, string>;
  /** The distinct shard files, in order of first appearance. */
  shards: string[];
}

/** Parses an index file's text; FormatError for anything but { weight_map: { name: 'file' } } with plain file names. */
export function parseShardIndex(text: string, name: string): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${name}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const map = isPlainObject(json) ? (json as Record<string, unknown>).weight_map : undefined;
  if (!isPlainObject(map)) throw new FormatError(`${name}: has no "weight_map" object (tensor name → shard file)`);
  const weightMap = new Map<string, string>();
  const shards: string[] = [];
  for (const [tensor, file] of Object.entries(map)) {
    // Plain names only: a shard path must not climb out of the repo or point elsewhere.
    if (typeof file !== 'string' || !/^[\w.-]+\.safetensors$/.test(file)) {
      throw new FormatError(`${name}: weight_map['${tensor.slice(0, 80)}'] is ${JSON.stringify(file)?.slice(0, 80)}; expected a shard file name like 'model-00001-of-00002.safetensors'`);
    }
    weightMap.set(tensor, file);
    if (!shards.includes(file)) shards.push(file);
  }
  if (shards.length === 0) throw new FormatError(`${name}: weight_map is empty`);
  return { weightMap, shards };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
