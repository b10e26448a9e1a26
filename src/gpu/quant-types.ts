// Which GGUF tensor types the GPU reads directly, and how their bytes are laid out. Weights go to the
// GPU as the file stores them (raw ggml block bytes, padded to a whole u32 word), or for Q4_0, Q8_0 and Q6_K
// repacked into aligned groups of the same bytes (src/gpu/aligned-weights.ts), and are dequantized in registers by the
// dtype preamble (shaders/dtype/*.wgsl), so a Q4_0 model costs 4.5 bits per weight in GPU memory, not 32.
import type { FileWeightDType, WeightDType } from './shaders';

export type { FileWeightDType, WeightDType } from './shaders';

export interface WeightLayout {
  /** ggml type id as stored in GGUF tensor infos. */
  ggmlType: number;
  /** ggml's name for messages ('Q4_K'). */
  ggmlName: string;
  /** Elements per ggml block (1 for the float types). */
  blockElements: number;
  /** Bytes per ggml block. */
  blockBytes: number;
  /**
   * Row lengths (matvec COLS, ggml ne0) must be a multiple of this: the block size for quantized types
   * (ggml guarantees it), 2 for f16/bf16 (rows start on a whole u32 word), 1 for f32.
   */
  rowMultiple: number;
  /**
   * For a layout Hearth repacks a file's type into at load (src/gpu/aligned-weights.ts), that file type; its blocks
   * keep their elements and bytes, so row bytes and binding offsets are the file type's.
   */
  repackOf?: WeightDType;
}

// Ids and block sizes follow ggml's type_traits (ggml.c) and block structs (ggml-common.h). They are
// spelled out here rather than imported from the model layer so the GPU layer has no dependency on it;
// a test checks them against src/model/ggml-types.ts.
export const weightLayouts: Readonly<Record<WeightDType, WeightLayout>> = {
  f32: { ggmlType: 0, ggmlName: 'F32', blockElements: 1, blockBytes: 4, rowMultiple: 1 },
  f16: { ggmlType: 1, ggmlName: 'F16', blockElements: 1, blockBytes: 2, rowMultiple: 2 },
  bf16: { ggmlType: 30, ggmlName: 'BF16', blockElements: 1, blockBytes: 2, rowMultiple: 2 },
  q8_0: { ggmlType: 8, ggmlName: 'Q8_0', blockElements: 32, blockBytes: 34, rowMultiple: 32 },
  q4_0: { ggmlType: 2, ggmlName: 'Q4_0', blockElements: 32, blockBytes: 18, rowMultiple: 32 },
  q4_1: { ggmlType: 3, ggmlName: 'Q4_1', blockElements: 32, blockBytes: 20, rowMultiple: 32 },
  q5_0: { ggmlType: 6, ggmlName: 'Q5_0', blockElements: 32, blockBytes: 22, rowMultiple: 32 },
  q5_1: { ggmlType: 7, ggmlName: 'Q5_1', blockElements: 32, blockBytes: 24, rowMultiple: 32 },
  q4_k: { ggmlType: 12, ggmlName: 'Q4_K', blockElements: 256, blockBytes: 144, rowMultiple: 256 },
  q5_k: { ggmlType: 13, ggmlName: 'Q5_K', blockElements: 256, blockBytes: 176, rowMultiple: 256 },
  q6_k: { ggmlType: 14, ggmlName: 'Q6_K', blockElements: 256, blockBytes: 210, rowMultiple: 256 },
  q2_k: { ggmlType: 10, ggmlName: 'Q2_K', blockElements: 256, blockBytes: 84, rowMultiple: 256 },
  q3_k: { ggmlType: 11, ggmlName: 'Q3_K', blockElements: 256, blockBytes: 110, rowMultiple: 256 },
  iq4_nl: { ggmlType: 20, ggmlName: 'IQ4_NL', blockElements: 32, blockBytes: 18, rowMultiple: 32 },
  iq4_xs: { ggmlType: 23, ggmlName: 'IQ4_XS', blockElements: 256, blockBytes: 136, rowMultiple: 256 },
  q4_0_aligned: { ggmlType: 2, ggmlName: 'Q4_0', blockElements: 32, blockBytes: 18, rowMultiple: 32, repackOf: 'q4_0' },
  q8_0_aligned: { ggmlType: 8, ggmlName: 'Q8_0', blockElements: 32, blockBytes: 34, rowMultiple: 32, repackOf: 'q8_0' },
  q6_k_aligned: { ggmlType: 14, ggmlName: 'Q6_K', blockElements: 256, blockBytes: 210, rowMultiple: 256, repackOf: 'q6_k' },
};

/** The types a GGUF file holds, as the GPU reads them unrepacked. */
export const weightDTypes = (Object.keys(weightLayouts) as WeightDType[]).filter((d): d is FileWeightDType => weightLayouts[d].repackOf === undefined);
/** The layouts repacked at load (src/gpu/aligned-weights.ts). */
export const alignedDTypes = (Object.keys(weightLayouts) as WeightDType[]).filter((d) => weightLayouts[d].repackOf !== undefined);

const dtypeByGGML = new Map<number, WeightDType>(weightDTypes.map((d) => [weightLayouts[d].ggmlType, d]));

/** The weight dtype that reads a GGUF tensor of ggml type `type` as it is, or undefined if unsupported. */
export function weightDTypeForGGML(type: number): WeightDType | undefined {
  return dtypeByGGML.get(type);
}

/** ggml names of the supported tensor types, for error messages ('F32, F16, BF16, Q8_0, …'). */
export function supportedWeightTypes(): string[] {
  return weightDTypes.map((d) => weightLayouts[d].ggmlName);
}

/** Bytes of a tensor of `elements` elements in `dtype` (elements a multiple of the block size). */
export function weightByteLength(dtype: WeightDType, elements: number): number {
  const { blockElements, blockBytes } = weightLayouts[dtype];
  return (elements / blockElements) * blockBytes;
}

/**
 * Size of the GPU buffer for a tensor of `byteLength` raw bytes: rounded up to a whole u32 word, as
 * `array<u32>` bindings and writeBuffer need. The padding bytes are never used as weights.
 */
export function weightBufferSize(byteLength: number): number {
  return Math.ceil(byteLength / 4) * 4;
}
