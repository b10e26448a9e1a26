// Acquiring a GPUDevice: navigator.gpu in browsers and workers, Dawn (npm `webgpu`) in Node.
import { InvalidRequestError, ResourceError } from '../errors';
import type { ModelPrecision } from './shaders';

/** Keeps Dawn's GPU object alive for the life of the process: if it is collected while a device lives, Dawn crashes. */
let nodeGPU: GPU | undefined;

async function getGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) {
    throw new ResourceError('WebGPU is not available in this browser. Use a recent Chrome or Edge (113+), or Firefox/Safari with WebGPU enabled, and load the page over https or from localhost.');
  }
  if (!nodeGPU) {
    // A variable specifier keeps bundlers from pulling the Node-only package into browser builds.
    const moduleName = 'webgpu';
    const dawn = (await import(/* @vite-ignore */ moduleName).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || !String((e as Error).message).includes(`'${moduleName}'`)) throw e;
      throw new ResourceError("Hearth in Node runs on WebGPU through the 'webgpu' package (Dawn), which is not installed: run `npm install webgpu` in your project.");
    })) as { create(flags: string[]): GPU; globals: object };
    Object.assign(globalThis, dawn.globals);
    nodeGPU = dawn.create([]);
  }
  return nodeGPU;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapterInfo: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean };
  /** True when kernels may declare `enable f16;`. */
  hasShaderF16: boolean;
  /**
   * True when kernels may declare `enable subgroups;` (subgroupAdd etc.: matvec-subgroup.wgsl). acquireDevice always
   * sets it; absent (devices made elsewhere, e.g. the bench's) means false.
   */
  hasSubgroups?: boolean;
  /**
   * Whether WGSL has `dot4I8Packed` (the language feature packed_4x8_integer_dot_product, Chrome 123+), which
   * precision 'q8' needs; undefined where the GPU object does not list its language features.
   */
  packedIntegerDot?: boolean;
}

/**
 * What a caller may ask for: 'auto' = on CPU adapters q8 for models with q4_0/q8_0 matrices, else f32; on GPUs f16
 * arithmetic where the device has 'shader-f16', else f32; or a ModelPrecision.
 */
export type PrecisionOption = 'auto' | ModelPrecision;
const precisionOptions: readonly string[] = ['auto', 'f16', 'f32', 'q8'];

/** What the precision choice needs to know of an adapter (an AcquiredDevice or an AdapterProbe). */
export interface PrecisionTraits {
  /** Its name, for error messages. */
  adapter: string;
  hasShaderF16: boolean;
  /** As AcquiredDevice.packedIntegerDot. */
  packedIntegerDot?: boolean;
  /** runsOnCpu. */
  onCpu: boolean;
}

/**
 * The arithmetic of the weight kernels for a request, chosen once at load (see precisionFor). `q8Matrices`:
 * whether the model multiplies q4_0/q8_0 matrices (modelHasQ8Matrices); unknown before its header is read.
 */
export function choosePrecision(requested: PrecisionOption | undefined, gpu: Pick<AcquiredDevice, 'device' | 'adapterInfo' | 'packedIntegerDot'>, q8Matrices = false): ModelPrecision {
  return precisionFor(requested, precisionTraits(gpu), q8Matrices);
}

function precisionTraits(gpu: Pick<AcquiredDevice, 'device' | 'adapterInfo' | 'packedIntegerDot'>): PrecisionTraits {
  return {
    adapter: gpu.adapterInfo.description || gpu.adapterInfo.vendor || 'this WebGPU adapter',
    hasShaderF16: gpu.device.features.has('shader-f16'),
    packedIntegerDot: gpu.packedIntegerDot,
    onCpu: runsOnCpu(gpu.adapterInfo),
  };
}

/**
 * 'auto' (the default): on CPU adapters 'q8' when the model has q4_0/q8_0 matrices (llama.cpp's CPU arithmetic:
 * 1.7–2.4× faster decode there than float arithmetic), else f32 (lavapipe emulates f16 arithmetic: an F16 model
 * decoded 1.4× and prefilled 1.6× faster in f32); on GPUs f16 where the adapter has 'shader-f16', else f32.
 * 'f16' without 'shader-f16', or 'q8' without WGSL's packed integer dot product, is a ResourceError.
 */
