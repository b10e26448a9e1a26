// Acquiring a GPUDevice: navigator.gpu in browsers and workers, Dawn (npm `webgpu`) in Node.
import { ResourceError } from '../errors';

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
    const dawn = (await import(/* @vite-ignore */ moduleName)) as { create(flags: string[]): GPU; globals: object };
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
}

/** Requests the adapter's full buffer limits: the defaults (128/256 MiB) are too small for real models. */
export async function acquireDevice(): Promise<AcquiredDevice> {
  const gpu = await getGPU();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new ResourceError('No WebGPU adapter was found. In Chrome, check chrome://gpu; on Linux start Chrome with --enable-unsafe-webgpu (and --enable-features=Vulkan), or update your graphics driver.');
  }
  const hasShaderF16 = adapter.features.has('shader-f16');
  const requiredFeatures: GPUFeatureName[] = hasShaderF16 ? ['shader-f16'] : [];
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
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  return {
    device,
    hasShaderF16,
    adapterInfo: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      description: info?.description ?? '',
      isFallbackAdapter: (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? false,
    },
  };
}
