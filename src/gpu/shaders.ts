// WGSL sources, one operation per file. `?raw` imports work the same in Vite (native) and in Node
// (scripts/register.mjs), so there is one loading mechanism everywhere and no runtime fetch.
import { InvalidRequestError } from '../errors';
import embeddingSource from '../../shaders/embedding.wgsl?raw';
import rmsnormSource from '../../shaders/rmsnorm.wgsl?raw';
import matvecSource from '../../shaders/matvec.wgsl?raw';
import matvecSubgroupSource from '../../shaders/matvec-subgroup.wgsl?raw';
import matvecWorkgroupSource from '../../shaders/matvec-workgroup.wgsl?raw';
import matmulSource from '../../shaders/matmul.wgsl?raw';
import matmulTiledSource from '../../shaders/matmul-tiled.wgsl?raw';
import ropeSource from '../../shaders/rope.wgsl?raw';
import attentionSource from '../../shaders/attention.wgsl?raw';
import attentionCombineSource from '../../shaders/attention-combine.wgsl?raw';
import attentionDecodeSource from '../../shaders/attention-decode.wgsl?raw';
import attentionDecodeCombineSource from '../../shaders/attention-decode-combine.wgsl?raw';
import attentionPrefillSource from '../../shaders/attention-prefill.wgsl?raw';
import decodeSplitPreamble from '../../shaders/common/decode-split.wgsl?raw';
import attentionScorePreamble from '../../shaders/common/attention-score.wgsl?raw';
import partialsMergePreamble from '../../shaders/common/partials-merge.wgsl?raw';
import kvStoreSource from '../../shaders/kv-store.wgsl?raw';
import kvF32Preamble from '../../shaders/dtype/kv-f32.wgsl?raw';
import kvF16Preamble from '../../shaders/dtype/kv-f16.wgsl?raw';
import addSource from '../../shaders/add.wgsl?raw';
import gluSource from '../../shaders/glu.wgsl?raw';
import argmaxSource from '../../shaders/argmax.wgsl?raw';
import randomSource from '../../shaders/random.wgsl?raw';
import layernormSource from '../../shaders/layernorm.wgsl?raw';
import geluSource from '../../shaders/gelu.wgsl?raw';
import softcapSource from '../../shaders/softcap.wgsl?raw';
import scaleSource from '../../shaders/scale.wgsl?raw';
import positionSource from '../../shaders/position.wgsl?raw';
import logitProcessSource from '../../shaders/logit-process.wgsl?raw';
import sampleSource from '../../shaders/sample.wgsl?raw';
import sampleWideSource from '../../shaders/sample-wide.wgsl?raw';
import logprobsSource from '../../shaders/logprobs.wgsl?raw';
import quantizeQ8Source from '../../shaders/quantize-q8.wgsl?raw';
import matvecQ8Source from '../../shaders/matvec-q8.wgsl?raw';
import matmulQ8Source from '../../shaders/matmul-q8.wgsl?raw';
import q8ActPreamble from '../../shaders/dtype/q8-act.wgsl?raw';
import samplingPreamble from '../../shaders/common/sampling.wgsl?raw';
import pcgPreamble from '../../shaders/common/pcg.wgsl?raw';
import drawPreamble from '../../shaders/common/draw.wgsl?raw';
import activationPreamble from '../../shaders/common/activation.wgsl?raw';
import productsPreamble from '../../shaders/common/products.wgsl?raw';
import rmsPreamble from '../../shaders/common/rms.wgsl?raw';
import matvecEntryPoints from '../../shaders/common/matvec-entry.wgsl?raw';
import matvecLanes from '../../shaders/common/matvec-lanes.wgsl?raw';
import matvecQ8Lanes from '../../shaders/common/matvec-q8-lanes.wgsl?raw';
import laneEntries from '../../shaders/common/lane-entries.wgsl?raw';
import laneWalk from '../../shaders/common/lane-walk.wgsl?raw';
import laneQkvMixed from '../../shaders/common/lane-qkv-mixed.wgsl?raw';
import matmulEntryPoints from '../../shaders/common/matmul-entry.wgsl?raw';
import matmulStore from '../../shaders/common/matmul-store.wgsl?raw';
import actF32Preamble from '../../shaders/dtype/act-f32.wgsl?raw';
import actF16Preamble from '../../shaders/dtype/act-f16.wgsl?raw';
import f32Preamble from '../../shaders/dtype/f32.wgsl?raw';
import f16Preamble from '../../shaders/dtype/f16.wgsl?raw';
import bf16Preamble from '../../shaders/dtype/bf16.wgsl?raw';
import byteReads from '../../shaders/dtype/byte-reads.wgsl?raw';
import quantCommon from '../../shaders/dtype/quant-common.wgsl?raw';
import alignedCommon from '../../shaders/dtype/aligned-common.wgsl?raw';
import q4_0AlignedPreamble from '../../shaders/dtype/q4_0-aligned.wgsl?raw';
import q8_0AlignedPreamble from '../../shaders/dtype/q8_0-aligned.wgsl?raw';
import q6_kAlignedPreamble from '../../shaders/dtype/q6_k-aligned.wgsl?raw';
import q8_0Preamble from '../../shaders/dtype/q8_0.wgsl?raw';
import q4_0Preamble from '../../shaders/dtype/q4_0.wgsl?raw';
import q4_1Preamble from '../../shaders/dtype/q4_1.wgsl?raw';
import q5_0Preamble from '../../shaders/dtype/q5_0.wgsl?raw';
import q5_1Preamble from '../../shaders/dtype/q5_1.wgsl?raw';
import kScales from '../../shaders/dtype/k-scales.wgsl?raw';
import q4_kPreamble from '../../shaders/dtype/q4_k.wgsl?raw';
import q5_kPreamble from '../../shaders/dtype/q5_k.wgsl?raw';
import q6_kPreamble from '../../shaders/dtype/q6_k.wgsl?raw';
import q2_kPreamble from '../../shaders/dtype/q2_k.wgsl?raw';
import q3_kPreamble from '../../shaders/dtype/q3_k.wgsl?raw';
import iq4Values from '../../shaders/dtype/iq4-values.wgsl?raw';
import iq4_nlPreamble from '../../shaders/dtype/iq4_nl.wgsl?raw';
import iq4_xsPreamble from '../../shaders/dtype/iq4_xs.wgsl?raw';

