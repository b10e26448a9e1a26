// Cases for the fused forms of the weight products (common/products.wgsl, common/rms.wgsl): a stacked
// [q; k; v] matrix's three outputs (entry point main_qkv), a stacked [gate; up] matrix's act(gate) · up
// (main_glu), and the RMSNorm fused into a float product's input (NORM) or into quantize-q8. Each is compared
// with its CPU twin within the product's tolerance and, inside the case, bit for bit with the kernels the model
// runs when it does not fuse (the plain product, then swiglu/geglu; rmsnorm, then the product or quantize-q8),
// in the one-token and the batched forms, in f32 and f16 arithmetic and with 8-bit activations.
// Environment-agnostic like cases.ts.
import type { KernelCache, KernelOptions } from '../../src/gpu/kernels';
import { workgroupGrid, workgroups } from '../../src/gpu/kernels';
import type { ProductEntryPoint, WeightDType } from '../../src/gpu/shaders';
import { weightLayouts } from '../../src/gpu/quant-types';
import { quantize, toWords } from '../helpers/quantize';
import { matvecRef, rmsnormRef, swigluRef } from '../reference/kernels';
import { gegluRef } from '../reference/transformer-ops';
import { matvecQ8Ref, quantizeQ8Ref, Q8_BLOCK_WORDS } from '../reference/q8';
import { randomFloats, type Rng } from '../helpers/seeded';
import { runKernel, storage, uniformWords, type Tolerance } from './harness';
import { testWeights, weights } from './test-weights';

export interface FusedCase {
  name: string;
  tol: Tolerance;
  feature?: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

export type Product = 'matvec' | 'matmul' | 'matvec-q8' | 'matmul-q8' | 'matvec-subgroup' | 'matvec-workgroup' | 'matvec-q8-subgroup' | 'matvec-q8-workgroup';
const TILE = 4; // matmul.wgsl: buffers hold whole tiles of token rows
const EPS = 1e-5;
const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);
export const batched = (k: Product) => k === 'matmul' || k === 'matmul-q8';
export const q8 = (k: Product) => k === 'matvec-q8' || k === 'matmul-q8' || k === 'matvec-q8-subgroup' || k === 'matvec-q8-workgroup';
/** The one-token products whose 64 lanes share four rows (common/matvec-lanes.wgsl, common/matvec-q8-lanes.wgsl). */
export const lanes = (k: Product) => k === 'matvec-subgroup' || k === 'matvec-workgroup' || k === 'matvec-q8-subgroup' || k === 'matvec-q8-workgroup';
/** The device feature a case needs: shader-f16 for f16 arithmetic, else subgroups for the subgroup kernels. */
export const featureOf = (k: Product, precision?: 'f16'): GPUFeatureName | undefined =>
  (precision === 'f16' ? 'shader-f16' : k === 'matvec-subgroup' || k === 'matvec-q8-subgroup' ? 'subgroups' : undefined);

/** One product dispatch: its weight words, input (f32 x, or quantize-q8 words), and optional fused norm weight. */
interface ProductRun {
  kernel: Product;
  opts: KernelOptions;
  entry: ProductEntryPoint;
  rows: number;
  w: Float32Array | Uint32Array;
  x: Float32Array | Uint32Array;
  tokens: number;
  /** Elements per token of out, out_k and out_v. */
  outs: number[];
  norm?: Float32Array;
  /** A one-token product's grid laid out under this per-dimension limit (a 2-D grid), not the device's. */
  gridLimit?: number;
}

