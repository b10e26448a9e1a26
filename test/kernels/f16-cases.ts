// The f16-arithmetic variant of the weight kernels (shaders/dtype/act-f16.wgsl), for every weight dtype,
// against the same CPU twins as the f32 cases: the twins compute exactly (dequantized values, f64 sums), so
// the difference is the f16 path's own rounding. They need the device feature 'shader-f16'; runKernelCases
// reports them as not applicable where it is missing (Chromium's SwiftShader) instead of running them.
import { workgroups } from '../../src/gpu/kernels';
import type { KernelCache } from '../../src/gpu/kernels';
import type { WeightDType } from '../../src/gpu/shaders';
import { weightDTypes, weightLayouts } from '../../src/gpu/quant-types';
import { matvecRef } from '../reference/kernels';
import { randomFloats, type Rng } from '../helpers/seeded';
import { testWeights, weights } from './test-weights';
import { productBindings, runKernel, storage, type Tolerance } from './harness';

export interface F16Case {
  name: string;
  tol: Tolerance;
  /** The device feature the case needs. */
  feature: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

/** f16's unit roundoff: a rounded value is within U·|value| of the exact one. */
const U = 2 ** -11;

// Each product carries three roundings of relative size ≤ U (the weight to f16, x to f16, the product) plus
// its share of a 32-weight f16 group sum; the errors are independent, so with |w|, |x| ≤ 1 they add up like
// U·√COLS. Measured on lavapipe: ≤ 1.45·U·√COLS for every dtype and COLS from 7 to 8192 (8192: 1.03).
// rtol U covers the f32 carry and the final f32 sum, one rounding each of a sum of any size.
const TOL = {
  matvec: (cols: number): Tolerance => ({ atol: 3 * U * Math.sqrt(cols), rtol: U }),
};

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

function matvecCase(dtype: WeightDType, rows: number, cols: number): F16Case {
  return {
    name: `matvec ${dtype} f16-math ${rows}x${cols}`,
    tol: TOL.matvec(cols),
    feature: 'shader-f16',
    async run(device, cache, rng) {
      const w = weights(testWeights(rng, rows * cols, dtype), dtype);
      const x = randomFloats(rng, cols);
      const out = storage(device, rows * 4);
      const got = await runKernel(device, cache, 'matvec', { dtype, precision: 'f16', constants: { ROWS: rows, COLS: cols } },
        productBindings(storage(device, w.data), storage(device, x), out), workgroups(rows), out, rows * 4);
      return { got: f32(got), want: matvecRef(w.seen, x, rows, cols) };
    },
  };
}

/**
 * matmul.wgsl in f16 arithmetic for `tokens` tokens (a prefill batch) against the CPU twin, with matvec's
 * tolerance, and bit for bit against the f16 matvec run token by token (they must sum identically, so a
 * prefilled cache equals a decoded one in f16 too).
 */
function matmulCase(dtype: WeightDType, rows: number, cols: number, tokens: number): F16Case {
  const TILE = 4; // matmul.wgsl: buffers hold whole tiles of token rows
  const padded = Math.ceil(tokens / TILE) * TILE;
  return {
    name: `matmul ${dtype} f16-math ${rows}x${cols} tokens=${tokens} (vs CPU twin, and equal to f16 matvec per token)`,
    tol: TOL.matvec(cols),
    feature: 'shader-f16',
    async run(device, cache, rng) {
      const w = weights(testWeights(rng, rows * cols, dtype), dtype);
      const x = randomFloats(rng, padded * cols);
      const out = storage(device, padded * rows * 4);
      const got = f32(await runKernel(device, cache, 'matmul', { dtype, precision: 'f16', constants: { ROWS: rows, COLS: cols, OUT_STRIDE: rows } },
        productBindings(storage(device, w.data), storage(device, x), out), [workgroups(rows), padded / TILE], out, padded * rows * 4)).subarray(0, tokens * rows);
      const want = new Float32Array(tokens * rows);
      for (let t = 0; t < tokens; t++) {
        const xt = x.slice(t * cols, (t + 1) * cols);
        const one = storage(device, rows * 4);
        const decoded = f32(await runKernel(device, cache, 'matvec', { dtype, precision: 'f16', constants: { ROWS: rows, COLS: cols } },
          productBindings(storage(device, w.data), storage(device, xt), one), workgroups(rows), one, rows * 4));
        const i = decoded.findIndex((v, r) => !Object.is(v, got[t * rows + r]));
        if (i >= 0) throw new Error(`token ${t} row ${i}: f16 matmul ${got[t * rows + i]} but f16 matvec ${decoded[i]}; they must agree bit for bit`);
        want.set(matvecRef(w.seen, xt, rows, cols), t * rows);
      }
      return { got, want };
    },
  };
}

/**
 * Every dtype over rows of an odd number of blocks (half-word offsets for the 34/18/22/210-byte types), an
 * f32 row with a tail read one by one, and long rows, where the f32 carry keeps the error growing like √COLS
 * (one f16 sum over the row would grow like COLS and lose the small terms). Lookups (embedding, position)
 * compile with f32 arithmetic whatever the precision (KernelCache), so their f32 cases cover them.
 */
export function f16Cases(): F16Case[] {
  const cases: F16Case[] = weightDTypes.map((dtype) => matvecCase(dtype, 257, 3 * Math.max(32, weightLayouts[dtype].blockElements)));
  cases.push(matvecCase('f32', 70, 7), matvecCase('q4_k', 64, 8192), matvecCase('q8_0', 64, 8192));
  cases.push(matmulCase('f32', 70, 100, 7), matmulCase('q4_0', 65, 256, 9), matmulCase('q4_k', 33, 512, 5), matmulCase('f16', 40, 1024, 4));
  cases.push(matmulCase('q2_k', 33, 512, 5), matmulCase('q3_k', 33, 512, 5), matmulCase('iq4_nl', 65, 96, 9), matmulCase('iq4_xs', 33, 512, 5));
  return cases;
}
