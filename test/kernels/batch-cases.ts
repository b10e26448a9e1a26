// Cases for the kernels over a batch of tokens (prompt prefill): matmul.wgsl in every weight dtype, and
// the batched forms of embedding, learned positions, rope, attention (causal within the batch), layer
// norm and the broadcast bias add. The CPU twins are the single-token references applied token by token.
// Environment-agnostic like cases.ts.
import type { KernelCache } from '../../src/gpu/kernels';
import { workgroups } from '../../src/gpu/kernels';
import type { WeightDType } from '../../src/gpu/shaders';
import { alignedDTypes, weightDTypes, weightLayouts } from '../../src/gpu/quant-types';
import { weights } from './test-weights';
import { attentionRef, embeddingRef, matvecRef, ropeRef, ropeTableRef, type AttentionShape, type RopeShape } from '../reference/kernels';
import { layernormRef, positionRef } from '../reference/transformer-ops';
import { randomFloats, randomInt, type Rng } from '../helpers/seeded';
import { EXACT, productBindings, runAttention, runKernel, storage, uniformWords, type Tolerance } from './harness';

interface BatchCase {
  name: string;
  tol: Tolerance;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

/** matmul.wgsl's TILE: its buffers hold a whole number of tiles of token rows. */
const TILE = 4;
const tiles = (tokens: number) => Math.ceil(tokens / TILE);

// Same error model as the single-token kernels (cases.ts): matmul sums exactly like matvec.
const TOL = {
  matmul: (cols: number): Tolerance => ({ atol: 1e-6 * Math.sqrt(cols), rtol: 1e-5 }),
  rope: { atol: 1e-6, rtol: 1e-5 },
  attention: { atol: 2e-6, rtol: 1e-5 },
  norm: { atol: 1e-6, rtol: 1e-5 },
} as const;

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

/** Applies a per-token reference to each row of [tokens, n] and concatenates the results. */
function perToken(tokens: number, n: number, ref: (t: number) => Float32Array): Float32Array {
  const out = new Float32Array(tokens * n);
  for (let t = 0; t < tokens; t++) out.set(ref(t), t * n);
  return out;
}

/**
 * out[t, ROW_START + r] = W x[t] for `tokens` tokens; with rowStart > 0 the weights are one row block of
 * a larger matrix (OUT_STRIDE = its rows), the other output columns must stay untouched (zero).
 */
function matmulCase(dtype: WeightDType, rows: number, cols: number, tokens: number, rowStart = 0): BatchCase {
  const stride = rows + rowStart;
  return {
    name: `matmul ${dtype} ${rows}x${cols} tokens=${tokens}${rowStart ? ` row_start=${rowStart}` : ''}`,
    tol: TOL.matmul(cols),
    async run(device, cache, rng) {
      const w = weights(randomFloats(rng, rows * cols), dtype);
      const x = randomFloats(rng, tiles(tokens) * TILE * cols);
      const outBytes = tiles(tokens) * TILE * stride * 4;
      const out = storage(device, outBytes);
      const got = f32(await runKernel(device, cache, 'matmul', { dtype, constants: { ROWS: rows, COLS: cols, OUT_STRIDE: stride, ROW_START: rowStart } },
        productBindings(storage(device, w.data), storage(device, x), out), [workgroups(rows), tiles(tokens)], out, outBytes));
      const want = perToken(tokens, stride, (t) => {
        const row = new Float32Array(stride);
        row.set(matvecRef(w.seen, x.subarray(t * cols, (t + 1) * cols), rows, cols), rowStart);
        return row;
      });
      return { got: got.subarray(0, tokens * stride), want };
    },
  };
}

/** matmul must sum exactly like matvec (prefill then equals token-by-token decoding): compared bit for bit. */
function matmulEqualsMatvecCase(dtype: WeightDType, rows: number, cols: number, tokens: number): BatchCase {
  return {
    name: `matmul ${dtype} ${rows}x${cols} tokens=${tokens} equals matvec per token, bit for bit`,
    tol: EXACT,
    async run(device, cache, rng) {
      const w = weights(randomFloats(rng, rows * cols), dtype);
      const x = randomFloats(rng, tiles(tokens) * TILE * cols);
      const outBytes = tiles(tokens) * TILE * rows * 4;
      const out = storage(device, outBytes);
      const got = f32(await runKernel(device, cache, 'matmul', { dtype, constants: { ROWS: rows, COLS: cols, OUT_STRIDE: rows } },
        productBindings(storage(device, w.data), storage(device, x), out), [workgroups(rows), tiles(tokens)], out, outBytes));
      const want = new Float32Array(tokens * rows);
      for (let t = 0; t < tokens; t++) {
        const one = storage(device, rows * 4);
        want.set(f32(await runKernel(device, cache, 'matvec', { dtype, constants: { ROWS: rows, COLS: cols } },
          productBindings(storage(device, w.data), storage(device, x.slice(t * cols, (t + 1) * cols)), one), workgroups(rows), one, rows * 4)), t * rows);
      }
      return { got: got.subarray(0, tokens * rows), want };
    },
  };
}

function embeddingBatchCase(vocab: number, dim: number, tokens: number): BatchCase {
  return {
    name: `embedding f32 vocab=${vocab} dim=${dim} tokens=${tokens}`,
    tol: EXACT,
    async run(device, cache, rng) {
      const table = randomFloats(rng, vocab * dim);
      const ids = Uint32Array.from({ length: tokens }, () => randomInt(rng, vocab));
      const out = storage(device, tokens * dim * 4);
      const got = await runKernel(device, cache, 'embedding', { dtype: 'f32', constants: { DIM: dim } },
        [storage(device, ids), storage(device, table), out], [workgroups(dim), tokens], out, tokens * dim * 4);
      return { got: f32(got), want: perToken(tokens, dim, (t) => embeddingRef(table, dim, ids[t]!)) };
    },
  };
}

function positionBatchCase(dim: number, pos: number, tokens: number): BatchCase {
  return {
    name: `position f32 dim=${dim} pos=${pos} tokens=${tokens}`,
    tol: EXACT,
    async run(device, cache, rng) {
      const table = randomFloats(rng, (pos + tokens) * dim);
      const x = randomFloats(rng, tokens * dim);
      const xBuffer = storage(device, x);
      const got = await runKernel(device, cache, 'position', { dtype: 'f32', constants: { DIM: dim } },
        [uniformWords(device, [pos]), storage(device, table), xBuffer], [workgroups(dim), tokens], xBuffer, x.byteLength);
      return { got: f32(got), want: perToken(tokens, dim, (t) => positionRef(x.subarray(t * dim, (t + 1) * dim), table, dim, pos + t)) };
    },
  };
}

function ropeBatchCase(s: RopeShape, ctx: number, pos: number, tokens: number): BatchCase {
  const n = s.nHeads * s.headDim;
  return {
    name: `rope ${s.neox ? 'neox' : 'norm'} heads=${s.nHeads} head_dim=${s.headDim} rot_dim=${s.rotDim} pos=${pos} tokens=${tokens}`,
    tol: TOL.rope,
    async run(device, cache, rng) {
      const x = randomFloats(rng, tokens * n);
      const xBuffer = storage(device, x);
      const constants = { N_HEADS: s.nHeads, HEAD_DIM: s.headDim, ROT_DIM: s.rotDim, NEOX: s.neox ? 1 : 0 };
      const got = await runKernel(device, cache, 'rope', { constants },
        [uniformWords(device, [pos]), xBuffer, storage(device, ropeTableRef(ctx, s.rotDim, s.freqBase))],
        [workgroups((s.nHeads * s.rotDim) / 2), tokens], xBuffer, x.byteLength);
      return { got: f32(got), want: perToken(tokens, n, (t) => ropeRef(x.subarray(t * n, (t + 1) * n), pos + t, s)) };
    },
  };
}

/** Token t of the batch sits at pos + t and sees positions ≤ pos + t only; positions past the batch hold poison. */
function attentionBatchCase(s: AttentionShape, ctx: number, pos: number, tokens: number, chunk?: number): BatchCase {
  const n = s.nHeads * s.headDim;
  return {
    name: `attention heads=${s.nHeads} kv_heads=${s.nKvHeads} head_dim=${s.headDim} pos=${pos}/${ctx} tokens=${tokens} in pairs (causal)${chunk ? ` split-K chunk=${chunk}` : ''}`,
    tol: TOL.attention,
    async run(device, cache, rng) {
      const kvDim = s.nKvHeads * s.headDim;
      const q = randomFloats(rng, tokens * n);
      const k = randomFloats(rng, ctx * kvDim);
      const v = randomFloats(rng, ctx * kvDim);
      k.fill(1e4, (pos + tokens) * kvDim);
      v.fill(1e4, (pos + tokens) * kvDim);
      const constants = { N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, CTX: ctx, SCALE: 1 / Math.sqrt(s.headDim), SOFTCAP: 0, WINDOW: 0 };
      // In pairs of tokens, as prefill runs it (scores for the odd batch's phantom token too).
      const got = await runAttention(device, cache, constants,
        [uniformWords(device, [pos]), storage(device, q), storage(device, k), storage(device, v), storage(device, (tokens + 1) * s.nHeads * ctx * 4)], tokens, chunk, true);
      return { got: f32(got), want: perToken(tokens, n, (t) => attentionRef(q.subarray(t * n, (t + 1) * n), k, v, pos + t, s)) };
    },
  };
}

function layernormRowsCase(rows: number, n: number): BatchCase {
  return {
    name: `layernorm rows=${rows} n=${n}`,
    tol: TOL.norm,
    async run(device, cache, rng) {
      const x = randomFloats(rng, rows * n, 3, 7);
      const weight = randomFloats(rng, n, 0.5, 1.5);
      const bias = randomFloats(rng, n, -0.5, 0.5);
      const out = storage(device, x.byteLength);
      const got = await runKernel(device, cache, 'layernorm', { constants: { N: n, EPS: 1e-5 } },
        [storage(device, x), storage(device, weight), storage(device, bias), out], rows, out, x.byteLength);
      return { got: f32(got), want: perToken(rows, n, (r) => layernormRef(x.subarray(r * n, (r + 1) * n), weight, bias, 1e-5)) };
    },
  };
}

/** A bias [n] added to each of `rows` rows (B_LEN = n): one correctly rounded add per element. */
function biasAddCase(rows: number, n: number): BatchCase {
  return {
    name: `add bias rows=${rows} n=${n}`,
    tol: EXACT,
    async run(device, cache, rng) {
      const a = randomFloats(rng, rows * n, -10, 10);
      const bias = randomFloats(rng, n);
      const aBuffer = storage(device, a);
      const got = await runKernel(device, cache, 'add', { constants: { N: rows * n, B_LEN: n } }, [aBuffer, storage(device, bias)], workgroups(rows * n), aBuffer, a.byteLength);
      return { got: f32(got), want: a.map((v, i) => Math.fround(v + bias[i % n]!)) };
    },
  };
}

export function batchCases(): BatchCase[] {
  const cases: BatchCase[] = [];
  for (const dtype of [...weightDTypes, ...alignedDTypes]) {
    const block = Math.max(32, weightLayouts[dtype].blockElements);
    cases.push(matmulCase(dtype, 65, 2 * block, 13));
  }
  cases.push(
    matmulCase('f32', 70, 12, 3), matmulCase('f16', 100, 172, 8), matmulCase('q8_0', 64, 288, 32), matmulCase('q4_k', 64, 256, 9, 128),
    matmulEqualsMatvecCase('f32', 70, 100, 11), matmulEqualsMatvecCase('q4_k', 64, 512, 5), matmulEqualsMatvecCase('q6_k', 33, 256, 3),
    matmulEqualsMatvecCase('q3_k', 33, 512, 5), matmulEqualsMatvecCase('iq4_xs', 64, 512, 3), matmulEqualsMatvecCase('iq4_nl', 17, 96, 6),
    embeddingBatchCase(50, 67, 5),
    positionBatchCase(67, 9, 6),
    ropeBatchCase({ nHeads: 4, headDim: 16, rotDim: 16, neox: false, freqBase: 10000 }, 64, 3, 7),
    ropeBatchCase({ nHeads: 6, headDim: 64, rotDim: 32, neox: true, freqBase: 10000 }, 64, 30, 32),
    attentionBatchCase({ nHeads: 4, nKvHeads: 2, headDim: 16 }, 64, 0, 9),
    attentionBatchCase({ nHeads: 8, nKvHeads: 4, headDim: 64 }, 200, 70, 32),
    attentionBatchCase({ nHeads: 6, nKvHeads: 6, headDim: 20 }, 130, 60, 70),
    attentionBatchCase({ nHeads: 4, nKvHeads: 2, headDim: 16 }, 300, 90, 40, 100), // the batch crosses a chunk boundary
    attentionBatchCase({ nHeads: 4, nKvHeads: 2, headDim: 16 }, 300, 95, 9, 100), // a pair straddles it; an odd batch
    attentionBatchCase({ nHeads: 2, nKvHeads: 1, headDim: 64 }, 1100, 1000, 33), // runs past 512 positions, an odd batch
    layernormRowsCase(5, 100),
    biasAddCase(7, 33),
  );
  return cases;
}
