// Acquiring a GPUDevice: navigator.gpu in browsers and workers, Dawn (npm `webgpu`) in Node.
import { ResourceError } from '../errors';
import { readAdapterTraits, type AdapterTraits } from './profile';

export type { PrecisionOption } from './profile';

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
  /** What the adapter is and has, read once (profile.ts): the device has its 'shader-f16' and 'subgroups' where it does. */
  adapter: AdapterTraits;
}

/**
 * The adapter acquireDevice would get, without creating a device (for `hearth inspect` and checkModel); null where
 * there is no WebGPU.
 */
export async function probeAdapter(): Promise<AdapterTraits | null> {
  try {
    const gpu = await getGPU();
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    return adapter ? readAdapterTraits(gpu, adapter) : null;
  } catch {
    return null;
  }
}

/**
 * A device with the adapter's full limits (DEVICE_LIMITS) and its 'shader-f16' and 'subgroups' where it has them;
 * `extraFeatures` (the bench's 'timestamp-query') are requested where the adapter has them.
 */
export async function acquireDevice(options: { label?: string; extraFeatures?: GPUFeatureName[] } = {}): Promise<AcquiredDevice> {
  const gpu = await getGPU();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new ResourceError(noAdapterMessage(gpu === nodeGPU));
  const traits = readAdapterTraits(gpu, adapter);
  const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', ...(options.extraFeatures ?? [])];
  const device = await adapter.requestDevice({
    label: options.label ?? 'hearth',
    requiredFeatures: wanted.filter((f) => adapter.features.has(f)),
    requiredLimits: traits.limits,
  });
  return { device, adapter: traits };
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
