// Cases for the f16 KV cache (shaders/dtype/kv-f16.wgsl; LoadOptions.kvCache 'f16'): every kernel that reads the
// cache — attention.wgsl (one token, pairs of prefill tokens, split-K with attention-combine.wgsl),
// attention-decode.wgsl with its combine, attention-prefill.wgsl — on caches of f16 words, against the CPU twin of
// attention run on the same keys and values rounded through f16 (test/reference/f16.ts), so the difference is the
// kernels' own f32 summing order, within the f32 cases' tolerances; and every writer — the q/k/v products' KV_CACHE
// epilogue in each product form, and kv-store.wgsl (the unfused path's write) — against the f32 cache rounded to f16,
// other cache rows unchanged bit for bit. They need 'shader-f16': not applicable on Chromium's SwiftShader.
// Environment-agnostic like cases.ts.
import type { KernelCache } from '../../src/gpu/kernels';
import { workgroups } from '../../src/gpu/kernels';
import type { WeightDType } from '../../src/gpu/shaders';
import { flashPrefillTiles } from '../../src/model/memory';
import { attentionOptionsRef, type AttentionOptions } from '../reference/transformer-ops';
import { f16ToF32, f32ToF16, packF16 } from '../reference/f16';
import { randomFloats, type Rng } from '../helpers/seeded';
import { runAttention, runKernel, storage, uniformWords, type Tolerance } from './harness';
import { gridOf, like, nameOf, padOf, type Kernel } from './epilogue-cases';
import { assertSameBits, productInput, productWeights, q8 } from './fused-cases';

export interface KvF16Case {
  name: string;
  tol: Tolerance;
  feature: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

/** The f32 attention cases' tolerance (flash-cases.ts): the twin sees the same rounded keys and values. */
const ATTENTION_TOL: Tolerance = { atol: 2e-6, rtol: 1e-5 };
/**
 * A stored key or value against the f32 one rounded to f16 on the CPU (nearest, ties to even): one f16 step at
 * most (2^-10 relative; 2^-24 absolute among subnormals), for GPUs that round the conversion otherwise.
 */
const STORE_TOL: Tolerance = { atol: 2 ** -24, rtol: 2 ** -10 };

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);
/** The values of a buffer of f16 words. */
const fromF16 = (bytes: ArrayBuffer) => Float32Array.from(new Uint16Array(bytes), f16ToF32);
const plain = (nHeads: number, nKvHeads: number, headDim: number): AttentionOptions => ({ nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim), softcap: 0, window: 0 });
const constantsOf = (s: AttentionOptions) => ({ N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, SCALE: s.scale, SOFTCAP: s.softcap, WINDOW: s.window });
const describe = (s: AttentionOptions) => `heads=${s.nHeads} kv_heads=${s.nKvHeads} head_dim=${s.headDim}${s.softcap ? ` softcap=${s.softcap}` : ''}${s.window ? ` window=${s.window}` : ''}`;

/** q for `tokens` tokens and random f16 caches of `ctx` positions: their words, and their values for the twin. */
function inputs(rng: Rng, s: AttentionOptions, ctx: number, tokens: number) {
  const kvDim = s.nKvHeads * s.headDim;
  const q = randomFloats(rng, tokens * s.nHeads * s.headDim, -2, 2);
  const k = packF16(randomFloats(rng, ctx * kvDim, -2, 2));
  const v = packF16(randomFloats(rng, ctx * kvDim));
  return { q, k, v };
}

/** The twin for tokens at positions pos, pos + 1, … over the rounded caches. */
function twin(q: Float32Array, k: Float32Array, v: Float32Array, pos: number, tokens: number, s: AttentionOptions): Float32Array {
  const n = s.nHeads * s.headDim;
  const want = new Float32Array(tokens * n);
  for (let t = 0; t < tokens; t++) want.set(attentionOptionsRef(q.subarray(t * n, (t + 1) * n), k, v, pos + t, s), t * n);
  return want;
}

type AttentionKernel = 'attention' | 'attention pairs' | 'attention split' | 'attention-decode' | 'attention-prefill';

