// One complete run of the kernel cases on a fresh device, as plain data that survives postMessage
// and page.evaluate. Shared by the page and the Worker.
import { acquireDevice } from '../../src/gpu/device';
import { runKernelCases, type KernelCaseResult } from '../kernels/cases';

export type KernelRun =
  | { ok: true; adapter: string; results: KernelCaseResult[] }
  | { ok: false; error: string };

export async function runKernelCasesOnFreshDevice(): Promise<KernelRun> {
  try {
    const { device, adapterInfo } = await acquireDevice();
    try {
      const results = await runKernelCases(device);
      return { ok: true, adapter: `${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}`.trim(), results };
    } finally {
      device.destroy();
    }
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) };
  }
}
