// A tiny model's weights in a quantized type, twice: as the quantized GGUF Hearth loads, and as an F32 GGUF
// of exactly the values those blocks hold (test/reference's dequantizers are bit-identical to ggml's), which
// llama.cpp runs in plain f32 math. Hearth on the quantized file must then agree with llama.cpp on the F32
// one as closely as two f32 engines do (issue 4's check (b)).
import { weightLayouts, type WeightDType } from '../../src/gpu/quant-types';
import { GGMLType } from '../../src/model/ggml-types';
import { dequantize } from '../reference/quant';
import { writeGGUF, type GGUFSpec, type TensorSpec } from './gguf-writer';
import { quantize } from './quantize';

export interface QuantizedPair {
  /** GGUF with every matrix in `dtype` (vectors stay F32, as llama.cpp's quantizer leaves them). */
  quantized: Uint8Array;
  /** The same model with those matrices dequantized back to F32. */
  dequantized: Uint8Array;
  /** Names of the tensors stored in `dtype`. */
  quantizedTensors: string[];
}

/**
 * Quantizes every 2-D F32 tensor of `spec` (embeddings, projections, output) to `dtype`, or each tensor to
 * the type `dtype(tensor)` picks (null: keep it F32); a matrix whose row length is not a multiple of the
 * type's block would make a file llama.cpp rejects, so that is an error.
 */
export function quantizeModel(spec: GGUFSpec, dtype: WeightDType | ((t: TensorSpec) => WeightDType | null)): QuantizedPair {
  const quantized: TensorSpec[] = [];
  const dequantized: TensorSpec[] = [];
  const names: string[] = [];
  for (const t of spec.tensors ?? []) {
    const type = typeof dtype === 'function' ? dtype(t) : dtype;
    if (t.dims.length !== 2 || t.type !== GGMLType.F32 || type === null || type === 'f32') {
      quantized.push(t);
      dequantized.push(t);
      continue;
    }
    const layout = weightLayouts[type];
    if (t.dims[0]! % layout.blockElements !== 0) {
      throw new Error(`quantizeModel: ${t.name} has rows of ${t.dims[0]}, not a multiple of ${layout.ggmlName}'s ${layout.blockElements}-element blocks`);
    }
    const values = t.data instanceof Float32Array ? t.data : new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
    const bytes = quantize(type, values);
    quantized.push({ ...t, type: layout.ggmlType, data: bytes });
    dequantized.push({ ...t, type: GGMLType.F32, data: dequantize(type, bytes, values.length) });
    names.push(t.name);
  }
  return {
    quantized: writeGGUF({ ...spec, tensors: quantized }),
    dequantized: writeGGUF({ ...spec, tensors: dequantized }),
    quantizedTensors: names,
  };
}