export type KernelName = 'embedding' | 'rmsnorm' | 'matvec' | 'matmul' | 'rope' | 'attention' | 'attention-combine'
  | 'attention-decode' | 'attention-decode-combine' | 'attention-prefill' | 'add' | 'glu' | 'argmax' | 'random'
  | 'layernorm' | 'gelu' | 'softcap' | 'scale' | 'position' | 'logit-process' | 'sample' | 'sample-wide' | 'logprobs'
  | 'quantize-q8' | 'matvec-q8' | 'matmul-q8' | 'matvec-subgroup' | 'matvec-workgroup' | 'matmul-tiled' | 'kv-store'
  | 'matvec-q8-subgroup' | 'matvec-q8-workgroup';

/**
 * How weights are stored in their GPU buffer: plain f32, or a GGUF tensor's raw bytes in u32 words
 * (f16/bf16 two per word; ggml quantized blocks as they are). See src/gpu/quant-types.ts.
 */
export type WeightDType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | 'q5_1' | 'q4_k' | 'q5_k' | 'q6_k'
  | 'q2_k' | 'q3_k' | 'iq4_nl' | 'iq4_xs' | AlignedDType;
/** A file type repacked at load into groups of whole aligned 16-byte words (src/gpu/aligned-weights.ts). */
export type AlignedDType = 'q4_0_aligned' | 'q8_0_aligned' | 'q6_k_aligned';
/** The types a GGUF file holds that the GPU reads. */
export type FileWeightDType = Exclude<WeightDType, AlignedDType>;

const sources: Record<KernelName, string> = {
  embedding: embeddingSource,
  rmsnorm: rmsnormSource,
  matvec: matvecSource,
  matmul: matmulSource,
  rope: ropeSource,
  attention: attentionSource,
  'attention-combine': attentionCombineSource,
  'attention-decode': attentionDecodeSource,
  'attention-decode-combine': attentionDecodeCombineSource,
  'attention-prefill': attentionPrefillSource,
  add: addSource,
  glu: gluSource,
  argmax: argmaxSource,
  random: randomSource,
  layernorm: layernormSource,
  gelu: geluSource,
  softcap: softcapSource,
  scale: scaleSource,
  position: positionSource,
  'logit-process': logitProcessSource,
  sample: sampleSource,
  'sample-wide': sampleWideSource,
  logprobs: logprobsSource,
  'quantize-q8': quantizeQ8Source,
  'matvec-q8': matvecQ8Source,
  'matmul-q8': matmulQ8Source,
  'matvec-subgroup': matvecSubgroupSource,
  'matmul-tiled': matmulTiledSource,
  'matvec-workgroup': matvecWorkgroupSource,
  'kv-store': kvStoreSource,
  // The 8-bit-activation products for GPUs: the lane reductions above, around common/matvec-q8-lanes.wgsl's walk.
  'matvec-q8-subgroup': matvecSubgroupSource,
  'matvec-q8-workgroup': matvecWorkgroupSource,
};

