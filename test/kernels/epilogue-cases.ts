// Cases for the weight products' epilogues (common/products.wgsl): RESIDUAL (main: out += W x, the o and down
// products' residual add), main_bias with GELU and RESIDUAL (a single product's bias, the ungated FFN's gelu) and
// main_qkv's BIAS, ROPE (normal and NeoX pairs, partial rotary dims) and KV_CACHE (k and v rows straight into the
// caches at the step's position, nothing past CACHE_ROWS). Each is compared bit for bit, inside the case, with the
// dispatches the model runs where it cannot fuse (the plain product, add.wgsl, gelu.wgsl, rope.wgsl, the copy into
// the cache), and with its CPU twin within the product's tolerance (rope's angles: f64 on the CPU, the f32 table on
// the GPU), in the one-token, batched, lane (subgroup, workgroup), tiled and 8-bit forms.
// Environment-agnostic like cases.ts.
import { workgroups, type KernelCache } from '../../src/gpu/kernels';
import type { WeightDType } from '../../src/gpu/shaders';
import { randomFloats, type Rng } from '../helpers/seeded';
import { ropeRef, ropeTableRef } from '../reference/kernels';
import { gelu } from '../reference/transformer-ops';
import { stackRanges } from '../../src/model/memory';
import { runKernel, storage, uniformWords } from './harness';
import { assertSameBits, batched, featureOf, label, lanes, productInput, productWeights, q8, tolFor, type FusedCase, type Product } from './fused-cases';

/** The products with epilogues: fused-cases.ts's, and matmul-tiled.wgsl (the GPU profile's prefill product). */
export type Kernel = Product | 'matmul-tiled';

const TILE = 4;
const TILED_TOKENS = 64; // matmul-tiled.wgsl: tokens (and rows) per workgroup
export const FREQ_BASE = 10000;
const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);
/** The product whose weights and input a kernel reads: matmul-tiled reads matmul's (x of whole TILEs of tokens, its capacity). */
export const like = (kernel: Kernel): Product => (kernel === 'matmul-tiled' ? 'matmul' : kernel);
export const padOf = (kernel: Kernel, tokens: number) => (batched(like(kernel)) ? Math.ceil(tokens / TILE) * TILE : 1);
export const gridOf = (kernel: Kernel, rows: number, padded: number) => {
  if (kernel === 'matmul-tiled') return [workgroups(rows, TILED_TOKENS), Math.ceil(padded / TILED_TOKENS)] as const;
  const groups = workgroups(rows, lanes(kernel) ? 4 : 64);
  return batched(kernel) ? [groups, padded / TILE] as const : groups;
};
const feature = (kernel: Kernel) => (kernel === 'matmul-tiled' ? undefined : featureOf(kernel));
export const nameOf = (kernel: Kernel, dtype: WeightDType) => (kernel === 'matmul-tiled' ? `matmul-tiled ${dtype}` : label(kernel, dtype));

/** The tolerance of a product followed by epilogue arithmetic (bias, gelu, rope, residual): the product's, doubled. */
export const epilogueTol = (cols: number) => ({ atol: 2 * tolFor(cols).atol + 1e-6, rtol: 2e-5 });

/** A case's product with a bias: its padded token count, weights, input and bias, drawn from rng in that order. */
async function biasedProduct(device: GPUDevice, cache: KernelCache, rng: Rng, kernel: Kernel, dtype: WeightDType, rows: number, cols: number, tokens: number) {
  const padded = padOf(kernel, tokens);
  const w = productWeights(like(kernel), dtype, rng, rows, cols);
  const { input, token } = await productInput(device, cache, like(kernel), rng, cols, tokens);
  return { padded, w, input, token, bias: randomFloats(rng, rows) };
}