/** Runs `r` and reads back output `read` [tokens, outs[read]]. */
async function runProduct(device: GPUDevice, cache: KernelCache, r: ProductRun, read = 0): Promise<Float32Array> {
  const padded = batched(r.kernel) ? Math.ceil(r.tokens / TILE) * TILE : 1;
  const outs = r.outs.map((n) => storage(device, 4 * padded * n));
  const x = storage(device, r.x);
  const norm = q8(r.kernel) ? null : r.norm ? storage(device, r.norm) : x;
  // The lane kernels: a workgroup per four rows (main_glu: per two outputs); the others: 64 rows (32 outputs).
  const perGroup = lanes(r.kernel) ? 4 : 64;
  const groups = r.entry === 'main_glu' ? workgroups(r.rows / 2, perGroup / 2) : workgroups(r.rows, perGroup);
  const grid = batched(r.kernel) ? [groups, padded / TILE] as const : workgroupGrid(groups, r.gridLimit ?? device.limits.maxComputeWorkgroupsPerDimension);
  const constants = { ROWS: r.rows, ...r.opts.constants, ...(r.norm && !q8(r.kernel) ? { NORM: 1, EPS } : {}) };
  const out = outs[read]!;
  // main_qkv's epilogue bindings (common/products.wgsl), unused here (BIAS, ROPE and KV_CACHE off): bias, cos/sin, step.
  const epilogue = r.entry === 'main_qkv' ? [x, x, uniformWords(device, [0])] : [];
  return f32(await runKernel(device, cache, r.kernel, { ...r.opts, constants, entryPoint: r.entry },
    [storage(device, r.w), x, outs[0]!, norm, ...outs.slice(1), ...epilogue], grid, out, 4 * r.tokens * r.outs[read]!));
}

/** rmsnorm.wgsl over each token's row of x [tokens, cols]: the normed input the unfused model feeds a product. */
async function rmsnormOnGpu(device: GPUDevice, cache: KernelCache, x: Float32Array, weight: Float32Array, cols: number): Promise<Float32Array> {
  const out = storage(device, x.byteLength);
  return f32(await runKernel(device, cache, 'rmsnorm', { constants: { N: cols, EPS } }, [storage(device, x), storage(device, weight), out], x.length / cols, out, x.byteLength));
}

/** quantize-q8.wgsl over x [tokens, cols], normed on the fly with `norm`. */
async function quantizeOnGpu(device: GPUDevice, cache: KernelCache, x: Float32Array, cols: number, norm?: Float32Array): Promise<Uint32Array> {
  const bytes = (x.length / 32) * Q8_BLOCK_WORDS * 4;
  const out = storage(device, bytes);
  const input = storage(device, x);
  const constants: Record<string, number> = norm ? { COLS: cols, NORM: 1, EPS } : { COLS: cols };
  return new Uint32Array(await runKernel(device, cache, 'quantize-q8', { constants },
    [input, out, null, norm ? storage(device, norm) : input], [workgroups(cols / 32), x.length / cols], out, bytes));
}

