// Cases for matmul-tiled.wgsl, the GPU profile's prefill product (64 rows × 64 tokens a workgroup, tiles in
// workgroup memory): every weight dtype in f32 and f16 arithmetic, token counts around the 64-token tile (1, 3, 31,
// 64, 65, 130), float rows of odd length, a row block placed with OUT_STRIDE/ROW_START, the fused NORM, and the
// stacked entry points main_qkv and main_glu (SwiGLU and GeGLU), each against the CPU twins. The tiled sums are
// ordered differently from matvec's, so they are compared with the products' tolerances, not bit for bit. x holds
// exactly the batch (the kernel reads its capacity from it); out has room for a tile more, poisoned, which must
// stay untouched. Environment-agnostic like cases.ts.
import type { KernelCache } from '../../src/gpu/kernels';
import { workgroups } from '../../src/gpu/kernels';
import type { ProductEntryPoint, WeightDType } from '../../src/gpu/shaders';
import { alignedDTypes, weightDTypes, weightLayouts } from '../../src/gpu/quant-types';
import { matvecRef, rmsnormRef, swigluRef } from '../reference/kernels';
import { gegluRef } from '../reference/transformer-ops';
import { randomFloats, type Rng } from '../helpers/seeded';
import { testWeights, weights } from './test-weights';
import { runKernel, storage, uniformWords, type Tolerance } from './harness';

