// The GPU matvecs whose 64 lanes share four rows (common/matvec-lanes.wgsl): matvec-subgroup.wgsl (reduced with
// subgroupAdd) and matvec-workgroup.wgsl (reduced through workgroup memory), against the same CPU twin as
// matvec.wgsl, for every weight dtype, in f32 and f16 arithmetic. matvec-subgroup needs the device feature
// 'subgroups'; runKernelCases reports its cases as not applicable where it is missing. The f16-arithmetic cases
// need 'shader-f16' as well, and a case names one feature: they name 'shader-f16' (so that adapters without it
// report them as not applicable for that reason, as every "f16-math" case is) and the subgroup ones check
// 'subgroups' when they run, failing with a message that says so on an adapter with f16 but no subgroups (none of
// those this project tests on).
// Shapes: row counts that are not a multiple of the 4 rows per workgroup (the last workgroup re-reads the last row
// and must not write past it), ROWS = 1, rows shorter than one step per lane (most lanes idle) and long rows (each
// lane walks many steps; with f16 arithmetic many carries), f32 rows of odd length and f16/bf16 rows ending in
// 2–6 elements (the tail read one element per lane), a large grid, and 2-D grids: a 262148-row head (65537
// workgroups, past the 65535 a dimension allows; one kernel, as the entry points are shared) and small products
// laid out under a lowered per-dimension limit (whole workgroups past the rows), for matvec.wgsl too.
import { workgroupGrid, workgroups } from '../../src/gpu/kernels';
import type { KernelCache } from '../../src/gpu/kernels';
import type { KernelName, WeightDType } from '../../src/gpu/shaders';
import { alignedDTypes, weightDTypes, weightLayouts } from '../../src/gpu/quant-types';
import { matvecRef } from '../reference/kernels';
import { randomFloats, type Rng } from '../helpers/seeded';
import { testWeights, weights } from './test-weights';
import { productBindings, runKernel, storage, type Tolerance } from './harness';