export function precisionFor(requested: PrecisionOption | undefined, traits: PrecisionTraits, q8Matrices = false): ModelPrecision {
  const option = requested ?? 'auto';
  if (!precisionOptions.includes(option)) {
    throw new InvalidRequestError(`precision must be 'auto', 'f16', 'f32' or 'q8', got ${JSON.stringify(option)}`);
  }
  const { adapter, hasShaderF16, packedIntegerDot = true, onCpu } = traits;
  if (option === 'auto') {
    if (onCpu) return q8Matrices && packedIntegerDot ? 'q8' : 'f32';
    return hasShaderF16 ? 'f16' : 'f32';
  }
  if (option === 'q8' && !packedIntegerDot) {
    throw new ResourceError("precision 'q8' needs WGSL's packed_4x8_integer_dot_product (dot4I8Packed), which this browser's WebGPU lacks (Chrome and Edge have it from version 123). Update the browser, or use precision 'auto'.");
  }
  if (option === 'f16' && !hasShaderF16) {
    throw new ResourceError(`precision 'f16' needs the WebGPU feature 'shader-f16', which ${adapter} does not have. Use precision 'auto' (f16 where available, f32 elsewhere) or 'f32'.`);
  }
  return option;
}

/**
 * Whether the adapter runs shaders on the CPU (SwiftShader, lavapipe/llvmpipe, or any fallback adapter): there a
 * workgroup per head already keeps every core busy, and split-K attention's extra workgroups only cost.
 */
export function runsOnCpu(info: AcquiredDevice['adapterInfo']): boolean {
  return info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description}`);
}

export interface AdapterProbe extends PrecisionTraits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/**
 * The adapter createEngine would get, without creating a device (for `hearth inspect`): its name and whether
 * it has 'shader-f16'; null where there is no WebGPU.
 */
export async function probeAdapter(): Promise<AdapterProbe | null> {
  try {
    const gpu = await getGPU();
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return null;
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    return {
      adapter: info?.description || info?.vendor || 'unknown adapter',
      hasShaderF16: adapter.features.has('shader-f16'),
      packedIntegerDot: gpu.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product'),
      onCpu: runsOnCpu(adapterInfoOf(adapter)),
      // What acquireDevice will request: the adapter's own limits.
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    };
  } catch {
    return null;
  }
}

/** Requests the adapter's full buffer limits: the defaults (128/256 MiB) are too small for real models. */
export async function acquireDevice(): Promise<AcquiredDevice> {
  const gpu = await getGPU();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new ResourceError(noAdapterMessage(gpu === nodeGPU));
  const hasShaderF16 = adapter.features.has('shader-f16');
  const hasSubgroups = adapter.features.has('subgroups');
  const requiredFeatures: GPUFeatureName[] = [];
  if (hasShaderF16) requiredFeatures.push('shader-f16');
  if (hasSubgroups) requiredFeatures.push('subgroups');
  const device = await adapter.requestDevice({
    label: 'hearth',
    requiredFeatures,
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    },
  });
  return {
    device,
    hasShaderF16,
    hasSubgroups,
    packedIntegerDot: gpu.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product'), // absent in older implementations
    adapterInfo: adapterInfoOf(adapter),
  };
}

/** Why there is no adapter and how to get one, for where Hearth runs: a browser, or Node on Dawn. */
function noAdapterMessage(dawn: boolean): string {
  if (!dawn) {
    return 'No WebGPU adapter was found. In Chrome, check chrome://gpu; on Linux start Chrome with --enable-unsafe-webgpu (and --enable-features=Vulkan), or update your graphics driver.';
  }
  // The Vulkan loader reads only the drivers these name, where set: a stale value hides every installed one.
  const chosen = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  return 'No WebGPU adapter was found. In Node, Hearth runs on Dawn (the `webgpu` package), which needs Metal on macOS, '
    + 'D3D12 on Windows and a Vulkan driver on Linux; without a GPU that is Mesa\'s lavapipe (Debian: mesa-vulkan-drivers >= 24, '
    + 'from bookworm-backports on Debian 12, and libvulkan1; in a Hearth checkout, `sudo bash scripts/setup-webgpu.sh` installs them).'
    + (chosen.length ? ` ${chosen.join(' and ')} limits the Vulkan loader to those drivers: unset it or name an installed one.` : '');
}

/** The adapter's info, with empty strings where an implementation leaves fields out. */
function adapterInfoOf(adapter: GPUAdapter): AcquiredDevice['adapterInfo'] {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? false,
  };
}
