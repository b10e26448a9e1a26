// One complete run of the kernel cases on a fresh device, as plain data that survives postMessage
// and page.evaluate. Shared by the page and the Worker.
import { acquireDevice } from '../../src/gpu/device';
import { chooseProfile, choosePrecision, type ProfileName } from '../../src/gpu/profile';
import type { ModelPrecision } from '../../src/gpu/shaders';
import { runKernelCases, type KernelCaseResult } from '../kernels/cases';
import { seedFromString } from '../helpers/seeded';
import { weightDTypes, weightLayouts, type WeightDType } from '../../src/gpu/quant-types';
import { kernelCases } from '../kernels/cases';

const BLOCK_FAMILY: Record<number, string> = { 1: 'elements', 32: 'blocks', 256: 'super-blocks' };

/**
 * What a case tests, sizes aside: its name without the numbers (rows, columns, tokens, positions, heads). Every
 * weight type has its plain product cases in each kernel; beyond those, a weight type counts by its block size
 * (1, 32 or 256 elements) in the fused cases (norm, stacked q/k/v, gated FFN) and in every tiled-product case,
 * whose own code depends on that alone, and not at all in the epilogue cases (residual add, bias, rope, cache
 * write), which act on the finished sums. The cases of main_qkv on a matrix of some of q, k and v (its stacks
 * cases: a layer of mixed types) are one shape in the one-token form and one batched, whatever the kernel, type,
 * layout or rope: they change only which output a row goes to, products.wgsl's code that every kernel shares (the
 * kernels' own row grouping and rope pairs are the whole-stack cases'). The cases of main_qkv_mixed (two weight
 * types in one module) are one shape: the first runs (on matvec-workgroup, which SwiftShader has); so are the lane
 * kernels' runs of several steps (LANE_STEPS), whose loop is the same code for every weight type.
 */
export function caseShape(name: string): string {
  if (name.includes(' main_qkv_mixed ')) return 'main_qkv_mixed';
  if (name.includes(' (runs of ')) return 'lane runs';
  if (name.includes(' main_qkv stacks ')) return `main_qkv stacks${name.includes(' tokens=') ? ' tokens=#' : ''}`;
  const [kernel, dtype] = name.split(' ') as [string, string];
  let typed = name;
  if ((weightDTypes as string[]).includes(dtype)) {
    const family = BLOCK_FAMILY[weightLayouts[dtype as WeightDType].blockElements]!;
    if (/and (the unfused dispatches|main \+ add\.wgsl) bit for bit/.test(name)) typed = name.replace(` ${dtype} `, ' ');
    else if (/, and .* bit for bit\)/.test(name) || kernel === 'matmul-tiled') typed = name.replace(` ${dtype} `, ` ${family} `);
  }
  return typed.replace(/\(vs [^)]*\)/, '').replace(/\d+(\.\d+)?([x+]\d+)*/g, '#').replace(/\s+/g, ' ').trim();
}

/**
 * The cases Chromium runs: the first of each shape (caseShape), so every kernel, entry point, epilogue, option and
 * weight type runs there at least once; Node runs them all. Chromium's GPU process compiles pipelines on one thread,
 * and the big kernels take seconds each on SwiftShader: the sizes of one shape add compile time, not coverage.
 */
export function chromiumCases(): Set<string> {
  const shapes = new Set<string>();
  const chosen = new Set<string>();
  for (const { name } of kernelCases()) {
    const shape = caseShape(name);
    if (!shapes.has(shape)) { shapes.add(shape); chosen.add(name); }
  }
  return chosen;
}

/** Of chromiumCases, the ones the Worker runs (a quarter, by a hash of the name); the page runs the rest. */
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
