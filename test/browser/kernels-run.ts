// One complete run of the kernel cases on a fresh device, as plain data that survives postMessage
// and page.evaluate. Shared by the page and the Worker.
import { acquireDevice } from '../../src/gpu/device';
import { chooseProfile, choosePrecision, type ProfileName } from '../../src/gpu/profile';
import type { ModelPrecision } from '../../src/gpu/shaders';
import { runKernelCases, type KernelCaseResult } from '../kernels/cases';
import { seedFromString } from '../helpers/seeded';

/** The cases the Worker runs (a quarter, by a hash of the name); the page runs the rest. */
export const inWorker = (name: string): boolean => seedFromString(name) % 4 === 0;

export type KernelRun =
  | { ok: true; adapter: string; shaderF16: boolean; profile: ProfileName; autoPrecision: ModelPrecision; results: KernelCaseResult[] }
  | { ok: false; error: string };

/** `filter`: which cases to run, by name (default all). */
export async function runKernelCasesOnFreshDevice(filter?: (name: string) => boolean): Promise<KernelRun> {
  try {
    const gpu = await acquireDevice();
    const { device, adapter } = gpu;
    try {
      const results = await runKernelCases(device, filter);
      const profile = chooseProfile(adapter);
      const name = `${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim();
      return { ok: true, adapter: name, shaderF16: device.features.has('shader-f16'), profile: profile.name, autoPrecision: choosePrecision('auto', adapter, profile), results };
    } finally {
      device.destroy();
    }
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) };
  }
}
