// The ggml tensor type table: ids as stored in GGUF tensor infos, and the block layout
// (elements per block, bytes per block) that determines how many bytes a tensor occupies.
// Ids and sizes follow ggml's `type_traits` table; removed ids (4, 5, 31-33, 36-38) are absent.
import { FormatError, UnsupportedError } from '../errors';

export const GGMLType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
} as const;

export type GGMLTypeName = keyof typeof GGMLType;

export interface GGMLTypeInfo {
  name: GGMLTypeName;
  /** Elements per block (1 for plain scalar types). */
  blockSize: number;
  /** Bytes per block. */
  bytesPerBlock: number;
}

// [blockSize, bytesPerBlock] per type; K-quants and most IQ types use 256-element super-blocks.
const layouts: Record<GGMLTypeName, [number, number]> = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 18], // f16 d + 16 bytes of nibbles
  Q4_1: [32, 20], // f16 d, m + 16
  Q5_0: [32, 22], // f16 d + 4 qh + 16
  Q5_1: [32, 24], // f16 d, m + 4 qh + 16
  Q8_0: [32, 34], // f16 d + 32 int8
  Q8_1: [32, 36], // f16 d, s + 32 int8
  Q2_K: [256, 84],
  Q3_K: [256, 110],
  Q4_K: [256, 144],
  Q5_K: [256, 176],
  Q6_K: [256, 210],
  Q8_K: [256, 292], // f32 d + 256 int8 + 16 int16 bsums
  IQ2_XXS: [256, 66],
  IQ2_XS: [256, 74],
  IQ3_XXS: [256, 98],
  IQ1_S: [256, 50],
  IQ4_NL: [32, 18],
  IQ3_S: [256, 110],
  IQ2_S: [256, 82],
  IQ4_XS: [256, 136],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  F64: [1, 8],
  IQ1_M: [256, 56],
  BF16: [1, 2],
  TQ1_0: [256, 54],
  TQ2_0: [256, 66],
  MXFP4: [32, 17], // e8m0 scale + 16 bytes of fp4 pairs
};

const infoById = new Map<number, GGMLTypeInfo>(
  (Object.keys(GGMLType) as GGMLTypeName[]).map((name) => {
    const [blockSize, bytesPerBlock] = layouts[name];
    return [GGMLType[name], { name, blockSize, bytesPerBlock }];
  }),
);

/** Layout of a type id, or undefined if the id is not a (current) ggml type. */
export function ggmlTypeInfo(type: number): GGMLTypeInfo | undefined {
  return infoById.get(type);
}

/** Name for messages: 'Q4_K', or 'unknown type 42'. */
export function ggmlTypeName(type: number): string {
  return infoById.get(type)?.name ?? `unknown type ${type}`;
}

/**
 * Bytes occupied by a tensor of `type` with ggml-order dims (dims[0] contiguous).
 * Throws UnsupportedError for unknown types, FormatError if dims[0] is not a whole number of blocks
 * or a dim is not a positive safe integer.
 */
export function tensorByteLength(type: number, dims: readonly number[]): number {
  const info = infoById.get(type);
  if (!info) throw new UnsupportedError(`ggml tensor type id ${type} is not known to Hearth`);
  let elements = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new FormatError(`tensor dimension ${d} is not a positive integer (dims [${dims.join(', ')}])`);
    elements *= d;
    if (!Number.isSafeInteger(elements)) throw new FormatError(`tensor dims [${dims.join(', ')}] have too many elements`);
  }
  const rowLength = dims.length > 0 ? dims[0]! : 1;
  if (rowLength % info.blockSize !== 0) {
    throw new FormatError(`${info.name} tensor row length ${rowLength} is not a multiple of the block size ${info.blockSize}`);
  }
  const bytes = (elements / info.blockSize) * info.bytesPerBlock;
  if (!Number.isSafeInteger(bytes)) throw new FormatError(`tensor dims [${dims.join(', ')}] are too large`);
  return bytes;
}