/** `tokens` tokens from `pos` through one of the kernels that read the cache, as the model dispatches them. */
function attentionCase(kernel: AttentionKernel, s: AttentionOptions, ctx: number, pos: number, tokens: number): KvF16Case {
  return {
    name: `${kernel} f16-kv ${describe(s)} tokens=${tokens} from pos=${pos}/${ctx} (vs CPU twin on f16-rounded K/V)`,
    tol: ATTENTION_TOL,
    feature: 'shader-f16',
    async run(device, cache, rng) {
      const { q, k, v } = inputs(rng, s, ctx, tokens + 1); // a pair's phantom last token reads a row of q too
      const want = twin(q, k.rounded, v.rounded, pos, tokens, s);
      const caches = () => [storage(device, k.words, 'k cache'), storage(device, v.words, 'v cache')];
      const n = s.nHeads * s.headDim;
      if (kernel === 'attention-decode') {
        const split = { MAX_SPLITS: 4, MIN_CHUNK: 16 };
        const dim4 = s.headDim / 4;
        const partials = storage(device, 4 * s.nHeads * split.MAX_SPLITS * 4 * (dim4 + 1), 'partials');
        const words = await runKernel(device, cache, 'attention-decode', { constants: { ...constantsOf(s), ...split }, kvCache: 'f16' },
          [uniformWords(device, [pos]), storage(device, q), ...caches(), partials], [s.nHeads, split.MAX_SPLITS], partials, partials.size);
        const out = storage(device, 4 * n, 'attention out');
        const got = await runKernel(device, cache, 'attention-decode-combine', { constants: { N_HEADS: s.nHeads, HEAD_DIM: s.headDim, WINDOW: s.window, ...split } },
          [uniformWords(device, [pos]), storage(device, new Uint8Array(words), 'partials'), out], workgroups(s.nHeads * dim4), out, out.size);
        return { got: f32(got), want };
      }
      if (kernel === 'attention-prefill') {
        const { qTile, kTile } = flashPrefillTiles(s.headDim);
        const out = storage(device, 4 * tokens * n, 'attention out');
        const constants = { ...constantsOf(s), CTX: ctx, CAPACITY: tokens, Q_TILE: qTile, K_TILE: kTile };
        const got = await runKernel(device, cache, 'attention-prefill', { constants, kvCache: 'f16' },
          [uniformWords(device, [pos]), storage(device, q), ...caches(), out], [s.nHeads, Math.ceil(tokens / qTile)], out, out.size);
        return { got: f32(got), want };
      }
      const pairs = kernel === 'attention pairs';
      const scores = storage(device, 4 * (tokens + 1) * s.nHeads * ctx, 'scores');
      const got = await runAttention(device, cache, { ...constantsOf(s), CTX: ctx }, [uniformWords(device, [pos]), storage(device, q), ...caches(), scores], tokens,
        kernel === 'attention split' ? 32 : undefined, pairs, 'f16');
      return { got: f32(got), want };
    },
  };
}

/**
 * main_qkv with KV_CACHE into f16 caches at `pos`: the cache rows [pos, pos + tokens) against the same product
 * into f32 caches rounded to f16, every other row's words unchanged, and q bit for bit the f32-cache run's.
 */
function epilogueCase(kernel: Kernel, dtype: WeightDType, cols: number, tokens: number, pos: number): KvF16Case {
  const many = padOf(kernel, tokens) > 1;
  tokens = many ? tokens : 1;
  const [qRows, kvRows] = [4 * 8, 2 * 8];
  const rows = qRows + 2 * kvRows;
  const cacheRows = pos + tokens;
  return {
    name: `${nameOf(kernel, dtype)} main_qkv KV_CACHE f16-kv cols ${cols} pos ${pos}${many ? ` tokens=${tokens}` : ''} (vs the f32 cache rounded to f16)`,
    tol: STORE_TOL,
    feature: 'shader-f16',
    async run(device, cache, rng) {
      const padded = padOf(kernel, tokens);
      const w = productWeights(like(kernel), dtype, rng, rows, cols);
      const { input } = await productInput(device, cache, like(kernel), rng, cols, tokens);
      const init = packF16(randomFloats(rng, (cacheRows + 4) * kvRows)); // rows past CACHE_ROWS too: they must stay
      const constants = { ROWS: rows, COLS: cols, Q_ROWS: qRows, KV_ROWS: kvRows, KV_CACHE: 1, CACHE_ROWS: cacheRows };
      const run = async (kvCache: 'f16' | 'f32', outs: GPUBuffer[], read: number, bytes: number) => {
        const x = storage(device, input);
        return runKernel(device, cache, kernel, { dtype, constants, entryPoint: 'main_qkv', kvCache },
          [storage(device, w.words), x, outs[0]!, q8(like(kernel)) ? null : x, outs[1]!, outs[2]!, x, x, uniformWords(device, [pos])],
          gridOf(kernel, rows, padded), outs[read]!, bytes);
      };
      const outs = (kvCache: 'f16' | 'f32') => [storage(device, 4 * padded * qRows),
        ...[0, 1].map(() => storage(device, kvCache === 'f16' ? init.words : init.rounded))];
      const got: Float32Array[] = [];
      const want: Float32Array[] = [];
      for (const i of [1, 2]) {
        const half = new Uint16Array(await run('f16', outs('f16'), i, 2 * init.rounded.length));
        const full = f32(await run('f32', outs('f32'), i, init.rounded.byteLength));
        const rowsOf = (a: Uint16Array | Float32Array) => a.subarray(pos * kvRows, cacheRows * kvRows);
        const untouched = (a: Uint16Array) => Uint32Array.from([...a.subarray(0, pos * kvRows), ...a.subarray(cacheRows * kvRows)]);
        const initHalf = new Uint16Array(init.words.buffer, 0, init.rounded.length);
        assertSameBits(`${i === 1 ? 'k' : 'v'} cache rows outside the pass`, untouched(half), untouched(initHalf));
        got.push(Float32Array.from(rowsOf(half), f16ToF32));
        want.push(Float32Array.from(rowsOf(full), (x) => f16ToF32(f32ToF16(x))));
      }
      assertSameBits('q', f32(await run('f16', outs('f16'), 0, 4 * tokens * qRows)), f32(await run('f32', outs('f32'), 0, 4 * tokens * qRows)));
      return { got: got.flatMap((a) => [...a]), want: want.flatMap((a) => [...a]) };
    },
  };
}