// Declarations several kernels share (WGSL has no imports): the sampler's uniform and flags, the random hash,
// the draw kernels' bindings, the FFN activations, the fused RMSNorm, how flash-decoding splits a context, the
// attention score (its soft-cap), the merge of split attention's partials.
const commonPreambles: Partial<Record<KernelName, string>> = {
  gelu: activationPreamble,
  glu: activationPreamble,
  'quantize-q8': rmsPreamble,
  'logit-process': samplingPreamble,
  sample: `${samplingPreamble}\n${pcgPreamble}\n${drawPreamble}`,
  'sample-wide': `${samplingPreamble}\n${pcgPreamble}\n${drawPreamble}`,
  logprobs: samplingPreamble,
  random: pcgPreamble,
  attention: attentionScorePreamble,
  'attention-decode': `${decodeSplitPreamble}\n${attentionScorePreamble}`,
  'attention-prefill': attentionScorePreamble,
  'attention-combine': partialsMergePreamble,
  'attention-decode-combine': `${decodeSplitPreamble}\n${partialsMergePreamble}`,
};

// Block-quantized types get the shared helpers first: byte reads (their blocks are not word aligned), the
// quants' field helpers and load_weight in terms of the preamble's weight_block/weight8. The aligned layouts read
// whole vec4 words (`W: array<vec4<u32>>`), so they take the field helpers without the byte reads.
const quantized = (preamble: string) => `${byteReads}\n${quantCommon}\n${preamble}`;
const aligned = (preamble: string) => `${quantCommon}\n${alignedCommon}\n${preamble}`;
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
  q2_k: quantized(q2_kPreamble),
  q3_k: quantized(q3_kPreamble),
  iq4_nl: quantized(`${iq4Values}\n${iq4_nlPreamble}`),
  iq4_xs: quantized(`${iq4Values}\n${iq4_xsPreamble}`),
  q4_0_aligned: aligned(q4_0AlignedPreamble),
  q8_0_aligned: aligned(q8_0AlignedPreamble),
  q6_k_aligned: aligned(q6_kAlignedPreamble),
};
/**
 * The weight products' shared parts around the kernel source (after the dtype preambles): their outputs
 * (common/products.wgsl: stacked q/k/v, gated FFN), the fused RMSNorm of the float products' input
 * (common/rms.wgsl), and the entry points, which call the kernel's row_sums or tile_sums.
 */
const productOutputs = `${activationPreamble}\n${productsPreamble}`;
const productParts: Partial<Record<KernelName, { before: string; after: string }>> = {
  matvec: { before: `${productOutputs}\n${rmsPreamble}`, after: matvecEntryPoints },
  matmul: { before: `${productOutputs}\n${rmsPreamble}`, after: `${matmulStore}\n${matmulEntryPoints}` },
  'matvec-q8': { before: productOutputs, after: matvecEntryPoints },
  'matmul-q8': { before: productOutputs, after: `${matmulStore}\n${matmulEntryPoints}` },
  // The products whose lanes share rows: the row walk and entry points after the kernel's reduction.
  'matvec-subgroup': { before: `${productOutputs}\n${rmsPreamble}`, after: `${matvecLanes}\n${laneWalk}\n${laneEntries}` },
  'matvec-workgroup': { before: `${productOutputs}\n${rmsPreamble}`, after: `${matvecLanes}\n${laneWalk}\n${laneEntries}` },
  'matmul-tiled': { before: `${productOutputs}\n${rmsPreamble}`, after: matmulStore }, // its entry points are its own (a workgroup per tile)
  // The 8-bit products whose lanes share rows: a lane reduction, then the blocks' walk and entry points.
  'matvec-q8-subgroup': { before: productOutputs, after: `${matvecQ8Lanes}\n${laneEntries}` },
  'matvec-q8-workgroup': { before: productOutputs, after: `${matvecQ8Lanes}\n${laneEntries}` },
};