/** main with RESIDUAL: out (holding r) becomes r + W x, bit for bit the product then add.wgsl, and r + the CPU product. */
function residualCase(kernel: Kernel, dtype: WeightDType, rows: number, cols: number, tokens: number): FusedCase {
  const many = batched(like(kernel));
  tokens = many ? tokens : 1;
  return {
    name: `${nameOf(kernel, dtype)} main RESIDUAL ${rows}x${cols}${many ? ` tokens=${tokens}` : ''} (vs CPU twin, and main + add.wgsl bit for bit)`,
    tol: tolFor(cols), feature: feature(kernel),
    async run(device, cache, rng) {
      const padded = padOf(kernel, tokens);
      const w = productWeights(like(kernel), dtype, rng, rows, cols);
      const { input, token } = await productInput(device, cache, like(kernel), rng, cols, tokens);
      const residual = randomFloats(rng, padded * rows);
      const product = async (constants: Record<string, number>, out: GPUBuffer) => {
        const x = storage(device, input);
        return f32(await runKernel(device, cache, kernel, { dtype, constants: { ROWS: rows, COLS: cols, ...(many ? { OUT_STRIDE: rows } : {}), ...constants }, entryPoint: 'main' },
          [storage(device, w.words), x, out, q8(like(kernel)) ? null : x], gridOf(kernel, rows, padded), out, 4 * tokens * rows));
      };
      const got = await product({ RESIDUAL: 1 }, storage(device, residual));
      const sums = await product({}, storage(device, 4 * padded * rows));
      const x = storage(device, residual);
      const n = tokens * rows;
      assertSameBits('RESIDUAL', got, f32(await runKernel(device, cache, 'add', { constants: { N: n } }, [x, storage(device, sums)], workgroups(n), x, 4 * n)));
      const want = new Float32Array(n);
      for (let t = 0; t < tokens; t++) w.ref(token(t)).forEach((v, r) => { want[t * rows + r] = residual[t * rows + r]! + v; });
      return { got, want };
    },
  };
}

/**
 * main_bias with GELU and RESIDUAL, every epilogue of a single product in one pipeline: out (holding r) becomes
 * r + gelu(W x + b), bit for bit the plain product, add.wgsl (the bias), gelu.wgsl and add.wgsl (the residual), and
 * within tolerance the CPU twin.
 */
function biasCase(kernel: Kernel, dtype: WeightDType, rows: number, cols: number, tokens: number): FusedCase {
  const many = batched(like(kernel));
  tokens = many ? tokens : 1;
  return {
    name: `${nameOf(kernel, dtype)} main_bias GELU RESIDUAL ${rows}x${cols}${many ? ` tokens=${tokens}` : ''} (vs CPU twin, and the unfused dispatches bit for bit)`,
    tol: epilogueTol(cols), feature: feature(kernel),
    async run(device, cache, rng) {
      const { padded, w, input, token, bias } = await biasedProduct(device, cache, rng, kernel, dtype, rows, cols, tokens);
      const residual = randomFloats(rng, padded * rows);
      const n = tokens * rows;
      const product = async (entryPoint: 'main' | 'main_bias', constants: Record<string, number>, out: GPUBuffer) => {
        const x = storage(device, input);
        return f32(await runKernel(device, cache, kernel, { dtype, constants: { ROWS: rows, COLS: cols, ...(many ? { OUT_STRIDE: rows } : {}), ...constants }, entryPoint },
          [storage(device, w.words), x, out, q8(like(kernel)) ? null : x, null, null, entryPoint === 'main_bias' ? storage(device, bias) : null],
          gridOf(kernel, rows, padded), out, 4 * n));
      };
      const got = await product('main_bias', { GELU: 1, RESIDUAL: 1 }, storage(device, residual));

      // Unfused: the plain product; the bias (add.wgsl); gelu.wgsl; the residual add (add.wgsl).
      const sums = storage(device, await product('main', {}, storage(device, 4 * padded * rows)));
      const biased = storage(device, f32(await runKernel(device, cache, 'add', { constants: { N: n, B_LEN: rows } }, [sums, storage(device, bias)], workgroups(n), sums, 4 * n)));
      const activated = storage(device, f32(await runKernel(device, cache, 'gelu', { constants: { N: n } }, [biased], workgroups(n), biased, 4 * n)));
      const x = storage(device, residual);
      assertSameBits('main_bias GELU RESIDUAL', got, f32(await runKernel(device, cache, 'add', { constants: { N: n } }, [x, activated], workgroups(n), x, 4 * n)));

      const want = new Float32Array(n);
      for (let t = 0; t < tokens; t++) w.ref(token(t)).forEach((v, r) => { want[t * rows + r] = residual[t * rows + r]! + gelu(v + bias[r]!); });
      return { got, want };
    },
  };
}

export interface QkvShape { heads: number; kvHeads: number; headDim: number; rotDim: number; neox: boolean }

