// Cases for the GPU profile's flash attention kernels against the CPU twin of attention (scale, soft-cap, sliding
// window: test/reference/transformer-ops.ts): flash-decoding (attention-decode.wgsl, then
// attention-decode-combine.wgsl) at positions around its chunk and tile boundaries and over long contexts, and flash
// attention over query and key tiles (attention-prefill.wgsl) for prefill batches and packed sequences.
// Environment-agnostic like cases.ts.
import type { KernelCache } from '../../src/gpu/kernels';
import { workgroups } from '../../src/gpu/kernels';
import { flashPrefillTiles } from '../../src/model/memory';
import { attentionOptionsRef, type AttentionOptions } from '../reference/transformer-ops';
import { randomFloats, type Rng } from '../helpers/seeded';
import { runKernel, storage, uniformWords, type Tolerance } from './harness';

interface FlashCase {
  name: string;
  tol: Tolerance;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

// Sums in another order than the reference's (per-lane products, tiles, chunks merged): measured errors on lavapipe
// and SwiftShader are a few 1e-7, with headroom.
const TOL: Tolerance = { atol: 2e-6, rtol: 1e-5 };
/** Where a kernel reading past what a token may see would show: huge keys and values. */
const POISON = 1e4;

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);
const describe = (s: AttentionOptions) =>
  `heads=${s.nHeads} kv_heads=${s.nKvHeads} head_dim=${s.headDim}${s.scale === 1 / Math.sqrt(s.headDim) ? '' : ` scale=${s.scale.toPrecision(4)}`}` +
  `${s.softcap ? ` softcap=${s.softcap}` : ''}${s.window ? ` window=${s.window}` : ''}`;
const plain = (nHeads: number, nKvHeads: number, headDim: number): AttentionOptions => ({ nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim), softcap: 0, window: 0 });
const constantsOf = (s: AttentionOptions) => ({ N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, SCALE: s.scale, SOFTCAP: s.softcap, WINDOW: s.window });

/** q for `tokens` tokens, and caches of `ctx` positions random in [first seen, last seen] and POISON elsewhere. */
function inputs(rng: Rng, s: AttentionOptions, ctx: number, tokens: number, firstSeen: number, lastSeen: number, qkRange: number) {
  const kvDim = s.nKvHeads * s.headDim;
  const q = randomFloats(rng, tokens * s.nHeads * s.headDim, -qkRange, qkRange);
  const k = randomFloats(rng, ctx * kvDim, -qkRange, qkRange);
  const v = randomFloats(rng, ctx * kvDim);
  for (const cache of [k, v]) {
    cache.fill(POISON, 0, firstSeen * kvDim);
    cache.fill(POISON, (lastSeen + 1) * kvDim);
  }
  return { q, k, v };
}

/**
 * One decode step at `pos` as the model runs it: attention-decode over a (N_HEADS, maxSplits) grid into partials
 * that start out as garbage (the chunks a step does not use keep it, and the combine must not read them), then the
 * combine. `minChunk` lowers the chunk size to reach many chunks with short contexts.
 */
function decodeCase(s: AttentionOptions, ctx: number, pos: number, maxSplits: number, minChunk = 64, qkRange = 1): FlashCase {
  return {
    name: `attention-flash decode ${describe(s)} pos=${pos}/${ctx} max_splits=${maxSplits} min_chunk=${minChunk}`,
    tol: TOL,
    async run(device, cache, rng) {
      const first = s.window > 0 ? Math.max(0, pos + 1 - s.window) : 0;
      const { q, k, v } = inputs(rng, s, ctx, 1, first, pos, qkRange);
      const dim4 = s.headDim / 4;
      const split = { MAX_SPLITS: maxSplits, MIN_CHUNK: minChunk };
      const partialFloats = s.nHeads * maxSplits * 4 * (dim4 + 1);
      const garbage = new Float32Array(partialFloats).fill(1e30);
      const partials = storage(device, garbage, 'partials');
      const partialWords = await runKernel(device, cache, 'attention-decode', { constants: { ...constantsOf(s), ...split } },
        [uniformWords(device, [pos]), storage(device, q), storage(device, k), storage(device, v), partials], [s.nHeads, maxSplits], partials, 4 * partialFloats);
      const out = storage(device, 4 * s.nHeads * s.headDim, 'attention out');
      const got = await runKernel(device, cache, 'attention-decode-combine', { constants: { N_HEADS: s.nHeads, HEAD_DIM: s.headDim, WINDOW: s.window, ...split } },
        [uniformWords(device, [pos]), storage(device, new Uint8Array(partialWords), 'partials'), out], workgroups(s.nHeads * dim4), out, out.size);
      return { got: f32(got), want: attentionOptionsRef(q, k, v, pos, s) };
    },
  };
}

/**
 * A prefill pass of `tokens` tokens from `pos` (the q and out buffers hold `capacity` ≥ tokens rows, as the
 * model's do; rows past `tokens` are not compared), or with `packed` sequence lengths, main_packed over them.
 */
