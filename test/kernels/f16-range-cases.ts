// Activations beyond f16's range (±65504) in the kernels the f16 path runs. The float products round their
// input to f16 (shaders/dtype/act-f16.wgsl): inputs up to |x| = 1e6 must give finite sums within f16's usual
// accuracy, in every product variant (matvec, matvec-subgroup, matvec-workgroup, matmul, each with the fused RMSNorm), and the
// kernels that stay f32 on the f16 path (rmsnorm, attention) must not overflow on them either.
// Inputs: 32-element blocks of O(1) values beside blocks of values log-uniform in [1, 1e6], so a row mixes
// steps the kernels scale with steps they do not, and steps of K-quants (64 or 128 weights) mix both kinds.
// Every other row has zero weights wherever |x| > 16: its sum must keep the accuracy of O(1) inputs although
// it shares steps with the large ones. The products are compared row by row in units of
// S_r = √Σ_c (w_rc·x_c)², the size their f16 rounding error scales with (for O(1) inputs f16-cases.ts's
// atol 3·U·√COLS is about 9·U·S_r), so the large rows and the O(1) rows are held to the same bound.
// Environment-agnostic like cases.ts.
import { workgroups } from '../../src/gpu/kernels';
import type { KernelCache } from '../../src/gpu/kernels';
import type { WeightDType } from '../../src/gpu/shaders';
import { attentionRef, matvecRef, rmsnormRef } from '../reference/kernels';
import { randomFloats, type Rng } from '../helpers/seeded';
import { weights } from './test-weights';
import { productBindings, runAttention, runKernel, storage, uniformWords, type Tolerance } from './harness';

interface RangeCase {
  name: string;
  tol: Tolerance;
  /** The device feature the case needs. */
  feature?: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

type Product = 'matvec' | 'matvec-subgroup' | 'matvec-workgroup' | 'matmul';

/** f16's unit roundoff. */
const U = 2 ** -11;
/** The largest |x| (and, for the fused norm, the largest norm weight). */
const XMAX = 1e6;
const TILE = 4; // matmul.wgsl: buffers hold whole tiles of token rows
const EPS = 1e-5;

// In units of S_r (see above). Measured on lavapipe: ≤ 5.3·U (matmul q4_k; the others ≤ 3.5·U), O(1) rows and large rows alike.
const TOL_PRODUCT: Tolerance = { atol: 10 * U, rtol: 0 };

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

/** n values in 32-element blocks, each either uniform in ±1 or of magnitude log-uniform in [1, XMAX]. */
function wideValues(rng: Rng, n: number): { values: Float32Array } {
  const values = randomFloats(rng, n);
  let large = false;
  for (let i = 0; i < n; i++) {
    if (i % 32 === 0) large = rng() < 0.5;
    if (large) values[i] = Math.fround(Math.sign(values[i]!) * XMAX ** rng());
  }
  values[n - 1] = XMAX; // the largest magnitude always occurs (in the tail, for rows that have one)
  return { values };
}

/** Odd rows have zero weights where |x| exceeds this: their sums are of O(1) products, in steps shared with large ones. */
const SMALL = 16;

/**
 * Weights of `dtype` [rows, cols], uniform in ±1 (not testWeights' 1e-5 blocks: weights that small are f16
 * subnormals, whose own rounding is f16-cases.ts's concern), the odd rows zero where |x| > SMALL — where the
 * dtype stores those zeros exactly; where it does not (K-quants with mins, IQ4's codebook without 0) the
 * residues times 1e6 would dominate those rows and measure the f16 rounding of the weights instead, so they
 * keep their weights.
 */
function rangeWeights(rng: Rng, dtype: WeightDType, rows: number, cols: number, x: Float32Array) {
  const values = randomFloats(rng, rows * cols);
  const zeroed = values.slice();
  const zeros: number[] = [];
  for (let r = 1; r < rows; r += 2) for (let c = 0; c < cols; c++) if (Math.abs(x[c]!) > SMALL) zeros.push(r * cols + c);
  for (const i of zeros) zeroed[i] = 0;
  const w = weights(zeroed, dtype);
  return zeros.every((i) => w.seen[i] === 0) ? w : weights(values, dtype);
}

/** The rows' sums in units of each row's S_r: got (GPU) and want (CPU, f64 sums), side by side. */
function inRowUnits(got: Float32Array, seen: Float32Array, x: Float32Array, rows: number, cols: number) {
  const want = matvecRef(seen, x, rows, cols);
  const g = new Float64Array(rows), w = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s2 = 0;
    for (let c = 0; c < cols; c++) s2 += (seen[r * cols + c]! * x[c]!) ** 2;
    const s = Math.sqrt(s2) || 1;
    g[r] = got[r]! / s;
    w[r] = want[r]! / s;
  }
  return { got: g, want: w };
}