/**
 * main_qkv with BIAS, ROPE and KV_CACHE at position `pos`, caches of CACHE_ROWS = pos + tokens rows (the tile's
 * padding tokens fall past them: not written): q and the caches' rows bit for bit as the plain main_qkv, add.wgsl
 * (each bias), rope.wgsl (q, k) and the copy of k and v into the caches; every other cache row unchanged.
 */
function qkvEpilogueCase(kernel: Kernel, dtype: WeightDType, s: QkvShape, cols: number, tokens: number, pos: number): FusedCase {
  const many = batched(like(kernel));
  tokens = many ? tokens : 1;
  const [qRows, kvRows] = [s.heads * s.headDim, s.kvHeads * s.headDim];
  const rows = qRows + 2 * kvRows;
  const cacheRows = pos + tokens;
  const shape = `heads ${s.heads}/${s.kvHeads}x${s.headDim} ${s.neox ? 'neox' : 'norm'} rot ${s.rotDim}`;
  return {
    name: `${nameOf(kernel, dtype)} main_qkv BIAS ROPE KV_CACHE ${shape} cols ${cols} pos ${pos}${many ? ` tokens=${tokens}` : ''} (vs CPU twin, and the unfused dispatches bit for bit)`,
    tol: epilogueTol(cols), feature: feature(kernel),
    async run(device, cache, rng) {
      const { padded, w, input, token, bias } = await biasedProduct(device, cache, rng, kernel, dtype, rows, cols, tokens);
      const table = ropeTableRef(cacheRows + TILE, s.rotDim, FREQ_BASE);
      const cacheInit = randomFloats(rng, (cacheRows + TILE) * kvRows); // rows past CACHE_ROWS too: they must stay
      const base = { ROWS: rows, COLS: cols, Q_ROWS: qRows, KV_ROWS: kvRows };
      const fused = { ...base, BIAS: 1, ROPE: s.neox ? 2 : 1, HEAD_DIM: s.headDim, ROT_DIM: s.rotDim, KV_CACHE: 1, CACHE_ROWS: cacheRows };
      const run = async (constants: Record<string, number>, outs: GPUBuffer[], read: number, bytes: number) => {
        const x = storage(device, input);
        return f32(await runKernel(device, cache, kernel, { dtype, constants, entryPoint: 'main_qkv' },
          [storage(device, w.words), x, outs[0]!, q8(like(kernel)) ? null : x, outs[1]!, outs[2]!, storage(device, bias), storage(device, table), uniformWords(device, [pos])],
          gridOf(kernel, rows, padded), outs[read]!, bytes));
      };
      const fusedOuts = () => [storage(device, 4 * padded * qRows), storage(device, cacheInit), storage(device, cacheInit)];
      const got = [await run(fused, fusedOuts(), 0, 4 * tokens * qRows), await run(fused, fusedOuts(), 1, cacheInit.byteLength), await run(fused, fusedOuts(), 2, cacheInit.byteLength)];

      // Unfused: the plain product into q, k, v; each bias (add.wgsl); rope.wgsl on q and k; k and v into the caches.
      const plainOuts = () => [storage(device, 4 * padded * qRows), storage(device, 4 * padded * kvRows), storage(device, 4 * padded * kvRows)];
      const parts = await Promise.all([0, 1, 2].map((i) => run(base, plainOuts(), i, 4 * tokens * (i === 0 ? qRows : kvRows))));
      const unfused: Float32Array[] = [];
      for (const [i, part] of parts.entries()) {
        const [n, start] = i === 0 ? [qRows, 0] : [kvRows, qRows + (i - 1) * kvRows];
        const a = storage(device, part!);
        let v = f32(await runKernel(device, cache, 'add', { constants: { N: tokens * n, B_LEN: n } }, [a, storage(device, bias.slice(start, start + n))], workgroups(tokens * n), a, 4 * tokens * n));
        if (i < 2) {
          const heads = i === 0 ? s.heads : s.kvHeads;
          const xr = storage(device, v);
          v = f32(await runKernel(device, cache, 'rope', { constants: { N_HEADS: heads, HEAD_DIM: s.headDim, ROT_DIM: s.rotDim, NEOX: s.neox ? 1 : 0 } },
            [uniformWords(device, [pos]), xr, storage(device, table)], [workgroups((heads * s.rotDim) / 2), tokens], xr, 4 * tokens * n));
        }
        if (i === 0) unfused.push(v);
        else { const c = cacheInit.slice(); c.set(v, pos * kvRows); unfused.push(c); }
      }
      for (const i of [0, 1, 2]) assertSameBits(['q', 'k cache', 'v cache'][i]!, got[i]!, unfused[i]!);

      // The CPU twin: q, then the k and v cache rows [pos, pos + tokens) (every other row is compared above).
      const want: number[] = [];
      const cpu = [...Array(tokens).keys()].map((t) => {
        const y = w.ref(token(t)).map((v, r) => v + bias[r]!);
        const rope = (heads: number, v: Float32Array) => ropeRef(v, pos + t, { nHeads: heads, headDim: s.headDim, rotDim: s.rotDim, neox: s.neox, freqBase: FREQ_BASE });
        return [rope(s.heads, y.slice(0, qRows)), rope(s.kvHeads, y.slice(qRows, qRows + kvRows)), y.slice(qRows + kvRows)];
      });
      for (const i of [0, 1, 2]) for (const t of cpu) want.push(...t[i]!);
      const gotRows = [got[0]!, got[1]!.subarray(pos * kvRows, cacheRows * kvRows), got[2]!.subarray(pos * kvRows, cacheRows * kvRows)];
      return { got: gotRows.flatMap((a) => [...a]), want };
    },
  };
}