export interface LaneCase {
  name: string;
  tol: Tolerance;
  /** The device feature the case needs. */
  feature?: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

type LaneKernel = 'matvec-subgroup' | 'matvec-workgroup';
const LANE_KERNELS = ['matvec-subgroup', 'matvec-workgroup'] as const satisfies readonly LaneKernel[];

/** Rows per workgroup: 4 for the lane kernels (ROWS_PER_WORKGROUP), 64 for matvec.wgsl (16 threads of four rows). */
const rowsPerWorkgroup = (kernel: KernelName) => (kernel === 'matvec' ? 64 : 4);

/** f16's unit roundoff. */
const U = 2 ** -11;

// As matvec's: f32 sums get an atol growing like sqrt(terms); f16 arithmetic (each lane's products summed in f16 over
// 4 of its steps, then carried into f32) as f16-cases.ts's matvec tolerance.
const TOL = {
  f32: (cols: number): Tolerance => ({ atol: 1e-6 * Math.sqrt(cols), rtol: 1e-5 }),
  f16: (cols: number): Tolerance => ({ atol: 3 * U * Math.sqrt(cols), rtol: U }),
};

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

/**
 * W x on `kernel`; `gridLimit`: the per-dimension limit its grid is laid out under (workgroupGrid, as the model's
 * Dispatcher lays it out), the device's by default.
 */
function laneCase(kernel: KernelName, dtype: WeightDType, rows: number, cols: number, precision: 'f32' | 'f16' = 'f32', gridLimit?: number, laneSteps?: number): LaneCase {
  const f16 = precision === 'f16';
  const subgroup = kernel === 'matvec-subgroup';
  const runs = laneSteps ? ` (runs of ${laneSteps} steps)` : '';
  return {
    name: `${kernel} ${dtype}${f16 ? ' f16-math' : ''} ${rows}x${cols}${gridLimit ? ` (2-D grid, ${gridLimit} per dimension)` : ''}${runs}`,
    tol: f16 ? TOL.f16(cols) : TOL.f32(cols),
    feature: f16 ? 'shader-f16' : subgroup ? 'subgroups' : undefined,
    async run(device, cache, rng) {
      if (subgroup && !device.features.has('subgroups')) throw new Error("matvec-subgroup needs the device feature 'subgroups' too, which this adapter lacks");
      const w = weights(testWeights(rng, rows * cols, dtype), dtype);
      const x = randomFloats(rng, cols);
      const out = storage(device, rows * 4);
      const grid = workgroupGrid(workgroups(rows, rowsPerWorkgroup(kernel)), gridLimit ?? device.limits.maxComputeWorkgroupsPerDimension);
      if (gridLimit && grid[1] < 2) throw new Error(`the case means a 2-D grid, got ${grid.join(' × ')}`);
      const got = await runKernel(device, cache, kernel, { dtype, precision, constants: { ROWS: rows, COLS: cols, ...(laneSteps ? { LANE_STEPS: laneSteps } : {}) } },
        productBindings(storage(device, w.data), storage(device, x), out), grid, out, rows * 4);
      return { got: f32(got), want: matvecRef(w.seen, x, rows, cols) };
    },
  };
}

function kernelCases(kernel: LaneKernel): LaneCase[] {
  const cases: LaneCase[] = [];
  const c = (dtype: WeightDType, rows: number, cols: number, precision?: 'f32' | 'f16') => laneCase(kernel, dtype, rows, cols, precision);
  for (const dtype of weightDTypes) {
    const block = Math.max(32, weightLayouts[dtype].blockElements);
    // 257 rows: the last workgroup has one real row; rows of an odd number of blocks put every other row of the
    // 34/18/22/210-byte types at a half-word offset. 6 rows: two workgroups, the second half empty.
    cases.push(c(dtype, 257, 3 * block), c(dtype, 6, 2 * block), c(dtype, 257, 3 * block, 'f16'));
  }
  // The aligned layouts (src/gpu/aligned-weights.ts), whose last group of 257 × 3 blocks is partial.
  for (const dtype of alignedDTypes) cases.push(c(dtype, 257, 3 * weightLayouts[dtype].blockElements), c(dtype, 257, 3 * weightLayouts[dtype].blockElements, 'f16'));
  cases.push(
    c('f32', 1, 1), c('f32', 1, 7), c('q4_k', 1, 256), c('q8_0', 1, 32),
    c('f32', 70, 7), c('f32', 5, 1), c('f32', 33, 33), c('f32', 3, 1001),
    c('f32', 9, 519), // 64 full steps + a tail of 7: lanes 0–6 take a second turn
    c('f16', 10, 6), c('f16', 64, 172), c('bf16', 100, 172),
    c('q4_0', 64, 4096), c('f32', 64, 4096), c('f32', 11, 4099),
    c('q6_k', 7, 8192), c('q8_0', 1000, 288), c('q4_0', 20001, 64),
    c('f32', 70, 7, 'f16'), c('f16', 10, 6, 'f16'), c('q4_0', 1, 32, 'f16'),
    c('q4_k', 64, 8192, 'f16'), c('q8_0', 64, 8192, 'f16'), c('f32', 13, 4099, 'f16'),
  );
  // 2-D grids under a lowered limit: 250 workgroups as 16 lines of 16 (6 past the rows).
  cases.push(laneCase(kernel, 'q4_k', 1000, 256, 'f32', 16), laneCase(kernel, 'f16', 997, 70, 'f16', 16));
  return cases;
}

/**
 * Runs of several steps (LANE_STEPS; lane-walk.wgsl caps a run at its type's steps per block: 4 for the 32-element
 * blocks, 8 for Q4_K/Q5_K's pairs, 16 for the 128-element walks, 1 for f32/f16/bf16). The walk is the two kernels'
 * shared part, so every type runs once, on matvec-workgroup (which SwiftShader has too): 37 rows of two blocks, so
 * fewer runs than lanes. Then both kernels on long rows (many runs per lane; with f16 arithmetic carries every 4
 * steps, across runs), and a row of one run.
 */
function runCases(): LaneCase[] {
  const quantized = [...weightDTypes, ...alignedDTypes].filter((d) => weightLayouts[d].blockElements > 1);
  return [
    ...quantized.map((d) => laneCase('matvec-workgroup', d, 37, 2 * Math.max(32, weightLayouts[d].blockElements), 'f32', undefined, 8)),
    laneCase('matvec-workgroup', 'f16', 10, 70, 'f32', undefined, 8),
    laneCase('matvec-workgroup', 'q4_k', 64, 8192, 'f16', undefined, 4),
    laneCase('matvec-subgroup', 'q6_k', 7, 8192, 'f16', undefined, 2),
    laneCase('matvec-subgroup', 'q4_0', 64, 4096, 'f32', undefined, 4),
    laneCase('matvec-subgroup', 'q5_k', 9, 256, 'f32', undefined, 8),
  ];
}

export function laneCases(): LaneCase[] {
  return [
    ...LANE_KERNELS.flatMap(kernelCases),
    ...runCases(),
    // A real head's 2-D grid: 65537 workgroups (as a 262144-row vocabulary needs), on the lanes' shared entry points.
    laneCase('matvec-workgroup', 'q4_0', 262148, 32),
    // matvec.wgsl's 2-D grid: 18 workgroups as 4 lines of 5 (2 past the rows).
    laneCase('matvec', 'q4_k', 1100, 256, 'f32', 5), laneCase('matvec', 'f32', 1100, 33, 'f32', 5),
  ];
}
