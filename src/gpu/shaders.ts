// WGSL sources, one operation per file. `?raw` imports work the same in Vite (native) and in Node
// (scripts/register.mjs), so there is one loading mechanism everywhere and no runtime fetch.
import { InvalidRequestError } from '../errors';
import embeddingSource from '../../shaders/embedding.wgsl?raw';
import rmsnormSource from '../../shaders/rmsnorm.wgsl?raw';
import matvecSource from '../../shaders/matvec.wgsl?raw';
import matmulSource from '../../shaders/matmul.wgsl?raw';
import ropeSource from '../../shaders/rope.wgsl?raw';
import attentionSource from '../../shaders/attention.wgsl?raw';
import addSource from '../../shaders/add.wgsl?raw';
import swigluSource from '../../shaders/swiglu.wgsl?raw';
import argmaxSource from '../../shaders/argmax.wgsl?raw';
import randomSource from '../../shaders/random.wgsl?raw';
import layernormSource from '../../shaders/layernorm.wgsl?raw';
import geluSource from '../../shaders/gelu.wgsl?raw';
import gegluSource from '../../shaders/geglu.wgsl?raw';
import softcapSource from '../../shaders/softcap.wgsl?raw';
import scaleSource from '../../shaders/scale.wgsl?raw';
import positionSource from '../../shaders/position.wgsl?raw';
import logitProcessSource from '../../shaders/logit-process.wgsl?raw';
import sampleSource from '../../shaders/sample.wgsl?raw';
import logprobsSource from '../../shaders/logprobs.wgsl?raw';
import actF32Preamble from '../../shaders/dtype/act-f32.wgsl?raw';
import actF16Preamble from '../../shaders/dtype/act-f16.wgsl?raw';
import f32Preamble from '../../shaders/dtype/f32.wgsl?raw';
import f16Preamble from '../../shaders/dtype/f16.wgsl?raw';
import bf16Preamble from '../../shaders/dtype/bf16.wgsl?raw';
import quantCommon from '../../shaders/dtype/quant-common.wgsl?raw';
import q8_0Preamble from '../../shaders/dtype/q8_0.wgsl?raw';
import q4_0Preamble from '../../shaders/dtype/q4_0.wgsl?raw';
import q4_1Preamble from '../../shaders/dtype/q4_1.wgsl?raw';
import q5_0Preamble from '../../shaders/dtype/q5_0.wgsl?raw';
import q5_1Preamble from '../../shaders/dtype/q5_1.wgsl?raw';
import kScales from '../../shaders/dtype/k-scales.wgsl?raw';
import q4_kPreamble from '../../shaders/dtype/q4_k.wgsl?raw';
import q5_kPreamble from '../../shaders/dtype/q5_k.wgsl?raw';
import q6_kPreamble from '../../shaders/dtype/q6_k.wgsl?raw';

export type KernelName = 'embedding' | 'rmsnorm' | 'matvec' | 'matmul' | 'rope' | 'attention' | 'add' | 'swiglu' | 'argmax' | 'random'
  | 'layernorm' | 'gelu' | 'geglu' | 'softcap' | 'scale' | 'position' | 'logit-process' | 'sample' | 'logprobs';

/**
 * How weights are stored in their GPU buffer: plain f32, or a GGUF tensor's raw bytes in u32 words
 * (f16/bf16 two per word; ggml quantized blocks as they are). See src/gpu/quant-types.ts.
 */
export type WeightDType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | 'q5_1' | 'q4_k' | 'q5_k' | 'q6_k';

const sources: Record<KernelName, string> = {
  embedding: embeddingSource,
  rmsnorm: rmsnormSource,
  matvec: matvecSource,
  matmul: matmulSource,
  rope: ropeSource,
  attention: attentionSource,
  add: addSource,
  swiglu: swigluSource,
  argmax: argmaxSource,
  random: randomSource,
  layernorm: layernormSource,
  gelu: geluSource,
  geglu: gegluSource,
  softcap: softcapSource,
  scale: scaleSource,
  position: positionSource,
  'logit-process': logitProcessSource,
  sample: sampleSource,
  logprobs: logprobsSource,
};