/** kv-store.wgsl: k and v [tokens, kvRows] into f16 cache rows [pos, pos + tokens) of `ctx`, the rest unchanged. */
function kvStoreCase(kvRows: number, ctx: number, pos: number, tokens: number): KvF16Case {
  return {
    name: `kv-store f16-kv kv_rows=${kvRows} tokens=${tokens} at pos=${pos}/${ctx} (vs CPU twin: f16 rounding)`,
    tol: STORE_TOL,
    feature: 'shader-f16',
    async run(device, cache, rng) {
      const rows = [randomFloats(rng, tokens * kvRows, -3, 3), randomFloats(rng, tokens * kvRows, -3, 3)];
      rows[0]![0] = 1e-6; // an f16 subnormal
      const init = packF16(randomFloats(rng, ctx * kvRows));
      const got: number[] = [];
      const want: number[] = [];
      for (const i of [0, 1]) {
        const caches = [storage(device, init.words, 'k cache'), storage(device, init.words, 'v cache')];
        const half = fromF16(await runKernel(device, cache, 'kv-store', { constants: { KV_ROWS: kvRows, CACHE_ROWS: ctx }, kvCache: 'f16' },
          [uniformWords(device, [pos]), storage(device, rows[0]!), storage(device, rows[1]!), caches[0]!, caches[1]!], [workgroups(kvRows), tokens], caches[i]!, 2 * ctx * kvRows));
        const expected = init.rounded.slice();
        expected.set(rows[i]!.slice(0, Math.max(0, Math.min(tokens, ctx - pos)) * kvRows).map((x) => f16ToF32(f32ToF16(x))), pos * kvRows);
        got.push(...half);
        want.push(...expected);
      }
      return { got, want };
    },
  };
}

export function kvF16Cases(): KvF16Case[] {
  const gqa = plain(4, 2, 32);
  return [
    attentionCase('attention', gqa, 100, 70, 1),
    attentionCase('attention', { ...gqa, softcap: 30, window: 20 }, 100, 70, 1),
    attentionCase('attention pairs', gqa, 100, 37, 5),
    attentionCase('attention split', plain(2, 1, 64), 100, 90, 2),
    attentionCase('attention-decode', plain(4, 2, 64), 200, 150, 1),
    attentionCase('attention-decode', { ...plain(8, 1, 128), window: 50 }, 200, 120, 1),
    attentionCase('attention-prefill', plain(4, 2, 64), 200, 37, 13),
    attentionCase('attention-prefill', { ...gqa, softcap: 50, window: 17 }, 120, 60, 32),
    ...([['matvec', 'f32'], ['matmul', 'q4_0'], ['matvec-workgroup', 'q4_0'], ['matmul-tiled', 'f32'], ['matvec-q8', 'q4_0'], ['matmul-q8', 'q8_0']] as [Kernel, WeightDType][])
      .map(([kernel, dtype]) => epilogueCase(kernel, dtype, 96, 5, 3)),
    kvStoreCase(16, 40, 0, 1),
    kvStoreCase(72, 40, 35, 7), // the pass's last tokens past the cache: not written
  ];
}