interface TiledCase {
  name: string;
  tol: Tolerance;
  feature?: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

const TILE = 64; // matmul-tiled.wgsl: rows (main_glu: 32 outputs) and tokens per workgroup
const EPS = 1e-5;
const POISON = 12345.5;
const U = 2 ** -11; // f16's unit roundoff

// f32: matvec's tolerance (cases.ts). f16: f16-cases.ts's (3·U·√COLS, rtol U: each step's 8 products are summed in
// f16 and carried into f32, as matvec's lanes do); a fused norm's scale and a gated product (two sums) get more.
const tolFor = (cols: number, precision?: 'f16', wide = 1): Tolerance =>
  precision === 'f16' ? { atol: wide * 3 * U * Math.sqrt(cols), rtol: wide * U } : { atol: wide * 1e-6 * Math.sqrt(cols), rtol: wide * 1e-5 };

type Shape =
  | { entry: 'main'; rows: number; rowStart?: number }
  | { entry: 'main_qkv'; qRows: number; kvRows: number }
  | { entry: 'main_glu'; outputs: number; act: 'swiglu' | 'geglu' };

interface Spec { dtype: WeightDType; cols: number; tokens: number; shape: Shape; precision?: 'f16'; norm?: boolean }

const rowsOf = (s: Shape) => (s.entry === 'main' ? s.rows : s.entry === 'main_qkv' ? s.qRows + 2 * s.kvRows : 2 * s.outputs);

function describe({ dtype, cols, tokens, shape, precision, norm }: Spec): string {
  const what = shape.entry === 'main' ? `main ${shape.rows}x${cols}${shape.rowStart ? ` row_start=${shape.rowStart}` : ''}`
    : shape.entry === 'main_qkv' ? `main_qkv ${shape.qRows}+${shape.kvRows}+${shape.kvRows}x${cols}` : `main_glu ${shape.act} 2x${shape.outputs}x${cols}`;
  return `matmul-tiled ${dtype}${precision ? ' f16-math' : ''} ${what}${norm ? ' NORM' : ''} tokens=${tokens} (vs CPU twin)`;
}

/** Runs the kernel and returns each token's outputs [tokens, per] concatenated (q | k | v for main_qkv), checking the poison. */
async function runTiled(device: GPUDevice, cache: KernelCache, spec: Spec, w: Float32Array | Uint32Array, x: Float32Array, normWeight: Float32Array | null): Promise<Float32Array> {
  const { dtype, cols, tokens, shape, precision } = spec;
  const rows = rowsOf(shape);
  const widths = shape.entry === 'main' ? [rows + (shape.rowStart ?? 0)] : shape.entry === 'main_qkv' ? [shape.qRows, shape.kvRows, shape.kvRows] : [shape.outputs];
  // Room for a whole tile of tokens more than the batch: the kernel must not write past its capacity.
  const outs = widths.map((n) => storage(device, new Float32Array((tokens + TILE) * n).fill(POISON)));
  const constants: Record<string, number> = { ROWS: rows, COLS: cols };
  if (shape.entry === 'main') Object.assign(constants, { OUT_STRIDE: widths[0]!, ROW_START: shape.rowStart ?? 0 });
  if (shape.entry === 'main_qkv') Object.assign(constants, { Q_ROWS: shape.qRows, KV_ROWS: shape.kvRows });
  if (shape.entry === 'main_glu') constants.ACT = shape.act === 'geglu' ? 1 : 0;
  if (normWeight) Object.assign(constants, { NORM: 1, EPS });
  const xBuffer = storage(device, x);
  // main_qkv's epilogue bindings (common/products.wgsl; epilogue-cases.ts runs them): bias, cos/sin, step, unused here.
  const epilogue = shape.entry === 'main_qkv' ? [xBuffer, xBuffer, uniformWords(device, [0])] : [];
  const groups = shape.entry === 'main_glu' ? workgroups(shape.outputs, TILE / 2) : workgroups(rows, TILE);
  const read = await Promise.all(outs.map(async (out, i) => new Float32Array(await runKernel(device, cache, 'matmul-tiled',
    { dtype, precision, constants, entryPoint: shape.entry as ProductEntryPoint },
    [storage(device, w), xBuffer, outs[0]!, normWeight ? storage(device, normWeight) : xBuffer, ...outs.slice(1), ...epilogue],
    [groups, Math.ceil(tokens / TILE)], out, (tokens + TILE) * widths[i]! * 4))));
  for (const [i, values] of read.entries()) {
    const from = tokens * widths[i]!;
    const touched = values.findIndex((v, k) => k >= from && v !== POISON);
    if (touched >= 0) throw new Error(`output ${i}: element ${touched} past the batch's ${tokens} tokens was written (${values[touched]})`);
  }
  const per = widths.reduce((a, b) => a + b, 0);
  const got = new Float32Array(tokens * per);
  for (let t = 0; t < tokens; t++) {
    let at = t * per;
    for (const [i, values] of read.entries()) {
      got.set(values.subarray(t * widths[i]!, (t + 1) * widths[i]!), at);
      at += widths[i]!;
    }
  }
  if (shape.entry === 'main' && shape.rowStart) {
    // The columns before the row block stay untouched.
    for (let t = 0; t < tokens; t++) {
      if (got.subarray(t * per, t * per + shape.rowStart).some((v) => v !== POISON)) throw new Error(`token ${t}: a column before ROW_START was written`);
    }
  }
  return got;
}

function tiledCase(spec: Spec): TiledCase {
  const { dtype, cols, tokens, shape, precision, norm } = spec;
  const rows = rowsOf(shape);
  return {
    name: describe(spec),
    tol: tolFor(cols, precision, (norm ? 2 : 1) * (shape.entry === 'main_glu' ? 10 : 1)),
    feature: precision === 'f16' ? 'shader-f16' : undefined,
    async run(device, cache, rng) {
      const w = weights(testWeights(rng, rows * cols, dtype), dtype);
      const x = randomFloats(rng, tokens * cols).map((v) => (norm ? 3 * v : v));
      const normWeight = norm ? randomFloats(rng, cols).map((v) => 1 + v / 2) : null;
      const got = await runTiled(device, cache, spec, w.data, x, normWeight);
      const per = shape.entry === 'main' ? rows + (shape.rowStart ?? 0) : shape.entry === 'main_glu' ? shape.outputs : rows;
      const want = new Float32Array(tokens * per);
      for (let t = 0; t < tokens; t++) {
        const xt = x.subarray(t * cols, (t + 1) * cols);
        const sums = matvecRef(w.seen, normWeight ? rmsnormRef(xt, normWeight, EPS) : xt, rows, cols);
        if (shape.entry === 'main_glu') {
          const [g, u] = [sums.subarray(0, shape.outputs), sums.subarray(shape.outputs)];
          want.set(shape.act === 'geglu' ? gegluRef(g, u) : swigluRef(g, u), t * per);
        } else if (shape.entry === 'main') {
          want.fill(POISON, t * per, t * per + (shape.rowStart ?? 0));
          want.set(sums, t * per + (shape.rowStart ?? 0));
        } else {
          want.set(sums, t * per);
        }
      }
      return { got, want };
    },
  };
}

const TOKEN_COUNTS = [1, 3, 31, 64, 65, 130] as const;

export function tiledCases(): TiledCase[] {
  const cases: TiledCase[] = [];
  // Every dtype in both arithmetics, over rows that end past a 64-row tile and the token counts in turn.
  for (const [i, dtype] of [...weightDTypes, ...alignedDTypes].entries()) {
    const cols = Math.max(64, 2 * weightLayouts[dtype].blockElements);
    for (const [p, precision] of ([undefined, 'f16'] as const).entries()) {
      cases.push(tiledCase({ dtype, cols, tokens: TOKEN_COUNTS[(i + 3 * p) % TOKEN_COUNTS.length]!, shape: { entry: 'main', rows: 70 }, precision }));
    }
  }
  // Float rows of any length: odd (element by element), a multiple of 4 but not 8 (a partial last step).
  for (const precision of [undefined, 'f16'] as const) {
    cases.push(
      tiledCase({ dtype: 'f32', cols: 7, tokens: 3, shape: { entry: 'main', rows: 70 }, precision }),
      tiledCase({ dtype: 'f16', cols: 37, tokens: 65, shape: { entry: 'main', rows: 33 }, precision }),
      tiledCase({ dtype: 'bf16', cols: 13, tokens: 31, shape: { entry: 'main', rows: 20 }, precision }),
      tiledCase({ dtype: 'f32', cols: 100, tokens: 64, shape: { entry: 'main', rows: 129 }, precision }),
      tiledCase({ dtype: 'f32', cols: 1000, tokens: 130, shape: { entry: 'main', rows: 64 }, precision }),
    );
  }
  cases.push(tiledCase({ dtype: 'q4_k', cols: 256, tokens: 9, shape: { entry: 'main', rows: 64, rowStart: 128 } }));
  // NORM, the stacked entry points, both arithmetics.
  for (const precision of [undefined, 'f16'] as const) {
    cases.push(
      tiledCase({ dtype: 'f32', cols: 132, tokens: 65, shape: { entry: 'main', rows: 68 }, precision, norm: true }),
      tiledCase({ dtype: 'f32', cols: 33, tokens: 3, shape: { entry: 'main', rows: 20 }, precision, norm: true }),
      tiledCase({ dtype: 'q4_0', cols: 96, tokens: 130, shape: { entry: 'main', rows: 64 }, precision, norm: true }),
      tiledCase({ dtype: 'q6_k', cols: 512, tokens: 31, shape: { entry: 'main_qkv', qRows: 64, kvRows: 32 }, precision, norm: true }),
      tiledCase({ dtype: 'q4_k', cols: 256, tokens: 65, shape: { entry: 'main_qkv', qRows: 64, kvRows: 32 }, precision }),
      tiledCase({ dtype: 'q8_0', cols: 96, tokens: 3, shape: { entry: 'main_qkv', qRows: 6, kvRows: 5 }, precision }), // a thread's rows span q, k and v
      tiledCase({ dtype: 'q4_0', cols: 96, tokens: 64, shape: { entry: 'main_glu', outputs: 72, act: 'swiglu' }, precision }),
      tiledCase({ dtype: 'iq4_xs', cols: 256, tokens: 130, shape: { entry: 'main_glu', outputs: 37, act: 'geglu' }, precision, norm: true }), // an odd last pair
      tiledCase({ dtype: 'f16', cols: 96, tokens: 1, shape: { entry: 'main_glu', outputs: 40, act: 'swiglu' }, precision }),
    );
  }
  return cases;
}