// Block-quantized types get the shared helpers first: byte reads (their blocks are not word aligned)
// and load_weight in terms of the preamble's weight_block/weight8.
const quantized = (preamble: string) => `${quantCommon}\n${preamble}`;
const preambles: Record<WeightDType, string> = {
  f32: f32Preamble,
  f16: f16Preamble,
  bf16: bf16Preamble,
  q8_0: quantized(q8_0Preamble),
  q4_0: quantized(q4_0Preamble),
  q4_1: quantized(q4_1Preamble),
  q5_0: quantized(q5_0Preamble),
  q5_1: quantized(q5_1Preamble),
  q4_k: quantized(`${kScales}\n${q4_kPreamble}`),
  q5_k: quantized(`${kScales}\n${q5_kPreamble}`),
  q6_k: quantized(q6_kPreamble),
};
const dtypeList = Object.keys(preambles).map((d) => `'${d}'`).join(', ');

/**
 * The arithmetic of the weight kernels: weights are dequantized to, multiplied and summed in f32, or in f16
 * (needs the device feature 'shader-f16'; partial sums are carried in f32). Chosen once at load.
 */
export type ComputePrecision = 'f32' | 'f16';

/** The compute-precision preambles (`alias Act`), which come first: `enable f16;` must open the module. */
const precisionPreambles: Record<ComputePrecision, string> = { f32: actF32Preamble, f16: actF16Preamble };

/** The kernels that read a weight tensor through `load_weight` and so need a dtype preamble. */
export const weightKernels: ReadonlySet<KernelName> = new Set<KernelName>(['embedding', 'matvec', 'matmul', 'position']);

/**
 * Weight kernels that only look weights up (copy a row, add one): KernelCache compiles them with f32
 * arithmetic whatever the model's precision, so their values stay exact (bit-identical to ggml's).
 */
export const lookupKernels: ReadonlySet<KernelName> = new Set<KernelName>(['embedding', 'position']);

export const kernelNames = Object.keys(sources) as KernelName[];

/**
 * The complete WGSL module for a kernel. Weight-reading kernels (embedding, matvec, ...) get the
 * compute-precision preamble for `precision` and then the dtype preamble prepended, and require `dtype`;
 * every other kernel rejects it, so a mistake shows up here instead of as a confusing compile error.
 * Kernels that read no weights compute in f32 whatever the precision.
 */
export function shaderSource(name: KernelName, dtype?: WeightDType, precision: ComputePrecision = 'f32'): string {
  const source = sources[name];
  if (source === undefined) {
    throw new InvalidRequestError(`Unknown kernel "${name}". Known kernels: ${kernelNames.join(', ')}.`);
  }
  if (weightKernels.has(name)) {
    if (dtype === undefined) {
      throw new InvalidRequestError(`Kernel "${name}" reads weights: pass a weight dtype (${dtypeList}).`);
    }
    const preamble = Object.hasOwn(preambles, dtype) ? preambles[dtype] : undefined;
    if (preamble === undefined) {
      throw new InvalidRequestError(`Unknown weight dtype "${dtype}" for kernel "${name}": use one of ${dtypeList}.`);
    }
    const act = Object.hasOwn(precisionPreambles, precision) ? precisionPreambles[precision] : undefined;
    if (act === undefined) throw new InvalidRequestError(`Unknown compute precision "${precision}": use 'f32' or 'f16'.`);
    return `${act}\n${preamble}\n${source}`;
  }
  if (dtype !== undefined) {
    throw new InvalidRequestError(`Kernel "${name}" reads no weights, so it takes no dtype (got '${dtype}').`);
  }
  return source;
}
