// The one place Hearth looks at a WebGPU adapter and decides how to run on it. readAdapterTraits reads the
// adapter once (name, features, WGSL language features, limits); chooseProfile turns those traits into a profile
// that names every kernel variant and default the loader uses. The GPU profile is the design; software adapters
// (shaders compiled to CPU code: SwiftShader, lavapipe/llvmpipe, any fallback adapter) are a profile of their own,
// because there one workgroup per row or head already keeps every core busy and the GPU variants' extra
// parallelism only costs. Measurements behind the choices: shaders/README.md.
import { InvalidRequestError, ResourceError } from '../errors';
import type { KvCacheType, ModelPrecision } from './shaders';

/** The limits Hearth asks a device for: the adapter's own (the defaults, 128/256 MiB buffers, are too small for real models). */
const DEVICE_LIMITS = ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX'] as const;
type DeviceLimits = Record<(typeof DEVICE_LIMITS)[number], number>;

/** What an adapter is and has: plain data, so tests can describe any adapter. */
export interface AdapterTraits {
  /** Its description, else vendor and architecture: for messages and reports. */
  name: string;
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  /** Kernels may declare `enable f16;`. */
  shaderF16: boolean;
  /** Kernels may declare `enable subgroups;` (subgroupAdd: matvec-subgroup.wgsl). */
  subgroups: boolean;
  /**
   * WGSL's `dot4I8Packed` (the language feature packed_4x8_integer_dot_product, Chrome 123+), which precision
   * 'q8' needs; undefined where the implementation does not list its language features.
   */
  packedIntegerDot?: boolean;
  limits: DeviceLimits;
  /** The adapter's subgroup sizes where it reports them. */
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
}