function prefillCase(s: AttentionOptions, ctx: number, pos: number, tokens: number, capacity = tokens, qkRange = 1): FlashCase {
  const { qTile, kTile } = flashPrefillTiles(s.headDim);
  return {
    name: `attention-flash prefill ${describe(s)} tokens=${tokens} from pos=${pos}/${ctx} capacity=${capacity} tiles=${qTile}x${kTile}`,
    tol: TOL,
    async run(device, cache, rng) {
      const first = s.window > 0 ? Math.max(0, pos + 1 - s.window) : 0;
      const { q, k, v } = inputs(rng, s, ctx, capacity, first, pos + tokens - 1, qkRange);
      const n = s.nHeads * s.headDim;
      const out = storage(device, 4 * capacity * n, 'attention out');
      const constants = { ...constantsOf(s), CTX: ctx, CAPACITY: capacity, Q_TILE: qTile, K_TILE: kTile };
      const got = await runKernel(device, cache, 'attention-prefill', { constants },
        [uniformWords(device, [pos]), storage(device, q), storage(device, k), storage(device, v), out], [s.nHeads, Math.ceil(tokens / qTile)], out, 4 * tokens * n);
      const want = new Float32Array(tokens * n);
      for (let t = 0; t < tokens; t++) want.set(attentionOptionsRef(q.subarray(t * n, (t + 1) * n), k, v, pos + t, s), t * n);
      return { got: f32(got), want };
    },
  };
}

/** main_packed: sequences of these lengths one after another, each token seeing its own sequence (causally or whole). */
function packedCase(s: AttentionOptions, lengths: number[], causal: boolean): FlashCase {
  const { qTile, kTile } = flashPrefillTiles(s.headDim);
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const ctx = tokens + 8;
  return {
    name: `attention-flash packed ${describe(s)} sequences=${lengths.join('+')} ${causal ? 'causal' : 'bidirectional'} tiles=${qTile}x${kTile}`,
    tol: TOL,
    async run(device, cache, rng) {
      const { q, k, v } = inputs(rng, s, ctx, tokens, 0, tokens - 1, 1);
      const seqs = new Uint32Array(4 * tokens); // (position, first, end, 0) as src/model/embed.ts writes them
      let start = 0;
      for (const len of lengths) {
        for (let p = 0; p < len; p++) seqs.set([p, start, causal ? start + p + 1 : start + len, 0], 4 * (start + p));
        start += len;
      }
      const n = s.nHeads * s.headDim;
      const kvDim = s.nKvHeads * s.headDim;
      const out = storage(device, 4 * tokens * n, 'attention out');
      const constants = { ...constantsOf(s), CTX: ctx, CAPACITY: tokens, Q_TILE: qTile, K_TILE: kTile };
      const got = await runKernel(device, cache, 'attention-prefill', { constants, entryPoint: 'main_packed' },
        [null, storage(device, q), storage(device, k), storage(device, v), out, storage(device, seqs)], [s.nHeads, Math.ceil(tokens / qTile)], out, out.size);
      const want = new Float32Array(tokens * n);
      for (let t = 0; t < tokens; t++) {
        const [, first, end] = seqs.subarray(4 * t, 4 * t + 3) as unknown as [number, number, number];
        want.set(attentionOptionsRef(q.subarray(t * n, (t + 1) * n), k.subarray(first * kvDim), v.subarray(first * kvDim), end - 1 - first, s), t * n);
      }
      return { got: f32(got), want };
    },
  };
}

export function flashCases(): FlashCase[] {
  const gqa = plain(4, 2, 32);
  // Cases share specialisations where they can (compiles dominate on the CPU adapters): the same shape at several positions.
  return [
    // Decode: positions 0 and 1, a chunk's last position and the next chunk's first (chunks of 64, then 16).
    ...[0, 1, 63, 64].map((pos) => decodeCase(plain(4, 2, 64), 200, pos, 4)),
    ...[16 * 8 - 1, 16 * 8].map((pos) => decodeCase(plain(8, 2, 128), 300, pos, 8, 16)),
    // Heads of 256 (tiles of 35 positions), odd head sizes, one-vec4 heads over 32 chunks; GQA ratios 1, 2, 4, 8.
    decodeCase(plain(2, 1, 256), 500, 400, 4),
    decodeCase(plain(6, 6, 20), 80, 65, 2, 16),
    decodeCase(plain(3, 3, 4), 600, 530, 32),
    decodeCase(plain(8, 1, 64), 128, 127, 2, 64, 4),
    // A long context: 32 chunks of 129 positions, each longer than a tile (69 at head 128).
    decodeCase(plain(2, 1, 128), 4200, 4100, 32),
    // Soft-cap and sliding windows: the window starting mid-chunk, of one position, with a soft-cap.
    decodeCase({ ...gqa, softcap: 50 }, 1100, 1000, 16, 64, 4),
    decodeCase({ ...gqa, window: 533 }, 1100, 1090, 16),
    decodeCase({ ...gqa, window: 1 }, 80, 40, 2),
    decodeCase({ ...gqa, window: 100, softcap: 20, scale: 1 / 16 }, 200, 199, 4, 16, 4),
    // Prefill: tiles of tokens and keys, causal and windowed masks within a tile, odd batches, capacity past the batch.
    prefillCase(plain(4, 2, 64), 200, 0, 32, 32),
    prefillCase(plain(4, 2, 64), 200, 37, 13, 32),
    prefillCase(plain(8, 2, 128), 300, 100, 21),
    prefillCase(plain(2, 1, 256), 300, 50, 11),
    prefillCase(plain(6, 6, 20), 80, 3, 30, 32),
    prefillCase(plain(3, 3, 4), 600, 500, 40),
    prefillCase(plain(8, 1, 64), 128, 64, 32, 32, 4),
    prefillCase({ ...gqa, softcap: 50 }, 200, 90, 32, 32, 4),
    ...[[5, 40], [120, 27]].map(([pos, tokens]) => prefillCase({ ...gqa, window: 37 }, 200, pos!, tokens!, 40)),
    prefillCase({ ...plain(2, 1, 128), window: 70, softcap: 30 }, 400, 300, 32, 32, 4),
    // Packed sequences (embeddings), causal and bidirectional, a sequence of one.
    ...[true, false].map((causal) => packedCase(plain(4, 2, 32), [5, 17, 1, 3], causal)),
  ];
}