/** What the model runs after a plain q, k or v product [tokens, n]: add.wgsl (its bias), then rope.wgsl for q and k. */
async function biasThenRope(device: GPUDevice, cache: KernelCache, sums: Float32Array, bias: Float32Array,
  rope: { heads: number; s: QkvShape; pos: number; table: Float32Array } | null): Promise<Float32Array> {
  const n = bias.length;
  const a = storage(device, sums);
  const v = f32(await runKernel(device, cache, 'add', { constants: { N: sums.length, B_LEN: n } }, [a, storage(device, bias)], workgroups(sums.length), a, sums.byteLength));
  if (!rope) return v;
  const { heads, s } = rope;
  const xr = storage(device, v);
  return f32(await runKernel(device, cache, 'rope', { constants: { N_HEADS: heads, HEAD_DIM: s.headDim, ROT_DIM: s.rotDim, NEOX: s.neox ? 1 : 0 } },
    [uniformWords(device, [rope.pos]), xr, storage(device, rope.table)], [workgroups((heads * s.rotDim) / 2), sums.length / n], xr, sums.byteLength));
}

/**
 * A layer whose q, k and v are not all of one type: its matrices, `stacks` projections each in [q, k, v] order (2+1:
 * a [q; k] stack and v alone, Q4_K_M's Q6_K attn_v; 1+2; 1+1+1), each a main_qkv (its rows' Q_ROWS and KV_ROWS, 0
 * for a part it lacks) with BIAS, ROPE and KV_CACHE into the same q and caches. q and the caches bit for bit as each
 * matrix's plain product (main), add.wgsl (each bias), rope.wgsl (q, k) and the copy of k and v into the caches,
 * every other cache row unchanged; the rows written within tolerance of the CPU twin.
 */