/**
 * The float lane kernels that also take a second weight type (KernelOptions.secondDtype): their entry point
 * main_qkv_mixed (common/lane-qkv-mixed.wgsl) runs a [q; k; v] held in two matrices of two types in one dispatch.
 */
export const mixedQkvKernels: ReadonlySet<KernelName> = new Set<KernelName>(['matvec-subgroup', 'matvec-workgroup']);

/**
 * `source` with every name it declares at module scope, and the weights' binding W, suffixed: the second weight
 * type's preamble and walk beside the first's in one module (WGSL has neither imports nor generics).
 */
function suffixed(source: string, suffix: string): string {
  const names = new Set(['W', ...[...source.matchAll(/^(?:fn|const|alias|struct|override)\s+(\w+)/gm)].map((m) => m[1]!)]);
  return source.replace(/\b[A-Za-z_]\w*\b/g, (id) => (names.has(id) ? `${id}${suffix}` : id));
}

/** The entry points of the weight products (common/products.wgsl): out = W x (+ b), a [q; k; v] stack, a gated FFN. */
export type ProductEntryPoint = 'main' | 'main_bias' | 'main_qkv' | 'main_glu' | 'main_argmax' | 'main_qkv_mixed';
/** Any kernel's entry point: attention, rope and position have 'main_packed' (sequences packed in one batch). */
export type EntryPoint = ProductEntryPoint | 'main_packed' | ReductionEntryPoint;
/** The passes of the wide reductions: argmax.wgsl's partials and finish; sample-wide.wgsl's passes. */
export type ReductionEntryPoint = 'partials' | 'finish' | 'slice_max' | 'khist' | 'kties' | 'kcut' | 'slice_mass' | 'draw';

const dtypeList = Object.keys(preambles).map((d) => `'${d}'`).join(', ');

/**
 * The arithmetic of the weight kernels: weights are dequantized to, multiplied and summed in f32, or in f16
 * (needs the device feature 'shader-f16'; partial sums are carried in f32). Chosen once at load.
 */
export type ComputePrecision = 'f32' | 'f16';

/**
 * The arithmetic of a model's weight products, chosen once at load: a ComputePrecision, or 'q8', in which q4_0
 * and q8_0 matrices multiply activations quantized to 8 bits per block of 32 with integer dot products
 * (llama.cpp's CPU numerics; the q8 kernels), and every other weight kernel computes in f32.
 */
export type ModelPrecision = ComputePrecision | 'q8';

/** The compute-precision preambles (`alias Act`), which come first: `enable f16;` must precede every declaration. */
const precisionPreambles: Record<ComputePrecision, string> = { f32: actF32Preamble, f16: actF16Preamble };

/**
 * The element type of the KV cache, chosen once at load (LoadOptions.kvCache): f32, or f16 (half the bytes; needs
 * the device feature 'shader-f16'). The kernels that read or write the cache convert; their arithmetic is f32.
 */
export type KvCacheType = 'f32' | 'f16';

/** The KV cache element preambles (`alias KvScalar`); f16 also needs `enable f16;` first in the module. */
const kvPreambles: Record<KvCacheType, string> = { f32: kvF32Preamble, f16: kvF16Preamble };

/**
 * The kernels that declare the cache's element type (KvScalar): the attention kernels that read the cache, the
 * cache write of kv-store.wgsl, and the weight products (their main_qkv epilogue writes the cache, KV_CACHE).
 */
export const kvCacheKernels: ReadonlySet<KernelName> = new Set<KernelName>(['attention', 'attention-decode', 'attention-prefill', 'kv-store',
  'matvec', 'matmul', 'matvec-q8', 'matmul-q8', 'matvec-subgroup', 'matvec-workgroup', 'matmul-tiled', 'matvec-q8-subgroup', 'matvec-q8-workgroup']);

/** The kernels that read a weight tensor through the dtype preamble (load_weight, weight8 or q8_block). */
export const weightKernels: ReadonlySet<KernelName> = new Set<KernelName>(['embedding', 'matvec', 'matmul', 'position', 'matvec-q8', 'matmul-q8', 'matvec-subgroup', 'matvec-workgroup', 'matmul-tiled',
  'matvec-q8-subgroup', 'matvec-q8-workgroup']);

/**
 * The kernels that use subgroup operations (they need the device feature 'subgroups'): shaderSource opens their
 * module with `enable subgroups;`, before the compute-precision preamble and its `enable f16;`.
 */
