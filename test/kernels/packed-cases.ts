// Cases for the packed entry points (main_packed) that embedding passes use: several sequences one after
// another in a batch, token t at its own position seqs[t].x attending to batch positions [seqs[t].y, seqs[t].z).
// The CPU twins are the single-token references on each token's own range and position.
// Environment-agnostic like cases.ts.
import { workgroups } from '../../src/gpu/kernels';
import type { KernelCache } from '../../src/gpu/kernels';
import { attentionRef, ropeRef, ropeTableRef, type AttentionShape, type RopeShape } from '../reference/kernels';
import { positionRef } from '../reference/transformer-ops';
import { randomFloats, type Rng } from '../helpers/seeded';
import { EXACT, runKernel, storage, type Tolerance } from './harness';

interface PackedCase {
  name: string;
  tol: Tolerance;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

/** Per token of sequences of these lengths packed in order: (position, first, end, 0) as src/model/embed.ts writes them. */
function packedSeqs(lengths: number[], causal: boolean): Uint32Array {
  const total = lengths.reduce((a, b) => a + b, 0);
  const seqs = new Uint32Array(4 * total);
  let start = 0;
  for (const n of lengths) {
    for (let p = 0; p < n; p++) seqs.set([p, start, causal ? start + p + 1 : start + n, 0], 4 * (start + p));
    start += n;
  }
  return seqs;
}

function perToken(tokens: number, n: number, ref: (t: number) => Float32Array): Float32Array {
  const out = new Float32Array(tokens * n);
  for (let t = 0; t < tokens; t++) out.set(ref(t), t * n);
  return out;
}

/** Positions past the batch hold poison: a range that ran past its end would show it. */
function attentionPackedCase(s: AttentionShape, lengths: number[], causal: boolean): PackedCase {
  const n = s.nHeads * s.headDim;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const ctx = tokens + 8;
  return {
    name: `attention packed heads=${s.nHeads} kv_heads=${s.nKvHeads} head_dim=${s.headDim} sequences=${lengths.join('+')} ${causal ? 'causal' : 'bidirectional'}`,
    tol: { atol: 2e-6, rtol: 1e-5 },
    async run(device, cache, rng) {
      const kvDim = s.nKvHeads * s.headDim;
      const q = randomFloats(rng, tokens * n);
      const k = randomFloats(rng, ctx * kvDim).fill(1e4, tokens * kvDim);
      const v = randomFloats(rng, ctx * kvDim).fill(1e4, tokens * kvDim);
      const seqs = packedSeqs(lengths, causal);
      const constants = { N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, CTX: ctx, SCALE: 1 / Math.sqrt(s.headDim), SOFTCAP: 0, WINDOW: 0 };
      const out = storage(device, 4 * tokens * n, 'attention out');
      const got = await runKernel(device, cache, 'attention', { constants, entryPoint: 'main_packed' },
        [null, storage(device, q), storage(device, k), storage(device, v), storage(device, tokens * s.nHeads * ctx * 4), out, storage(device, seqs)],
        [s.nHeads, tokens], out, out.size);
      const want = perToken(tokens, n, (t) => {
        const [, first, end] = seqs.subarray(4 * t, 4 * t + 3) as unknown as [number, number, number];
        return attentionRef(q.subarray(t * n, (t + 1) * n), k.subarray(first * kvDim), v.subarray(first * kvDim), end - 1 - first, s);
      });
      return { got: f32(got), want };
    },
  };
}

function ropePackedCase(s: RopeShape, lengths: number[]): PackedCase {
  const n = s.nHeads * s.headDim;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  return {
    name: `rope packed ${s.neox ? 'neox' : 'norm'} heads=${s.nHeads} head_dim=${s.headDim} sequences=${lengths.join('+')}`,
    tol: { atol: 1e-6, rtol: 1e-5 },
    async run(device, cache, rng) {
      const x = randomFloats(rng, tokens * n);
      const xBuffer = storage(device, x);
      const seqs = packedSeqs(lengths, false);
      const constants = { N_HEADS: s.nHeads, HEAD_DIM: s.headDim, ROT_DIM: s.rotDim, NEOX: s.neox ? 1 : 0 };
      const got = await runKernel(device, cache, 'rope', { constants, entryPoint: 'main_packed' },
        [null, xBuffer, storage(device, ropeTableRef(Math.max(...lengths), s.rotDim, s.freqBase)), storage(device, seqs)],
        [workgroups((s.nHeads * s.rotDim) / 2), tokens], xBuffer, x.byteLength);
      return { got: f32(got), want: perToken(tokens, n, (t) => ropeRef(x.subarray(t * n, (t + 1) * n), seqs[4 * t]!, s)) };
    },
  };
}

function positionPackedCase(dim: number, lengths: number[]): PackedCase {
  const tokens = lengths.reduce((a, b) => a + b, 0);
  return {
    name: `position packed f32 dim=${dim} sequences=${lengths.join('+')}`,
    tol: EXACT,
    async run(device, cache, rng) {
      const table = randomFloats(rng, Math.max(...lengths) * dim);
      const x = randomFloats(rng, tokens * dim);
      const xBuffer = storage(device, x);
      const seqs = packedSeqs(lengths, false);
      const got = await runKernel(device, cache, 'position', { dtype: 'f32', constants: { DIM: dim }, entryPoint: 'main_packed' },
        [null, storage(device, table), xBuffer, storage(device, seqs)], [workgroups(dim), tokens], xBuffer, x.byteLength);
      return { got: f32(got), want: perToken(tokens, dim, (t) => positionRef(x.subarray(t * dim, (t + 1) * dim), table, dim, seqs[4 * t]!)) };
    },
  };
}

export function packedCases(): PackedCase[] {
  return [
    attentionPackedCase({ nHeads: 4, nKvHeads: 2, headDim: 16 }, [5, 1, 12], false),
    attentionPackedCase({ nHeads: 4, nKvHeads: 2, headDim: 16 }, [5, 1, 12], true),
    attentionPackedCase({ nHeads: 6, nKvHeads: 6, headDim: 20 }, [9, 33, 2], false),
    attentionPackedCase({ nHeads: 2, nKvHeads: 1, headDim: 64 }, [70, 3, 600], false), // one sequence runs past 512 positions
    ropePackedCase({ nHeads: 4, headDim: 16, rotDim: 16, neox: true, freqBase: 1000 }, [7, 1, 20]),
    positionPackedCase(67, [6, 2, 9]),
  ];
}