function qkvStacksCase(kernel: Kernel, dtype: WeightDType, stacks: number[], s: QkvShape, cols: number, tokens: number, pos: number): FusedCase {
  const many = batched(like(kernel));
  tokens = many ? tokens : 1;
  const partRows = [s.heads * s.headDim, s.kvHeads * s.headDim, s.kvHeads * s.headDim];
  const kvRows = partRows[1]!;
  const cacheRows = pos + tokens;
  const shape = `heads ${s.heads}/${s.kvHeads}x${s.headDim} ${s.neox ? 'neox' : 'norm'} rot ${s.rotDim}`;
  // Each matrix's projections [first, first + n) and its rows.
  const matrices = stackRanges(stacks).map(({ first, end }) => {
    const held = [0, 1, 2].map((j) => (j >= first && j < end ? partRows[j]! : 0));
    return { first, n: end - first, held, rows: held.reduce((a, b) => a + b, 0) };
  });
  return {
    name: `${nameOf(kernel, dtype)} main_qkv stacks ${stacks.join('+')} BIAS ROPE KV_CACHE ${shape} cols ${cols} pos ${pos}${many ? ` tokens=${tokens}` : ''} (vs CPU twin, and main and the unfused dispatches bit for bit)`,
    tol: epilogueTol(cols), feature: feature(kernel),
    async run(device, cache, rng) {
      const padded = padOf(kernel, tokens);
      const { input, token } = await productInput(device, cache, like(kernel), rng, cols, tokens);
      const table = ropeTableRef(cacheRows + TILE, s.rotDim, FREQ_BASE);
      const cacheInit = randomFloats(rng, (cacheRows + TILE) * kvRows); // rows past CACHE_ROWS too: they must stay
      const parts = matrices.map((m) => ({ ...m, w: productWeights(like(kernel), dtype, rng, m.rows, cols), bias: randomFloats(rng, m.rows) }));
      const product = async (m: (typeof parts)[number], constants: Record<string, number>, entryPoint: 'main' | 'main_qkv', outs: GPUBuffer[], read: GPUBuffer, bytes: number) => {
        const x = storage(device, input);
        const epilogue = entryPoint === 'main_qkv' ? [outs[1]!, outs[2]!, storage(device, m.bias), storage(device, table), uniformWords(device, [pos])] : [];
        return f32(await runKernel(device, cache, kernel, { dtype, constants: { ROWS: m.rows, COLS: cols, ...constants }, entryPoint },
          [storage(device, m.w.words), x, outs[0]!, q8(like(kernel)) ? null : x, ...epilogue], gridOf(kernel, m.rows, padded), read, bytes));
      };
      // Fused: every matrix's main_qkv in turn on one q and one pair of caches (each run's q, k and v read back:
      // the harness frees a run's buffers), a matrix writing only its own rows.
      let got = [new Float32Array(padded * partRows[0]!), cacheInit, cacheInit];
      for (const m of parts) {
        const constants = { Q_ROWS: m.held[0]!, KV_ROWS: m.held[1]!, BIAS: 1, ROPE: s.neox ? 2 : 1, HEAD_DIM: s.headDim, ROT_DIM: s.rotDim, KV_CACHE: 1, CACHE_ROWS: cacheRows };
        const after: Float32Array[] = [];
        for (const read of [0, 1, 2]) {
          const outs = got.map((init) => storage(device, init));
          after.push(await product(m, constants, 'main_qkv', outs, outs[read]!, got[read]!.byteLength));
        }
        got = after;
      }
      got[0] = got[0]!.subarray(0, tokens * partRows[0]!);

      // Unfused: each matrix's plain product, split into its projections; each bias (add.wgsl); rope.wgsl on q and k; k and v into the caches.
      const unfused: Float32Array[] = [new Float32Array(), cacheInit.slice(), cacheInit.slice()];
      for (const m of parts) {
        const out = storage(device, 4 * padded * m.rows);
        const sums = await product(m, many ? { OUT_STRIDE: m.rows } : {}, 'main', [out], out, 4 * tokens * m.rows);
        let start = 0;
        for (let j = m.first; j < m.first + m.n; start += partRows[j++]!) {
          const n = partRows[j]!;
          const own = new Float32Array(tokens * n);
          for (let t = 0; t < tokens; t++) own.set(sums.subarray(t * m.rows + start, t * m.rows + start + n), t * n);
          const v = await biasThenRope(device, cache, own, m.bias.slice(start, start + n), j < 2 ? { heads: j === 0 ? s.heads : s.kvHeads, s, pos, table } : null);
          if (j === 0) unfused[0] = v;
          else unfused[j]!.set(v, pos * kvRows);
        }
      }
      for (const i of [0, 1, 2]) assertSameBits(['q', 'k cache', 'v cache'][i]!, got[i]!, unfused[i]!);

      // The CPU twin: q, then the k and v cache rows [pos, pos + tokens).
      const want: number[][] = [[], [], []];
      for (let t = 0; t < tokens; t++) {
        for (const m of parts) {
          const y = m.w.ref(token(t)).map((v, r) => v + m.bias[r]!);
          let start = 0;
          for (let j = m.first; j < m.first + m.n; start += partRows[j++]!) {
            const own = y.slice(start, start + partRows[j]!);
            const heads = j === 0 ? s.heads : s.kvHeads;
            want[j]!.push(...(j < 2 ? ropeRef(own, pos + t, { nHeads: heads, headDim: s.headDim, rotDim: s.rotDim, neox: s.neox, freqBase: FREQ_BASE }) : own));
          }
        }
      }
      const gotRows = [got[0]!, got[1]!.subarray(pos * kvRows, cacheRows * kvRows), got[2]!.subarray(pos * kvRows, cacheRows * kvRows)];
      return { got: gotRows.flatMap((a) => [...a]), want: want.flat() };
    },
  };
}