export const subgroupKernels: ReadonlySet<KernelName> = new Set<KernelName>(['matvec-subgroup', 'matvec-q8-subgroup']);

/**
 * The integer-dot kernels: weights whose blocks are 32 integers and a scale (the preambles with q8_block) times
 * activations quantized to 8 bits (quantize-q8.wgsl). Their arithmetic is integer, so they take the f32 preamble
 * whatever the model's precision.
 */
export const q8Kernels: ReadonlySet<KernelName> = new Set<KernelName>(['matvec-q8', 'matmul-q8', 'matvec-q8-subgroup', 'matvec-q8-workgroup']);
/** Weight types the integer-dot kernels read. */
export const q8WeightTypes: ReadonlySet<WeightDType> = new Set<WeightDType>(['q4_0', 'q8_0', 'q4_0_aligned', 'q8_0_aligned']);

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
 * Kernels that read no weights compute in f32 whatever the precision. The kernels of kvCacheKernels get the KV
 * cache element preamble for `kvCache`; the others reject 'f16'. `secondDtype` (mixedQkvKernels only) appends the
 * second type's preamble and walk, suffixed `_second`, and the entry point main_qkv_mixed.
 */
export function shaderSource(name: KernelName, dtype?: WeightDType, precision: ComputePrecision = 'f32', kvCache: KvCacheType = 'f32', secondDtype?: WeightDType): string {
  const source = sources[name];
  if (source === undefined) {
    throw new InvalidRequestError(`Unknown kernel "${name}". Known kernels: ${kernelNames.join(', ')}.`);
  }
  const kv = Object.hasOwn(kvPreambles, kvCache) ? kvPreambles[kvCache] : undefined;
  if (kv === undefined) throw new InvalidRequestError(`Unknown KV cache type "${kvCache}": use 'f32' or 'f16'.`);
  if (!kvCacheKernels.has(name) && kvCache !== 'f32') throw new InvalidRequestError(`Kernel "${name}" does not touch the KV cache, so it takes no KV cache type (got '${kvCache}').`);
  // Directives precede every declaration; an `enable f16;` repeated by the f16 compute preamble is allowed.
  const directives = `${subgroupKernels.has(name) ? 'enable subgroups;\n' : ''}${kvCache === 'f16' ? 'enable f16;\n' : ''}`;
  const kvPart = kvCacheKernels.has(name) ? `${kv}\n` : '';
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
    const second = secondDtype === undefined ? '' : mixedPart(name, secondDtype);
    if (q8Kernels.has(name)) {
      if (!q8WeightTypes.has(dtype)) throw new InvalidRequestError(`Kernel "${name}" reads ${[...q8WeightTypes].join(', ').replace(/, (?=[^,]*$)/, ' or ')} weights, not '${dtype}'.`);
      return `${directives}${precisionPreambles.f32}\n${kvPart}${preamble}\n${q8ActPreamble}\n${withParts(name, source)}`;
    }
    return `${directives}${act}\n${kvPart}${preamble}\n${withParts(name, source)}${second}`;
  }
  if (secondDtype !== undefined) throw new InvalidRequestError(`Kernel "${name}" reads no weights, so it takes no second dtype (got '${secondDtype}').`);
  if (dtype !== undefined) {
    throw new InvalidRequestError(`Kernel "${name}" reads no weights, so it takes no dtype (got '${dtype}').`);
  }
  const common = commonPreambles[name];
  return `${directives}${kvPart}${common === undefined ? '' : `${common}\n`}${source}`;
}

/** The second weight type's preamble and walk (suffixed `_second`) and main_qkv_mixed, after a float lane kernel. */
function mixedPart(name: KernelName, secondDtype: WeightDType): string {
  if (!mixedQkvKernels.has(name)) throw new InvalidRequestError(`Kernel "${name}" takes one weight type; a second one only ${[...mixedQkvKernels].join(' and ')} take.`);
  const preamble = Object.hasOwn(preambles, secondDtype) ? preambles[secondDtype] : undefined;
  if (preamble === undefined) throw new InvalidRequestError(`Unknown second weight dtype "${secondDtype}" for kernel "${name}": use one of ${dtypeList}.`);
  return `\n${suffixed(`${preamble}\n${laneWalk}`, '_second')}\n${laneQkvMixed}`;
}

function withParts(name: KernelName, source: string): string {
  const parts = productParts[name];
  return parts ? `${parts.before}\n${source}\n${parts.after}` : source;
}
