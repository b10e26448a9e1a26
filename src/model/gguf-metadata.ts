// Typed reads of GGUF metadata values (a missing or mistyped key is a FormatError naming it): what the architecture
// readers, the config and the tokenizer ask of a file's `metadata`.
import { FormatError } from '../errors';
import type { GGUFArray, GGUFNumberArray, GGUFValue } from './gguf';

type HasMetadata = { metadata: Map<string, GGUFValue>; source?: { name: string } };

function describe(v: GGUFValue): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as GGUFNumberArray).length}`;
  return `${typeof v} ${JSON.stringify(typeof v === 'bigint' ? v.toString() : v)?.slice(0, 60)}`;
}

function wrongType(file: HasMetadata, key: string, expected: string, v: GGUFValue): FormatError {
  const where = file.source ? `${file.source.name}: ` : '';
  return new FormatError(`${where}metadata '${key}' should be ${expected} but is ${describe(v)}`);
}

function required<T>(file: HasMetadata, key: string, v: T | undefined): T {
  if (v === undefined) {
    const where = file.source ? `${file.source.name}: ` : '';
    throw new FormatError(`${where}required metadata '${key}' is missing`);
  }
  return v;
}

export function getOptionalString(file: HasMetadata, key: string): string | undefined {
  const v = file.metadata.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw wrongType(file, key, 'a string', v);
  return v;
}
export function getString(file: HasMetadata, key: string): string {
  return required(file, key, getOptionalString(file, key));
}

/** Any numeric scalar; 64-bit integers are accepted while they are exactly representable. */
export function getOptionalNumber(file: HasMetadata, key: string): number | undefined {
  const v = file.metadata.get(key);
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  throw wrongType(file, key, 'a number', v);
}
export function getNumber(file: HasMetadata, key: string): number {
  return required(file, key, getOptionalNumber(file, key));
}

export function getOptionalBoolean(file: HasMetadata, key: string): boolean | undefined {
  const v = file.metadata.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw wrongType(file, key, 'a boolean', v);
  return v;
}

export function getOptionalArray(file: HasMetadata, key: string): GGUFArray | undefined {
  const v = file.metadata.get(key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw wrongType(file, key, 'an array', v);
  return v as GGUFArray;
}
export function getArray(file: HasMetadata, key: string): GGUFArray {
  return required(file, key, getOptionalArray(file, key));
}

export function getOptionalStringArray(file: HasMetadata, key: string): string[] | undefined {
  const v = getOptionalArray(file, key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw wrongType(file, key, 'an array of strings', v);
  return v as string[];
}
export function getStringArray(file: HasMetadata, key: string): string[] {
  return required(file, key, getOptionalStringArray(file, key));
}

/** A numeric array (not 64-bit integer): Float32Array, Int32Array, ... as stored. */
export function getOptionalNumberArray(file: HasMetadata, key: string): GGUFNumberArray | undefined {
  const v = getOptionalArray(file, key);
  if (v === undefined) return undefined;
  if (!ArrayBuffer.isView(v) || v instanceof BigInt64Array || v instanceof BigUint64Array) throw wrongType(file, key, 'an array of numbers', v);
  return v as GGUFNumberArray;
}
export function getNumberArray(file: HasMetadata, key: string): GGUFNumberArray {
  return required(file, key, getOptionalNumberArray(file, key));
}