export function assertSameBits(what: string, got: Float32Array | Uint32Array, want: Float32Array | Uint32Array): void {
  const i = got.findIndex((v, k) => !Object.is(v, want[k]));
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} elements, the unfused kernels give ${want.length}`);
  if (i >= 0) throw new Error(`${what}: element ${i} is ${got[i]}, the unfused kernels give ${want[i]}; they must agree bit for bit`);
}

/** Random weights of `dtype` for the kernel: words to bind, and the CPU twin's product of one token. */
export function productWeights(kernel: Product, dtype: WeightDType, rng: Rng, rows: number, cols: number) {
  const values = testWeights(rng, rows * cols, dtype);
  if (q8(kernel)) {
    const bytes = quantize(dtype, values);
    return { words: toWords(bytes), ref: (x: Float32Array | Uint32Array) => matvecQ8Ref(dtype as 'q4_0' | 'q8_0', bytes, x as Uint32Array, rows, cols) };
  }
  const w = weights(values, dtype);
  return { words: w.data, ref: (x: Float32Array | Uint32Array) => matvecRef(w.seen, x as Float32Array, rows, cols) };
}

/** Each token's input: f32 rows, or (8-bit products) those rows quantized on the GPU, and its slice of them. */
export async function productInput(device: GPUDevice, cache: KernelCache, kernel: Product, rng: Rng, cols: number, tokens: number) {
  const padded = batched(kernel) ? Math.ceil(tokens / TILE) * TILE : 1;
  const x = randomFloats(rng, padded * cols);
  const input = q8(kernel) ? await quantizeOnGpu(device, cache, x, cols) : x;
  const per = input.length / padded;
  return { input, token: (t: number) => input.slice(t * per, (t + 1) * per) };
}

// The products' own tolerances (cases.ts, f16-cases.ts, q8-cases.ts): the fused forms sum the same way.
export const tolFor = (cols: number, precision?: 'f16'): Tolerance =>
  precision === 'f16' ? { atol: 2e-3 * Math.sqrt(cols), rtol: 5e-3 } : { atol: 1e-6 * Math.sqrt(cols), rtol: 1e-5 };
export const label = (kernel: Product, dtype: WeightDType, precision?: 'f16') => `${kernel} ${dtype}${precision ? ' f16-math' : ''}`;
const gridName = (gridLimit?: number) => (gridLimit ? ` (2-D grid, ${gridLimit} per dimension)` : '');

/** main_qkv on a stacked [q; k; v] matrix: each token's [q | k | v] equals main's rows bit for bit, and the CPU product. */
function qkvCase(kernel: Product, dtype: WeightDType, qRows: number, kvRows: number, cols: number, tokens = 1, precision?: 'f16', gridLimit?: number): FusedCase {
  tokens = batched(kernel) ? tokens : 1; // the one-token products see one
  const rows = qRows + 2 * kvRows;
  return {
    name: `${label(kernel, dtype, precision)} main_qkv ${qRows}+${kvRows}+${kvRows}x${cols}${batched(kernel) ? ` tokens=${tokens}` : ''}${gridName(gridLimit)} (vs CPU twin, and main bit for bit)`,
    tol: tolFor(cols, precision),
    feature: featureOf(kernel, precision),
    async run(device, cache, rng) {
      const w = productWeights(kernel, dtype, rng, rows, cols);
      const { input, token } = await productInput(device, cache, kernel, rng, cols, tokens);
      const spec = { kernel, opts: { dtype, precision, constants: { COLS: cols, Q_ROWS: qRows, KV_ROWS: kvRows } }, entry: 'main_qkv' as const, rows, w: w.words, x: input, tokens, outs: [qRows, kvRows, kvRows], gridLimit };
      const [q, k, v] = await Promise.all([0, 1, 2].map((i) => runProduct(device, cache, spec, i)));
      const got = new Float32Array(tokens * rows);
      for (let t = 0; t < tokens; t++) got.set([...q!.subarray(t * qRows, (t + 1) * qRows), ...k!.subarray(t * kvRows, (t + 1) * kvRows), ...v!.subarray(t * kvRows, (t + 1) * kvRows)], t * rows);
      const plain = await runProduct(device, cache, { ...spec, entry: 'main', opts: { dtype, precision, constants: { COLS: cols, ...(batched(kernel) ? { OUT_STRIDE: rows } : {}) } }, outs: [rows] });
      assertSameBits('main_qkv', got, plain);
      const want = new Float32Array(tokens * rows);
      for (let t = 0; t < tokens; t++) want.set(w.ref(token(t)), t * rows);
      return { got, want };
    },
  };
}

/** main_glu on a stacked [gate; up] matrix: act(gate) · up equals the product then swiglu/geglu bit for bit, and the CPU twin. */
function gluCase(kernel: Product, dtype: WeightDType, act: 'swiglu' | 'geglu', outputs: number, cols: number, tokens = 1, precision?: 'f16', gridLimit?: number): FusedCase {
  tokens = batched(kernel) ? tokens : 1; // the one-token products see one
  const rows = 2 * outputs;
  return {
    name: `${label(kernel, dtype, precision)} main_glu ${act} 2x${outputs}x${cols}${batched(kernel) ? ` tokens=${tokens}` : ''}${gridName(gridLimit)} (vs CPU twin, and product + ${act} bit for bit)`,
    tol: { ...tolFor(cols, precision), atol: 10 * tolFor(cols, precision).atol }, // a product of two sums
    feature: featureOf(kernel, precision),
    async run(device, cache, rng) {
      const w = productWeights(kernel, dtype, rng, rows, cols);
      const { input, token } = await productInput(device, cache, kernel, rng, cols, tokens);
      const spec = { kernel, opts: { dtype, precision, constants: { COLS: cols, ACT: act === 'geglu' ? 1 : 0 } }, entry: 'main_glu' as const, rows, w: w.words, x: input, tokens, outs: [outputs], gridLimit };
      const got = await runProduct(device, cache, spec);
      // Unfused: the plain product, its gate and up halves, then the activation kernel.
      const sums = await runProduct(device, cache, { ...spec, entry: 'main', opts: { dtype, precision, constants: { COLS: cols, ...(batched(kernel) ? { OUT_STRIDE: rows } : {}) } }, outs: [rows] });
      const gate = new Float32Array(tokens * outputs), up = new Float32Array(tokens * outputs);
      for (let t = 0; t < tokens; t++) {
        gate.set(sums.subarray(t * rows, t * rows + outputs), t * outputs);
        up.set(sums.subarray(t * rows + outputs, (t + 1) * rows), t * outputs);
      }
      const gated = storage(device, gate);
      const unfused = f32(await runKernel(device, cache, 'glu', { constants: { N: gate.length, ACT: act === 'geglu' ? 1 : 0 } }, [gated, storage(device, up)], workgroups(gate.length), gated, gate.byteLength));
      assertSameBits('main_glu', got, unfused);
      const want = new Float32Array(tokens * outputs);
      for (let t = 0; t < tokens; t++) {
        const s = w.ref(token(t));
        const [g, u] = [s.subarray(0, outputs), s.subarray(outputs)];
        want.set(act === 'geglu' ? gegluRef(g, u) : swigluRef(g, u), t * outputs);
      }
      return { got, want };
    },
  };
}

/** A float product with NORM: equals rmsnorm.wgsl then the product bit for bit, and the CPU rmsnorm + product. */
function normCase(kernel: 'matvec' | 'matmul' | 'matvec-subgroup' | 'matvec-workgroup', dtype: WeightDType, rows: number, cols: number, tokens = 1, precision?: 'f16', entry: 'main' | 'main_qkv' = 'main'): FusedCase {
  tokens = batched(kernel) ? tokens : 1; // the one-token products see one
  const qkv: Record<string, number> = entry === 'main_qkv' ? { Q_ROWS: rows / 2, KV_ROWS: rows / 4 } : {};
  return {
    name: `${label(kernel, dtype, precision)} ${entry} NORM ${rows}x${cols}${batched(kernel) ? ` tokens=${tokens}` : ''} (vs CPU rmsnorm + product, and rmsnorm.wgsl + ${entry} bit for bit)`,
    tol: tolFor(cols, precision),
    feature: featureOf(kernel, precision),
    async run(device, cache, rng) {
      const w = productWeights(kernel, dtype, rng, rows, cols);
      const { input: x, token } = await productInput(device, cache, kernel, rng, cols, tokens);
      const norm = randomFloats(rng, cols).map((v) => 1 + v / 2);
      const place: Record<string, number> = batched(kernel) && entry === 'main' ? { OUT_STRIDE: rows } : {};
      const outs = entry === 'main_qkv' ? [rows / 2, rows / 4, rows / 4] : [rows];
      const spec = { kernel, opts: { dtype, precision, constants: { COLS: cols, ...place, ...qkv } }, entry, rows, w: w.words, x, tokens, outs };
      const got = await runProduct(device, cache, { ...spec, norm });
      const normed = await rmsnormOnGpu(device, cache, x as Float32Array, norm, cols);
      assertSameBits('NORM', got, await runProduct(device, cache, { ...spec, x: normed }));
      const want = new Float32Array(tokens * outs[0]!);
      for (let t = 0; t < tokens; t++) want.set(w.ref(rmsnormRef(token(t) as Float32Array, norm, EPS)).subarray(0, outs[0]!), t * outs[0]!);
      return { got, want };
    },
  };
}

/** quantize-q8 with NORM: the same words as rmsnorm.wgsl then quantize-q8, and as the CPU quantizer of the CPU norm. */
function quantizeNormCase(cols: number, tokens: number): FusedCase {
  return {
    name: `quantize-q8 NORM ${cols} tokens=${tokens} (vs rmsnorm.wgsl + quantize-q8 bit for bit, and the CPU twins)`,
    tol: { atol: 1e-6, rtol: 1e-5 },
    async run(device, cache, rng) {
      const x = randomFloats(rng, tokens * cols).map((v) => 3 * v);
      const norm = randomFloats(rng, cols).map((v) => 1 + v / 2);
      const got = await quantizeOnGpu(device, cache, x, cols, norm);
      assertSameBits('quantize-q8 NORM', got, await quantizeOnGpu(device, cache, await rmsnormOnGpu(device, cache, x, norm, cols), cols));
      // Compared as the values the blocks stand for (q · d), like q8-cases' quantizer case.
      const values = (words: Uint32Array) => {
        const out = new Float32Array((words.length / Q8_BLOCK_WORDS) * 32);
        for (let b = 0; b < words.length / Q8_BLOCK_WORDS; b++) {
          const d = new Float32Array(words.buffer, words.byteOffset + b * Q8_BLOCK_WORDS * 4, 1)[0]!;
          const q = new Int8Array(words.buffer, words.byteOffset + (b * Q8_BLOCK_WORDS + 2) * 4, 32);
          for (let i = 0; i < 32; i++) out[b * 32 + i] = q[i]! * d;
        }
        return out;
      };
      const want = new Uint32Array(got.length);
      for (let t = 0; t < tokens; t++) want.set(quantizeQ8Ref(rmsnormRef(x.subarray(t * cols, (t + 1) * cols), norm, EPS)), t * (cols / 32) * Q8_BLOCK_WORDS);
      return { got: values(got), want: values(want) };
    },
  };
}

/**
 * One type per way a product reads its weights: floats, a 32-element block, and the 256-element K-quants and
 * i-quants whose blocks differ most (the full list runs in the unfused cases).
 */
const SAMPLE_DTYPES = ['f32', 'q4_0', 'q6_k', 'q2_k', 'q3_k', 'iq4_nl', 'iq4_xs'] as const satisfies readonly WeightDType[];

export function fusedCases(): FusedCase[] {
  const cases: FusedCase[] = [];
  for (const kernel of ['matvec', 'matmul'] as const) {
    for (const dtype of SAMPLE_DTYPES) {
      const cols = weightLayouts[dtype].blockElements === 256 ? 512 : 96;
      cases.push(qkvCase(kernel, dtype, 64, 32, cols, 7), qkvCase(kernel, dtype, 6, 5, cols, 5)); // 6 + 5: a thread's rows span q, k and v
      cases.push(gluCase(kernel, dtype, 'swiglu', 72, cols, 6), gluCase(kernel, dtype, 'geglu', 37, cols, 3)); // 37: an odd last pair
      cases.push(normCase(kernel, dtype, 68, cols, 6));
    }
    cases.push(normCase(kernel, 'f32', 20, kernel === 'matvec' ? 130 : 132, 5)); // a row with a tail, read one by one (matmul: COLS a multiple of 4)
    cases.push(normCase(kernel, 'q4_0', 64, 96, 6, undefined, 'main_qkv'));
    cases.push(qkvCase(kernel, 'f16', 64, 32, 96, 5, 'f16'), gluCase(kernel, 'q4_0', 'swiglu', 40, 96, 5, 'f16'), normCase(kernel, 'f16', 68, 96, 5, 'f16'));
  }
  for (const kernel of ['matvec-q8', 'matmul-q8'] as const) {
    for (const dtype of ['q4_0', 'q8_0'] as const) {
      cases.push(qkvCase(kernel, dtype, 64, 32, 96, 7), qkvCase(kernel, dtype, 6, 5, 64, 5));
      cases.push(gluCase(kernel, dtype, 'swiglu', 72, 96, 6), gluCase(kernel, dtype, 'geglu', 37, 64, 3));
    }
  }
  // The GPU profile's 8-bit products (their walk is q8-cases.ts's): a workgroup's rows spanning q, k and v, and an
  // odd last pair of outputs (GeGLU: the activation is products.wgsl's, the same code as SwiGLU's but for ACT).
  for (const kernel of ['matvec-q8-subgroup', 'matvec-q8-workgroup'] as const) {
    cases.push(qkvCase(kernel, 'q4_0', 6, 5, 64), qkvCase(kernel, 'q8_0', 64, 32, 96), gluCase(kernel, 'q8_0', 'geglu', 37, 64));
  }
  // The GPU kernels, whose lanes share rows: the same entry points and NORM. matvec-subgroup in f32 arithmetic
  // only (SwiftShader has subgroups but not shader-f16, and a case names one feature); matvec-workgroup needs
  // no feature, so its f16 cases run wherever shader-f16 is.
  for (const kernel of ['matvec-subgroup', 'matvec-workgroup'] as const) {
    for (const dtype of SAMPLE_DTYPES) {
      const cols = weightLayouts[dtype].blockElements === 256 ? 512 : 96;
      cases.push(qkvCase(kernel, dtype, 64, 32, cols), qkvCase(kernel, dtype, 6, 5, cols));
      cases.push(gluCase(kernel, dtype, 'swiglu', 72, cols), gluCase(kernel, dtype, 'geglu', 37, cols));
      cases.push(normCase(kernel, dtype, 68, cols), normCase(kernel, dtype, 64, cols, 1, undefined, 'main_qkv'));
    }
    cases.push(normCase(kernel, 'f32', 20, 130));
    // 2-D grids (laid out under a lowered limit; lane-cases.ts has a real 65537-workgroup one): main_qkv's 136 rows
    // are 34 workgroups as 6 lines of 6, main_glu's 75 outputs 38 workgroups as 5 lines of 8.
    cases.push(qkvCase(kernel, 'q4_0', 72, 32, 96, 1, undefined, 6), gluCase(kernel, 'q6_k', 'swiglu', 75, 512, 1, undefined, 8));
  }
  cases.push(qkvCase('matvec-workgroup', 'f16', 64, 32, 96, 1, 'f16'), gluCase('matvec-workgroup', 'q4_0', 'swiglu', 40, 96, 1, 'f16'), normCase('matvec-workgroup', 'f16', 68, 96, 1, 'f16'));
  cases.push(gluCase('matvec-workgroup', 'q4_k', 'geglu', 37, 512, 1, 'f16'), normCase('matvec-workgroup', 'q4_0', 64, 96, 1, 'f16', 'main_qkv'));
  // matvec.wgsl and matvec-q8.wgsl (64 rows, 32 outputs, per workgroup) on 2-D grids: 3 workgroups as 2 lines of 2.
  cases.push(gluCase('matvec', 'q4_k', 'swiglu', 75, 512, 1, undefined, 2), qkvCase('matvec-q8', 'q4_0', 72, 48, 64, 1, undefined, 2));
  cases.push(quantizeNormCase(96, 1), quantizeNormCase(2048, 3));
  return cases;
}
