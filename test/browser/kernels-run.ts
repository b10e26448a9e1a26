// One complete run of the kernel cases on a fresh device, as plain data that survives postMessage
// and page.evaluate. Shared by the page and the Worker.
import { acquireDevice, choosePrecision } from '../../src/gpu/device';
import type { ModelPrecision } from '../../src/gpu/shaders';
import { runKernelCases, type KernelCaseResult } from '../kernels/cases';

export type KernelRun =
  | { ok: true; adapter: string; shaderF16: boolean; autoPrecision: ModelPrecision; results: KernelCaseResult[] }
  | { ok: false; error: string };

export async function runKernelCasesOnFreshDevice(): Promise<KernelRun> {
  try {
    const gpu = await acquireDevice();
    const { device, adapterInfo } = gpu;
    try {
      const results = await runKernelCases(device);
      const adapter = `${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}`.trim();
      return { ok: true, adapter, shaderF16: device.features.has('shader-f16'), autoPrecision: choosePrecision('auto', gpu), results };
    } finally {
      device.destroy();
    }
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) };
  }
}