/** One token's product by a one-token kernel, with the norm weight `norm` fused (NORM) when given. */
async function oneToken(device: GPUDevice, cache: KernelCache, kernel: 'matvec' | 'matvec-subgroup' | 'matvec-workgroup', dtype: WeightDType,
  data: Float32Array | Uint32Array, x: Float32Array, rows: number, cols: number, norm?: Float32Array): Promise<Float32Array> {
  const out = storage(device, rows * 4);
  const constants = { ROWS: rows, COLS: cols, ...(norm ? { NORM: 1, EPS } : {}) };
  return f32(await runKernel(device, cache, kernel, { dtype, precision: 'f16', constants },
    productBindings(storage(device, data), storage(device, x), out, norm && storage(device, norm)),
    workgroups(rows, kernel === 'matvec' ? 64 : 4), out, rows * 4));
}

function needsSubgroups(device: GPUDevice, kernel: Product): void {
  if (kernel === 'matvec-subgroup' && !device.features.has('subgroups')) {
    throw new Error("matvec-subgroup needs the device feature 'subgroups' too, which this adapter lacks");
  }
}

/**
 * A one-token product of inputs up to 1e6 in f16 arithmetic; with `fusedNorm` the input is O(1) and the fused
 * RMSNorm's weight is what reaches 1e6 (as a large norm weight does in a model).
 */
function oneTokenCase(kernel: 'matvec' | 'matvec-subgroup' | 'matvec-workgroup', dtype: WeightDType, rows: number, cols: number, fusedNorm = false): RangeCase {
  return {
    name: `${kernel} ${dtype} f16-math ${rows}x${cols}${fusedNorm ? ' NORM, norm weights' : ', x'} up to ${XMAX} (rows in units of √Σ(w·x)²)`,
    tol: TOL_PRODUCT,
    feature: 'shader-f16',
    async run(device, cache, rng) {
      needsSubgroups(device, kernel);
      const { values } = wideValues(rng, cols);
      const w = rangeWeights(rng, dtype, rows, cols, values);
      if (!fusedNorm) return inRowUnits(await oneToken(device, cache, kernel, dtype, w.data, values, rows, cols), w.seen, values, rows, cols);
      const x = randomFloats(rng, cols);
      const got = await oneToken(device, cache, kernel, dtype, w.data, x, rows, cols, values);
      return inRowUnits(got, w.seen, rmsnormRef(x, values, EPS), rows, cols);
    },
  };
}

/**
 * matmul.wgsl in f16 arithmetic on `tokens` tokens of inputs up to 1e6 (each its own mix of blocks; the odd rows'
 * zeros follow token 0's), against the CPU twin and bit for bit against the f16 matvec token by token: prefill and
 * decoding must scale the same steps the same way.
 */
function matmulCase(dtype: WeightDType, rows: number, cols: number, tokens: number, fusedNorm = false): RangeCase {
  const padded = Math.ceil(tokens / TILE) * TILE;
  return {
    name: `matmul ${dtype} f16-math ${rows}x${cols} tokens=${tokens}${fusedNorm ? ' NORM, norm weights' : ', x'} up to ${XMAX} (rows in units of √Σ(w·x)², and equal to f16 matvec per token)`,
    tol: TOL_PRODUCT,
    feature: 'shader-f16',
    async run(device, cache, rng) {
      const inputs = Array.from({ length: padded }, () => wideValues(rng, cols));
      const w = rangeWeights(rng, dtype, rows, cols, inputs[0]!.values);
      // With the fused norm the large values are its weight (token 0's) and every token's x is O(1).
      const norm = fusedNorm ? inputs[0]!.values : undefined;
      const x = new Float32Array(padded * cols);
      inputs.forEach((input, t) => x.set(fusedNorm ? randomFloats(rng, cols) : input.values, t * cols));
      const out = storage(device, padded * rows * 4);
      const constants = { ROWS: rows, COLS: cols, OUT_STRIDE: rows, ...(norm ? { NORM: 1, EPS } : {}) };
      const all = f32(await runKernel(device, cache, 'matmul', { dtype, precision: 'f16', constants },
        productBindings(storage(device, w.data), storage(device, x), out, norm && storage(device, norm)), [workgroups(rows), padded / TILE], out, padded * rows * 4));
      const got: number[] = [], want: number[] = [];
      for (let t = 0; t < tokens; t++) {
        const xt = x.slice(t * cols, (t + 1) * cols);
        const mine = all.subarray(t * rows, (t + 1) * rows);
        const decoded = await oneToken(device, cache, 'matvec', dtype, w.data, xt, rows, cols, norm);
        const i = decoded.findIndex((v, r) => !Object.is(v, mine[r]));
        if (i >= 0) throw new Error(`token ${t} row ${i}: f16 matmul ${mine[i]} but f16 matvec ${decoded[i]}; they must agree bit for bit`);
        const units = inRowUnits(mine, w.seen, norm ? rmsnormRef(xt, norm, EPS) : xt, rows, cols);
        got.push(...units.got);
        want.push(...units.want);
      }
      return { got, want };
    },
  };
}