/** Reads `adapter` once; every other module takes these traits (or a profile) instead of asking the adapter. */
export function readAdapterTraits(gpu: GPU, adapter: GPUAdapter): AdapterTraits {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info as
    (GPUAdapterInfo & { isFallbackAdapter?: boolean; subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const description = info?.description ?? '';
  return {
    name: description || [vendor, architecture].filter(Boolean).join(' ') || 'this WebGPU adapter',
    vendor, architecture, description,
    isFallbackAdapter: info?.isFallbackAdapter ?? false,
    shaderF16: adapter.features.has('shader-f16'),
    subgroups: adapter.features.has('subgroups'),
    packedIntegerDot: gpu.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product'), // absent in older implementations
    limits: Object.fromEntries(DEVICE_LIMITS.map((k) => [k, adapter.limits[k]])) as DeviceLimits,
    subgroupMinSize: info?.subgroupMinSize,
    subgroupMaxSize: info?.subgroupMaxSize,
  };
}

/** Whether the adapter compiles shaders to CPU code (SwiftShader, lavapipe/llvmpipe, or a fallback adapter). */
export function isSoftwareAdapter(traits: Pick<AdapterTraits, 'vendor' | 'architecture' | 'description' | 'isFallbackAdapter'>): boolean {
  return traits.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${traits.vendor} ${traits.architecture} ${traits.description}`);
}

export type ProfileName = 'gpu' | 'software';
const PROFILE_NAMES: readonly string[] = ['gpu', 'software'];

/** Prompt tokens one prefill pass asks for (a multiple of matmul.wgsl's TILE, 4); memory.ts's prefillBatch may run fewer. */
export const PREFILL_BATCH = 32;
/** The GPU profile's: four of matmul-tiled.wgsl's 64-token tiles a pass, so each weight is read once per 256 tokens. */
export const GPU_PREFILL_BATCH = 256;
/**
 * The GPU profile's lane run (KernelChoices.laneSteps): up to a whole block per lane (8 steps: a Q4_K/Q5_K pair of
 * sub-blocks, half a Q6_K/Q3_K/Q2_K walk block), so each lane decodes a block's scales once, as GPU matvecs do.
 * bench:device's 'laneSteps 1' variant measures it against a step per run on the machine's GPU.
 */
const GPU_LANE_STEPS = 8;

/**
 * The run (LANE_STEPS) the lane kernels take on rows of `cols`: `laneSteps` where every one of a workgroup's 64
 * lanes still gets a run of the row's cols / 8 steps, else the longest power of two that does (at least 1).
 */
export function laneRun(laneSteps: number, cols: number): number {
  let run = laneSteps;
  while (run > 1 && cols / 8 < 64 * run) run /= 2;
  return run;
}

/** What matmul-tiled.wgsl needs of a device: its workgroup memory with Act = f32 (two 8 KiB tiles, 1 KiB of norm partials) and 16 × 16 threads. */
const TILED_MATMUL = { workgroupBytes: 17408, invocations: 256 };

/** The kernel of the batched float products (KernelChoices.matmul). */
export type MatmulKernel = 'tiled' | 'rows';

/**
 * The kernel of the one-token float products: 'subgroup' on matvec-subgroup.wgsl (64 lanes share four rows,
 * coalesced, reduced with subgroupAdd; needs the 'subgroups' feature), 'workgroup' on matvec-workgroup.wgsl (the
 * same walk, reduced through workgroup memory: GPUs without subgroups), or 'rows' on matvec.wgsl (a thread per
 * four rows: CPU adapters). With 'subgroup' and 'workgroup' decoding equals a prefill pass to rounding, not bit
 * for bit. Precision 'q8' products follow the same choice: 'subgroup' and 'workgroup' on matvec-q8-subgroup and
 * matvec-q8-workgroup (common/matvec-q8-lanes.wgsl: lanes across a row's blocks), 'rows' on matvec-q8.wgsl.
 * Batched products always run on matmul.wgsl (matmul-q8.wgsl for 'q8').
 */
export type MatvecKernel = 'subgroup' | 'workgroup' | 'rows';
const MATVEC_KERNELS: readonly string[] = ['subgroup', 'workgroup', 'rows'] satisfies MatvecKernel[];

/** The kernel variants a model is built with. */
interface KernelChoices {
  /** One-token float products (MatvecKernel). */
  matvec: MatvecKernel;
  /**
   * Attention kernels: 'flash' (GPUs: flash-decoding for a step, its splits chosen from the position each step,
   * attention-decode.wgsl; flash attention over query and key tiles for prefill, attention-prefill.wgsl), or
   * attention.wgsl's workgroup per head and token, with contexts longer than ATTENTION_CHUNK positions 'split'
   * (split-K, partials merged by attention-combine.wgsl) or attended 'whole'. The memory for the partials is
   * reserved either way, so the GPU bytes do not depend on the profile.
   */
  attention: 'flash' | 'split' | 'whole';
  /**
   * Batched (prefill) float products: 'tiled' on matmul-tiled.wgsl (64 rows × 64 tokens a workgroup of 256 threads,
   * weights dequantized once into workgroup memory per tile; prefill then equals decoding to rounding, not bit for
   * bit) or 'rows' on matmul.wgsl (a thread per 4 rows × 4 tokens, summing exactly as matvec.wgsl does).
   * Precision 'q8' products run on matmul-q8.wgsl either way.
   */
  matmul: MatmulKernel;
  /**
   * The lane kernels' run (LANE_STEPS, common/lane-walk.wgsl): consecutive steps of 8 weights of one block a lane
   * takes, the block's scales decoded once for them (1, 2, 4 or 8; capped at a block's steps, and per matrix where
   * a row would leave lanes without a run: laneRun). Longer runs spend less arithmetic on
   * K-quants' scales; bench:device's 'laneSteps 1' variant measures them against one step.
   */
  laneSteps: number;
  /**
   * Q4_0, Q8_0 and Q6_K matrices repacked at load into their aligned layouts (src/gpu/aligned-weights.ts: groups of
   * 8 blocks, the scales in one 16-byte word, each block's other bytes in whole 16-byte words), so kernels read them
   * as aligned words (Q4_0's and Q8_0's quants as vec4s) where the file's 18-, 34- and 210-byte blocks need unaligned
   * reads. The same values, summed in the same order: outputs are unchanged. The GPU profile's; bench:device's
   * 'alignedWeights false' variant measures it on a GPU. The software profile keeps the file's layout for now,
   * although lavapipe reads Q8_0 and Q6_K faster aligned (README): switching it recompiles every Q4_0/Q8_0/Q6_K
   * pipeline its tests build, which CI's shader cache would pay for in one run.
   */
  alignedWeights: boolean;
  /** Each RMSNorm fused into the products that read its output (common/rms.wgsl): the same activations bit for bit. */
  fuseNorm: boolean;
  /** Prompt tokens a prefill pass asks for (prefillBatch in memory.ts lowers it where a model's scores would not fit). */
  prefillBatch: number;
  /**
   * Argmax and the sampler's full-vocabulary passes: 'wide' over many workgroups (argmax.wgsl's partials + finish,
   * sample-wide.wgsl) or 'single', one workgroup each.
   */
  sampling: 'wide' | 'single';
}

/**
 * What a profile assumes the slowest device of its kind sustains in a prefill pass (f32-equivalent multiply-adds × 2
 * per second, weight and cache bytes read per second): TransformerModel cuts each pass into submits from it
 * (src/model/submit-plan.ts). Set low on purpose: a faster device only finishes each submit sooner.
 */
export interface Throughput { flopsPerSecond: number; bytesPerSecond: number }

/** What a load may override of a profile: its kernel choices and the throughput its submits are cut for. */
interface ProfileChoices extends KernelChoices {
  throughput: Throughput;
}

/**
 * A low-end integrated GPU (a few hundred GFLOP/s of f32 at its peak, memory shared with the CPU): a 0.5 s submit
 * planned for it stays well inside the 2 s after which Windows resets a GPU.
 */
export const SLOW_GPU: Throughput = { flopsPerSecond: 2e11, bytesPerSecond: 2e10 };
/** Shaders compiled for two CPU cores (SwiftShader in a browser is the slower of the software adapters). */
export const SLOW_CPU_ADAPTER: Throughput = { flopsPerSecond: 2e9, bytesPerSecond: 4e9 };

export interface AdapterProfile extends ProfileChoices {
  name: ProfileName;
  /**
   * What precision 'auto' resolves to for a model without q4_0/q8_0 matrices (`float`) and with them (`quantized`):
   * whether such a model runs on 8-bit activations ('q8') by default is `quantized` alone.
   */
  precision: { float: ModelPrecision; quantized: ModelPrecision };
  /** What kvCache 'auto' resolves to. */
  kvCache: KvCacheType;
}

/** What engine.model and `hearth inspect` report of a profile: its name and kernel choices. */
export type ProfileReport = Omit<AdapterProfile, 'precision' | 'throughput' | 'kvCache'>;

export function profileReport({ name, matvec, laneSteps, alignedWeights, attention, matmul, fuseNorm, prefillBatch, sampling }: AdapterProfile): ProfileReport {
  return { name, matvec, laneSteps, alignedWeights, attention, matmul, fuseNorm, prefillBatch, sampling };
}

/**
 * How a load picks its profile: 'auto' (default) from the adapter's traits, a profile by name on any adapter, or
 * one with some kernel choices overridden (`base`: 'auto' unless given).
 */
export type ProfileOption = 'auto' | ProfileName | (Partial<ProfileChoices> & { base?: 'auto' | ProfileName });

/** The profile for `traits`, or the one `option` asks for on it; an impossible or malformed request is an InvalidRequestError. */
export function chooseProfile(traits: AdapterTraits, option: ProfileOption = 'auto'): AdapterProfile {
  const { base = 'auto', ...overrides } = typeof option === 'string' ? { base: option } : checkOverrides(option);
  if (!PROFILE_NAMES.includes(base) && base !== 'auto') {
    throw new InvalidRequestError(`profile must be 'auto', 'gpu', 'software' or an object of kernel choices, got ${JSON.stringify(base)}`);
  }
  const name = base === 'auto' ? (isSoftwareAdapter(traits) ? 'software' : 'gpu') : base;
  const profile = { ...(name === 'gpu' ? gpuProfile(traits) : softwareProfile(traits)), ...overrides };
  if (profile.matvec === 'subgroup' && !traits.subgroups) {
    throw new InvalidRequestError(`matvec 'subgroup' needs the WebGPU feature 'subgroups', which ${traits.name} lacks; leave profile.matvec unset or use 'workgroup'.`);
  }
  if (profile.matmul === 'tiled' && !fitsTiledMatmul(traits)) {
    throw new InvalidRequestError(`matmul 'tiled' needs ${TILED_MATMUL.workgroupBytes} bytes of workgroup memory and ${TILED_MATMUL.invocations} invocations per workgroup; ${traits.name} has ${traits.limits.maxComputeWorkgroupStorageSize} and ${traits.limits.maxComputeInvocationsPerWorkgroup}. Leave profile.matmul unset.`);
  }
  return profile;
}

function fitsTiledMatmul({ limits }: AdapterTraits): boolean {
  return limits.maxComputeWorkgroupStorageSize >= TILED_MATMUL.workgroupBytes && limits.maxComputeInvocationsPerWorkgroup >= TILED_MATMUL.invocations
    && limits.maxComputeWorkgroupSizeX >= 16;
}

/**
 * The design: coalesced one-token products (reduced with subgroup operations where the adapter has them, else
 * through workgroup memory), flash attention, tiled prefill products in batches of GPU_PREFILL_BATCH where the
 * device's workgroups are large enough, wide argmax and sampling, fused norms, f16 arithmetic and an f16 KV cache
 * (half the cache's memory and attention's reads) where it can. Precision 'q8' (asked for) runs on lane kernels too;
 * 'auto' keeps q4_0/q8_0 models on float arithmetic until a GPU measurement shows 'q8' faster (bench:device's
 * 'q8' variant): that choice is `precision.quantized` below.
 */
function gpuProfile(traits: AdapterTraits): AdapterProfile {
  const float = traits.shaderF16 ? 'f16' : 'f32';
  const tiled = fitsTiledMatmul(traits);
  return {
    name: 'gpu', precision: { float, quantized: float }, kvCache: traits.shaderF16 ? 'f16' : 'f32',
    matvec: traits.subgroups ? 'subgroup' : 'workgroup', laneSteps: GPU_LANE_STEPS, alignedWeights: true, attention: 'flash', matmul: tiled ? 'tiled' : 'rows', fuseNorm: true,
    prefillBatch: tiled ? GPU_PREFILL_BATCH : PREFILL_BATCH, sampling: 'wide', throughput: SLOW_GPU,
  };
}

/**
 * Shaders on the CPU: f32 (f16 arithmetic is emulated there) and an f32 KV cache (its memory matters less than on a
 * GPU, and the reference outputs stay as they are), q8 for q4_0/q8_0 models (llama.cpp's CPU arithmetic), a thread
 * per rows, a workgroup per head, and each norm its own dispatch.
 */
function softwareProfile(traits: AdapterTraits): AdapterProfile {
  return {
    name: 'software', precision: { float: 'f32', quantized: traits.packedIntegerDot !== false ? 'q8' : 'f32' }, kvCache: 'f32',
    matvec: 'rows', laneSteps: 1, alignedWeights: false, attention: 'whole', matmul: 'rows', fuseNorm: false, prefillBatch: PREFILL_BATCH, sampling: 'single',
    throughput: SLOW_CPU_ADAPTER,
  };
}

const CHOICES: Record<keyof ProfileChoices | 'base', (v: unknown) => boolean> = {
  base: (v) => v === 'auto' || PROFILE_NAMES.includes(v as string),
  matvec: (v) => MATVEC_KERNELS.includes(v as string),
  laneSteps: (v) => v === 1 || v === 2 || v === 4 || v === 8,
  alignedWeights: (v) => typeof v === 'boolean',
  attention: (v) => v === 'flash' || v === 'split' || v === 'whole',
  matmul: (v) => v === 'tiled' || v === 'rows',
  fuseNorm: (v) => typeof v === 'boolean',
  prefillBatch: (v) => Number.isInteger(v) && (v as number) > 0,
  sampling: (v) => v === 'wide' || v === 'single',
  throughput: (v) => typeof v === 'object' && v !== null && Object.keys(v).length === 2
    && ['flopsPerSecond', 'bytesPerSecond'].every((k) => { const x = (v as Record<string, unknown>)[k]; return typeof x === 'number' && x > 0 && Number.isFinite(x); }),
};
const EXPECTED: Record<keyof typeof CHOICES, string> = {
  base: "'auto', 'gpu' or 'software'", matvec: "'subgroup', 'workgroup' or 'rows'", laneSteps: '1, 2, 4 or 8', alignedWeights: 'true or false', attention: "'flash', 'split' or 'whole'", matmul: "'tiled' or 'rows'",
  fuseNorm: 'true or false', prefillBatch: 'a positive integer', sampling: "'wide' or 'single'",
  throughput: '{ flopsPerSecond, bytesPerSecond } (positive numbers)',
};

function checkOverrides(option: unknown): Partial<ProfileChoices> & { base?: 'auto' | ProfileName } {
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new InvalidRequestError(`profile must be 'auto', 'gpu', 'software' or an object of kernel choices, got ${JSON.stringify(option)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(option)) {
    if (value === undefined) continue;
    const valid = CHOICES[key as keyof typeof CHOICES];
    if (!valid) throw new InvalidRequestError(`profile.${key} is not a kernel choice; known: ${Object.keys(CHOICES).join(', ')}`);
    if (!valid(value)) throw new InvalidRequestError(`profile.${key} must be ${EXPECTED[key as keyof typeof CHOICES]}, got ${JSON.stringify(value)}`);
    out[key] = value;
  }
  return out;
}

/** What a caller may ask for: 'auto' (the profile's default for the model's weights) or a ModelPrecision. */
export type PrecisionOption = 'auto' | ModelPrecision;
const PRECISION_OPTIONS: readonly string[] = ['auto', 'f16', 'f32', 'q8'];

/**
 * The arithmetic of the weight kernels for a request, chosen once at load. `q8Matrices`: whether the model multiplies
 * q4_0/q8_0 matrices (modelHasQ8Matrices; unknown, false, before its header is read). 'f16' without 'shader-f16', or
 * 'q8' without WGSL's packed integer dot product, is a ResourceError.
 */
export function choosePrecision(requested: PrecisionOption | undefined, traits: AdapterTraits, profile: AdapterProfile, q8Matrices = false): ModelPrecision {
  const option = requested ?? 'auto';
  if (!PRECISION_OPTIONS.includes(option)) {
    throw new InvalidRequestError(`precision must be 'auto', 'f16', 'f32' or 'q8', got ${JSON.stringify(option)}`);
  }
  if (option === 'auto') return q8Matrices ? profile.precision.quantized : profile.precision.float;
  if (option === 'q8' && traits.packedIntegerDot === false) {
    throw new ResourceError("precision 'q8' needs WGSL's packed_4x8_integer_dot_product (dot4I8Packed), which this browser's WebGPU lacks (Chrome and Edge have it from version 123). Update the browser, or use precision 'auto'.");
  }
  if (option === 'f16' && !traits.shaderF16) {
    throw new ResourceError(`precision 'f16' needs the WebGPU feature 'shader-f16', which ${traits.name} does not have. Use precision 'auto' (f16 where available, f32 elsewhere) or 'f32'.`);
  }
  return option;
}

/** What a caller may ask for of the KV cache: 'auto' (the profile's: f16 on GPUs with 'shader-f16', else f32) or a type. */
export type KvCacheOption = 'auto' | KvCacheType;
const KV_CACHE_OPTIONS: readonly string[] = ['auto', 'f16', 'f32'];

/** The KV cache's element type for a request, chosen once at load; 'f16' without 'shader-f16' is a ResourceError. */
export function chooseKvCache(requested: KvCacheOption | undefined, traits: AdapterTraits, profile: AdapterProfile): KvCacheType {
  const option = requested ?? 'auto';
  if (!KV_CACHE_OPTIONS.includes(option)) {
    throw new InvalidRequestError(`kvCache must be 'auto', 'f16' or 'f32', got ${JSON.stringify(option)}`);
  }
  if (option === 'auto') return profile.kvCache;
  if (option === 'f16' && !traits.shaderF16) {
    throw new ResourceError(`kvCache 'f16' needs the WebGPU feature 'shader-f16', which ${traits.name} does not have. Use kvCache 'auto' (f16 where available, f32 elsewhere) or 'f32'.`);
  }
  return option;
}
