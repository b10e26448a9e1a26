// Adapters described as plain traits (what src/gpu/profile.ts reads of a real one), for the profile and precision
// choices on hardware this machine does not have.
import type { AdapterTraits } from '../../src/gpu/profile';

/** An adapter with WebGPU's default limits and no optional features, changed by `traits`. */
export function fakeAdapter(traits: Partial<AdapterTraits>): AdapterTraits {
  const { vendor = '', architecture = '', description = '' } = traits;
  return {
    name: description || `${vendor} ${architecture}`.trim() || 'fake adapter', vendor, architecture, description,
    isFallbackAdapter: false, shaderF16: false, subgroups: false, packedIntegerDot: true,
    limits: {
      maxBufferSize: 256 << 20, maxStorageBufferBindingSize: 128 << 20, maxStorageBuffersPerShaderStage: 8,
      maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256,
    },
    ...traits,
  };
}

/** The compute limits desktop GPUs (and both software adapters here) report beyond WebGPU's defaults. */
const largeWorkgroups = (traits: Partial<AdapterTraits>): Partial<AdapterTraits> => ({
  ...traits, limits: { ...fakeAdapter({}).limits, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 },
});

/** As the adapters report themselves (vendor, architecture, description, features, compute limits). */
export const ADAPTERS = {
  h200: fakeAdapter(largeWorkgroups({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', shaderF16: true, subgroups: true })),
  appleM2: fakeAdapter(largeWorkgroups({ vendor: 'apple', architecture: 'metal-3', shaderF16: true, subgroups: true })),
  /** A GPU without 'shader-f16' or 'subgroups', with WebGPU's default limits (too small for matmul-tiled.wgsl). */
  intelGen9: fakeAdapter({ vendor: 'intel', architecture: 'gen-9' }),
  /** Chromium's, as its adapter reports it here: no shader-f16. */
  swiftshader: fakeAdapter({
    vendor: 'google', architecture: 'swiftshader', subgroups: true,
    limits: { ...fakeAdapter({}).limits, maxComputeWorkgroupStorageSize: 32768 },
  }),
  lavapipe: fakeAdapter(largeWorkgroups({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe (LLVM 15.0.6, 256 bits)', shaderF16: true, subgroups: true })),
  /** Windows' software rasterizer, known only as a fallback adapter. */
  warp: fakeAdapter({ vendor: 'microsoft', architecture: 'warp', isFallbackAdapter: true }),
} satisfies Record<string, AdapterTraits>;