/** rmsnorm.wgsl (f32 on every path) over rows up to 1e6: x² reaches 1e12, far inside f32. */
function rmsnormCase(n: number): RangeCase {
  return {
    name: `rmsnorm n=${n} x up to ${XMAX}`,
    tol: { atol: 1e-6, rtol: 1e-5 }, // cases.ts's rmsnorm tolerance: the output is O(1)
    async run(device, cache, rng) {
      const x = wideValues(rng, n).values;
      const weight = randomFloats(rng, n, 0.5, 1.5);
      const out = storage(device, n * 4);
      const got = await runKernel(device, cache, 'rmsnorm', { constants: { N: n, EPS } }, [storage(device, x), storage(device, weight), out], 1, out, n * 4);
      return { got: f32(got), want: rmsnormRef(x, weight, EPS) };
    },
  };
}

/**
 * attention.wgsl (f32 on every path) with values up to 1e6 and scores far past exp's f32 range (q, k in ±20: |score|
 * up to ~1e3); `chunk`: split-K as long contexts run it. The error is relative to the largest |v|.
 */
function attentionCase(pos: number, ctx: number, chunk?: number): RangeCase {
  const s = { nHeads: 4, nKvHeads: 2, headDim: 32 };
  return {
    name: `attention heads=4 kv_heads=2 head_dim=32 pos=${pos}/${ctx}${chunk ? ` split-K chunk=${chunk}` : ''}, v up to ${XMAX}, scores up to ~1e3`,
    tol: { atol: 1e-5 * XMAX, rtol: 1e-5 },
    async run(device, cache, rng) {
      const kvDim = s.nKvHeads * s.headDim;
      const q = randomFloats(rng, s.nHeads * s.headDim, -20, 20);
      const k = randomFloats(rng, ctx * kvDim, -20, 20);
      const v = wideValues(rng, ctx * kvDim).values;
      const constants = { N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, CTX: ctx, SCALE: 1 / Math.sqrt(s.headDim), SOFTCAP: 0, WINDOW: 0 };
      const got = await runAttention(device, cache, constants,
        [uniformWords(device, [pos]), storage(device, q), storage(device, k), storage(device, v), storage(device, s.nHeads * ctx * 4)], 1, chunk);
      return { got: f32(got), want: attentionRef(q, k, v, pos, s) };
    },
  };
}

/** Weight types by how a product reads them: f32 (a tail past the last step), f16/bf16 words, 32-blocks, K- and i-quants. */
const DTYPES = [['f32', 130], ['f16', 172], ['bf16', 96], ['q8_0', 96], ['q4_0', 160], ['q4_k', 512], ['q6_k', 256], ['iq4_xs', 256]] as const;

export function f16RangeCases(): RangeCase[] {
  const cases: RangeCase[] = [];
  for (const [dtype, cols] of DTYPES) cases.push(oneTokenCase('matvec', dtype, 67, cols), oneTokenCase('matvec-subgroup', dtype, 67, cols), oneTokenCase('matvec-workgroup', dtype, 67, cols));
  for (const kernel of ['matvec', 'matvec-subgroup', 'matvec-workgroup'] as const) cases.push(oneTokenCase(kernel, 'q4_0', 64, 128, true), oneTokenCase(kernel, 'f32', 20, 130, true));
  cases.push(matmulCase('f32', 70, 132, 5), matmulCase('q4_0', 65, 160, 6), matmulCase('q4_k', 33, 512, 3), matmulCase('f16', 40, 96, 4, true));
  cases.push(rmsnormCase(64), rmsnormCase(2048), attentionCase(70, 80), attentionCase(1000, 1100, 256));
  return cases;
}
