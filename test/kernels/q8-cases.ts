// Cases for the integer-dot kernels (precision 'q8'): quantize-q8.wgsl against its CPU twin, matvec-q8 and
// matmul-q8 against theirs on the GPU's own quantized activations, matmul-q8 equal to matvec-q8 token by token
// (bit for bit), and the whole path against the f32 product within the error 8-bit activations allow.
// Environment-agnostic like cases.ts.
import type { KernelCache } from '../../src/gpu/kernels';
import { workgroupGrid, workgroups } from '../../src/gpu/kernels';
import { quantize, toWords } from '../helpers/quantize';
import { matvecRef } from '../reference/kernels';
import { dequantize } from '../reference/quant';
import { dequantizeQ8Ref, matvecQ8Ref, quantizeQ8Ref, Q8_BLOCK_WORDS } from '../reference/q8';
import { randomFloats, type Rng } from '../helpers/seeded';
import { EXACT, runKernel, storage, type Tolerance } from './harness';
import { testWeights } from './test-weights';

interface Q8Case {
  name: string;
  tol: Tolerance;
  /** The device feature the case needs. */
  feature?: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

type Q8Type = 'q4_0' | 'q8_0' | 'q4_0_aligned' | 'q8_0_aligned';
const TILE = 4;
const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

/** Activations [tokens, cols] quantized on the GPU (quantize-q8.wgsl): the words the product kernels read. */
async function quantizeOnGpu(device: GPUDevice, cache: KernelCache, x: Float32Array, cols: number): Promise<Uint32Array> {
  const tokens = x.length / cols;
  const bytes = (x.length / 32) * Q8_BLOCK_WORDS * 4;
  const out = storage(device, bytes);
  const input = storage(device, x);
  return new Uint32Array(await runKernel(device, cache, 'quantize-q8', { constants: { COLS: cols } },
    [input, out, null, input], [workgroups(cols / 32), tokens], out, bytes)); // binding 3: the fused norm's weight (unused)
}

/**
 * quantize-q8 against its twin, compared as the values the blocks stand for (q · d): the GPU's division may
 * round a quotient that lands on a half differently, which moves one quant by one step, so the bound is one
 * quantum of the block (d ≤ max|x| / 127 < 1/127 for x in [−1, 1)); Σq must match the GPU's own quants exactly.
 */
function quantizeCase(cols: number, tokens: number): Q8Case {
  return {
    name: `quantize-q8 cols=${cols} tokens=${tokens} (within one quantum; Σq exact)`,
    tol: { atol: 1 / 127, rtol: 0 },
    async run(device, cache, rng) {
      const x = randomFloats(rng, tokens * cols);
      for (let i = 0; i < 32; i++) x[i] = 0; // an all-zero block: d = 0, every quant 0
      const got = await quantizeOnGpu(device, cache, x, cols);
      for (let b = 0; b < got.length / Q8_BLOCK_WORDS; b++) {
        let sum = 0;
        for (let i = 0; i < 32; i++) sum += ((got[b * Q8_BLOCK_WORDS + 2 + (i >> 2)]! >>> (8 * (i & 3))) << 24) >> 24;
        if (sum !== (got[b * Q8_BLOCK_WORDS + 1]! | 0)) throw new Error(`block ${b}: Σq ${got[b * Q8_BLOCK_WORDS + 1]! | 0}, but its quants sum to ${sum}`);
      }
      return { got: dequantizeQ8Ref(got), want: dequantizeQ8Ref(quantizeQ8Ref(x)) };
    },
  };
}

/** matvec-q8 against its twin on the same quantized activations (integer sums exact; f32 steps to an ulp). */
function matvecCase(dtype: Q8Type, rows: number, cols: number): Q8Case {
  return {
    name: `matvec-q8 ${dtype} ${rows}x${cols} (vs CPU twin on the GPU's quantized activations)`,
    tol: { atol: 1e-6 * Math.sqrt(cols), rtol: 1e-5 },
    async run(device, cache, rng) {
      const bytes = quantize(dtype, testWeights(rng, rows * cols, dtype));
      const xq = await quantizeOnGpu(device, cache, randomFloats(rng, cols), cols);
      const out = storage(device, rows * 4);
      const got = await runKernel(device, cache, 'matvec-q8', { dtype, constants: { ROWS: rows, COLS: cols } },
        [storage(device, toWords(bytes)), storage(device, xq), out], workgroups(rows), out, rows * 4);
      return { got: f32(got), want: matvecQ8Ref(dtype, bytes, xq, rows, cols) };
    },
  };
}

/** The GPU profile's 8-bit products: lanes across a row's blocks, reduced with subgroupAdd or in workgroup memory. */
type LaneQ8Kernel = 'matvec-q8-subgroup' | 'matvec-q8-workgroup';

/**
 * A lane kernel against matvec-q8's twin on the same quantized activations. Each block's product is the same f32
 * value as the twin's (the same block_product), but the blocks are added in another order (each lane its own,
 * then across lanes), so the sums agree to f32 rounding, not bit for bit: the float products' bound, an atol
 * growing like sqrt(blocks) (rounding errors of random sign) and 1e-5 relative.
 */
function laneMatvecCase(kernel: LaneQ8Kernel, dtype: Q8Type, rows: number, cols: number, gridLimit?: number): Q8Case {
  return {
    name: `${kernel} ${dtype} ${rows}x${cols}${gridLimit ? ` (2-D grid, ${gridLimit} per dimension)` : ''} (vs CPU twin on the GPU's quantized activations)`,
    tol: { atol: 1e-6 * Math.sqrt(cols), rtol: 1e-5 },
    feature: kernel === 'matvec-q8-subgroup' ? 'subgroups' : undefined,
    async run(device, cache, rng) {
      const bytes = quantize(dtype, testWeights(rng, rows * cols, dtype));
      const xq = await quantizeOnGpu(device, cache, randomFloats(rng, cols), cols);
      const out = storage(device, rows * 4);
      const grid = workgroupGrid(workgroups(rows, 4), gridLimit ?? device.limits.maxComputeWorkgroupsPerDimension);
      if (gridLimit && grid[1] < 2) throw new Error(`the case means a 2-D grid, got ${grid.join(' × ')}`);
      const got = await runKernel(device, cache, kernel, { dtype, constants: { ROWS: rows, COLS: cols } },
        [storage(device, toWords(bytes)), storage(device, xq), out], grid, out, rows * 4);
      return { got: f32(got), want: matvecQ8Ref(dtype, bytes, xq, rows, cols) };
    },
  };
}

/**
 * The whole path (quantize, then matvec-q8) against the exact f32 product of the dequantized weights: what 8-bit
 * activations cost. Each activation is off by at most half a quantum (max|x| / 254 per block), so a row is off by
 * at most Σ|w| · max|x| / 254: the bound used here for x in [−1, 1) and |w| ≤ 1 is cols / 254 · 0.1 (errors
 * of random sign cancel; measured well inside it).
 */
function endToEndCase(dtype: Q8Type, rows: number, cols: number): Q8Case {
  return {
    name: `quantize-q8 + matvec-q8 ${dtype} ${rows}x${cols} vs the f32 product (8-bit activation error)`,
    tol: { atol: (0.1 * cols) / 254, rtol: 0 },
    async run(device, cache, rng) {
      const values = testWeights(rng, rows * cols, dtype);
      const bytes = quantize(dtype, values);
      const x = randomFloats(rng, cols);
      const xq = await quantizeOnGpu(device, cache, x, cols);
      const out = storage(device, rows * 4);
      const got = await runKernel(device, cache, 'matvec-q8', { dtype, constants: { ROWS: rows, COLS: cols } },
        [storage(device, toWords(bytes)), storage(device, xq), out], workgroups(rows), out, rows * 4);
      return { got: f32(got), want: matvecRef(dequantize(dtype, bytes, rows * cols), x, rows, cols) };
    },
  };
}

/** matmul-q8 must sum exactly like matvec-q8 (prefill then equals token-by-token decoding): bit for bit. */
function matmulCase(dtype: Q8Type, rows: number, cols: number, tokens: number): Q8Case {
  return {
    name: `matmul-q8 ${dtype} ${rows}x${cols} tokens=${tokens} equals matvec-q8 per token, bit for bit`,
    tol: EXACT,
    async run(device, cache, rng) {
      const bytes = quantize(dtype, testWeights(rng, rows * cols, dtype));
      const tiles = Math.ceil(tokens / TILE);
      const xq = await quantizeOnGpu(device, cache, randomFloats(rng, tiles * TILE * cols), cols);
      const outBytes = tiles * TILE * rows * 4;
      const out = storage(device, outBytes);
      const got = f32(await runKernel(device, cache, 'matmul-q8', { dtype, constants: { ROWS: rows, COLS: cols, OUT_STRIDE: rows } },
        [storage(device, toWords(bytes)), storage(device, xq), out], [workgroups(rows), tiles], out, outBytes));
      const tokenWords = (cols / 32) * Q8_BLOCK_WORDS;
      const want = new Float32Array(tokens * rows);
      for (let t = 0; t < tokens; t++) {
        const one = storage(device, rows * 4);
        want.set(f32(await runKernel(device, cache, 'matvec-q8', { dtype, constants: { ROWS: rows, COLS: cols } },
          [storage(device, toWords(bytes)), storage(device, xq.slice(t * tokenWords, (t + 1) * tokenWords)), one], workgroups(rows), one, rows * 4)), t * rows);
      }
      return { got: got.subarray(0, tokens * rows), want };
    },
  };
}

export function q8Cases(): Q8Case[] {
  const cases: Q8Case[] = [quantizeCase(32, 1), quantizeCase(768, 3), quantizeCase(2048, 4)];
  for (const dtype of ['q4_0', 'q8_0'] as const) {
    // Row counts below, at and past a workgroup's 64 rows, and not a multiple of 4 (threads past the last row).
    cases.push(matvecCase(dtype, 1, 32), matvecCase(dtype, 67, 96), matvecCase(dtype, 257, 288), matvecCase(dtype, 1000, 768));
    cases.push(endToEndCase(dtype, 64, 768));
    cases.push(matmulCase(dtype, 67, 96, 5), matmulCase(dtype, 130, 256, 32));
    for (const kernel of ['matvec-q8-subgroup', 'matvec-q8-workgroup'] as const) {
      // Rows not a multiple of the workgroup's 4 (the last workgroup re-reads the last row), fewer blocks than lanes,
      // an odd number of blocks (every other q4_0/q8_0 row at a half-word offset), several blocks per lane (8192
      // columns: 256 blocks), and a 2-D grid under a lowered limit (250 workgroups as 16 lines of 16).
      cases.push(laneMatvecCase(kernel, dtype, 1, 32), laneMatvecCase(kernel, dtype, 67, 96), laneMatvecCase(kernel, dtype, 257, 288),
        laneMatvecCase(kernel, dtype, 6, 8192), laneMatvecCase(kernel, dtype, 997, 160, 16));
    }
  }
  // The aligned layouts (src/gpu/aligned-weights.ts): groups of 8 blocks, the last of 257 × 3 blocks partial.
  for (const dtype of ['q4_0_aligned', 'q8_0_aligned'] as const) {
    cases.push(matvecCase(dtype, 257, 96), matmulCase(dtype, 67, 96, 5));
    for (const kernel of ['matvec-q8-subgroup', 'matvec-q8-workgroup'] as const) cases.push(laneMatvecCase(kernel, dtype, 257, 96));
  }
  return cases;
}
