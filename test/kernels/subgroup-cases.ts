// matvec-subgroup.wgsl (the GPU matvec: lanes share rows and reduce with subgroupAdd) against the same CPU twin as
// matvec.wgsl, for every weight dtype, in f32 and f16 arithmetic. The kernel needs the device feature 'subgroups';
// runKernelCases reports the cases as not applicable where it is missing. The f16-arithmetic cases need
// 'shader-f16' as well, and a case names one feature: they name 'shader-f16' (so that adapters without it report
// them as not applicable for that reason, as every "f16-math" case is) and check 'subgroups' when they run, failing
// with a message that says so on an adapter with f16 but no subgroups (none of those this project tests on).
// Shapes: row counts that are not a multiple of the 4 rows per workgroup (the last workgroup re-reads the last row
// and must not write past it), ROWS = 1, rows shorter than one step per lane (most lanes idle) and long rows (each
// lane walks many steps; with f16 arithmetic many carries), f32 rows of odd length and f16/bf16 rows ending in
// 2–6 elements (the tail read one element per lane), and a large grid.
import { workgroups } from '../../src/gpu/kernels';
import type { KernelCache } from '../../src/gpu/kernels';
import type { WeightDType } from '../../src/gpu/shaders';
import { weightDTypes, weightLayouts } from '../../src/gpu/quant-types';
import { matvecRef } from '../reference/kernels';
import { randomFloats, type Rng } from '../helpers/seeded';
import { testWeights, weights } from './test-weights';
import { productBindings, runKernel, storage, type Tolerance } from './harness';

export interface SubgroupCase {
  name: string;
  tol: Tolerance;
  /** The device feature the case needs. */
  feature: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

/** Rows per workgroup of matvec-subgroup.wgsl (ROWS_PER_WORKGROUP): the grid is ceil(ROWS / 4). */
const ROWS_PER_WORKGROUP = 4;

/** f16's unit roundoff. */
const U = 2 ** -11;

// As matvec's: f32 sums get an atol growing like sqrt(terms); f16 arithmetic (each lane's products summed in f16 over
// 4 of its steps, then carried into f32) as f16-cases.ts's matvec tolerance.
const TOL = {
  f32: (cols: number): Tolerance => ({ atol: 1e-6 * Math.sqrt(cols), rtol: 1e-5 }),
  f16: (cols: number): Tolerance => ({ atol: 3 * U * Math.sqrt(cols), rtol: U }),
};

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

function matvecSubgroupCase(dtype: WeightDType, rows: number, cols: number, precision: 'f32' | 'f16' = 'f32'): SubgroupCase {
  const f16 = precision === 'f16';
  return {
    name: `matvec-subgroup ${dtype}${f16 ? ' f16-math' : ''} ${rows}x${cols}`,
    tol: f16 ? TOL.f16(cols) : TOL.f32(cols),
    feature: f16 ? 'shader-f16' : 'subgroups',
    async run(device, cache, rng) {
      if (!device.features.has('subgroups')) throw new Error("matvec-subgroup needs the device feature 'subgroups' too, which this adapter lacks");
      const w = weights(testWeights(rng, rows * cols, dtype), dtype);
      const x = randomFloats(rng, cols);
      const out = storage(device, rows * 4);
      const got = await runKernel(device, cache, 'matvec-subgroup', { dtype, precision, constants: { ROWS: rows, COLS: cols } },
        productBindings(storage(device, w.data), storage(device, x), out), workgroups(rows, ROWS_PER_WORKGROUP), out, rows * 4);
      return { got: f32(got), want: matvecRef(w.seen, x, rows, cols) };
    },
  };
}

export function subgroupCases(): SubgroupCase[] {
  const cases: SubgroupCase[] = [];
  for (const dtype of weightDTypes) {
    const block = Math.max(32, weightLayouts[dtype].blockElements);
    // 257 rows: the last workgroup has one real row; rows of an odd number of blocks put every other row of the
    // 34/18/22/210-byte types at a half-word offset. 6 rows: two workgroups, the second half empty.
    cases.push(matvecSubgroupCase(dtype, 257, 3 * block), matvecSubgroupCase(dtype, 6, 2 * block));
    cases.push(matvecSubgroupCase(dtype, 257, 3 * block, 'f16'));
  }
  cases.push(
    matvecSubgroupCase('f32', 1, 1), matvecSubgroupCase('f32', 1, 7), matvecSubgroupCase('q4_k', 1, 256), matvecSubgroupCase('q8_0', 1, 32),
    matvecSubgroupCase('f32', 70, 7), matvecSubgroupCase('f32', 5, 1), matvecSubgroupCase('f32', 33, 33), matvecSubgroupCase('f32', 3, 1001),
    matvecSubgroupCase('f32', 9, 519), // 64 full steps + a tail of 7: lanes 0–6 take a second turn
    matvecSubgroupCase('f16', 10, 6), matvecSubgroupCase('f16', 64, 172), matvecSubgroupCase('bf16', 100, 172),
    matvecSubgroupCase('q4_0', 64, 4096), matvecSubgroupCase('f32', 64, 4096), matvecSubgroupCase('f32', 11, 4099),
    matvecSubgroupCase('q6_k', 7, 8192), matvecSubgroupCase('q8_0', 1000, 288), matvecSubgroupCase('q4_0', 20001, 64),
    matvecSubgroupCase('f32', 70, 7, 'f16'), matvecSubgroupCase('f16', 10, 6, 'f16'), matvecSubgroupCase('q4_0', 1, 32, 'f16'),
    matvecSubgroupCase('q4_k', 64, 8192, 'f16'), matvecSubgroupCase('q8_0', 64, 8192, 'f16'), matvecSubgroupCase('f32', 13, 4099, 'f16'),
  );
  return cases;
}