export const SHAPES: QkvShape[] = [
  { heads: 4, kvHeads: 2, headDim: 8, rotDim: 8, neox: false },
  { heads: 2, kvHeads: 2, headDim: 6, rotDim: 4, neox: false }, // heads of 6: a thread's four rows span two heads
  { heads: 4, kvHeads: 2, headDim: 8, rotDim: 8, neox: true },
  { heads: 2, kvHeads: 1, headDim: 16, rotDim: 8, neox: true }, // partial NeoX: the rows past ROT_DIM in plain groups
];

export function epilogueCases(): FusedCase[] {
  const cases: FusedCase[] = [];
  const products: [Kernel, WeightDType][] = [
    ['matvec', 'f32'], ['matvec', 'q4_0'], ['matmul', 'f32'], ['matmul', 'q4_0'], ['matvec-subgroup', 'q4_0'], ['matvec-workgroup', 'q4_0'],
    ['matmul-tiled', 'f32'], ['matmul-tiled', 'q4_0'], ['matvec-q8', 'q4_0'], ['matmul-q8', 'q8_0'],
  ];
  for (const [kernel, dtype] of products) {
    cases.push(residualCase(kernel, dtype, 72, 96, 6), biasCase(kernel, dtype, 72, 96, 6)); // the same plain product: compiled once
    for (const s of SHAPES) cases.push(qkvEpilogueCase(kernel, dtype, s, 96, 5, 3));
  }
  cases.push(qkvEpilogueCase('matvec', 'q6_k', SHAPES[3]!, 256, 1, 0), qkvEpilogueCase('matmul', 'q6_k', SHAPES[2]!, 256, 7, 9));
  // The GPU profile's 8-bit products: the residual add, main_bias, and main_qkv's epilogue with NeoX pairs (qkv_rows' other rows).
  for (const kernel of ['matvec-q8-subgroup', 'matvec-q8-workgroup'] as const) cases.push(residualCase(kernel, 'q4_0', 72, 96, 1), biasCase(kernel, 'q4_0', 72, 96, 1), qkvEpilogueCase(kernel, 'q8_0', SHAPES[3]!, 96, 1, 3));
  // Rows of two blocks of 8-bit products: fully unrolled sums, whose last addition the compiler would otherwise
  // reassociate with the epilogue's (common/products.wgsl's finished); 66 rows: the last group's bias reads stay in bounds.
  for (const kernel of ['matvec-q8', 'matmul-q8'] as const) cases.push(residualCase(kernel, 'q8_0', 64, 64, 5), biasCase(kernel, 'q4_0', 66, 64, 5));
  // Mixed types. Chromium runs the first one-token and the first batched case (caseShape): matvec-workgroup's (the
  // GPU profile's without subgroups) and matmul's (matmul-tiled compiles for seconds on SwiftShader, which runs the
  // software profile; its own row grouping is its whole-stack cases').
  const first: [Kernel, WeightDType][] = [['matvec-workgroup', 'q4_0'], ['matmul', 'q4_0']];
  const stacksOn = [...first, ...products.filter(([k, t]) => !first.some(([fk, ft]) => fk === k && ft === t) && !(k === 'matmul-tiled' && t === 'f32'))];
  for (const [kernel, dtype] of stacksOn) {
    cases.push(qkvStacksCase(kernel, dtype, [2, 1], SHAPES[2]!, 96, 5, 3), qkvStacksCase(kernel, dtype, [1, 1, 1], SHAPES[0]!, 96, 5, 3));
  }
  cases.push(qkvStacksCase('matvec-q8-subgroup', 'q8_0', [2, 1], SHAPES[2]!, 96, 1, 3), qkvStacksCase('matvec', 'q6_k', [1, 2], SHAPES[3]!, 256, 1, 0), qkvStacksCase('matmul-tiled', 'q6_k', [2, 1], SHAPES[1]!, 256, 70, 9));
  // matmul-tiled over two tiles of tokens (64 a workgroup), its last one partial.
  cases.push(residualCase('matmul-tiled', 'q6_k', 72, 256, 67), qkvEpilogueCase('matmul-tiled', 'q6_k', SHAPES[2]!, 256, 70, 9));
  return cases;
}
