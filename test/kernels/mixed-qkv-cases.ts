// Cases for main_qkv_mixed (common/lane-qkv-mixed.wgsl): a [q; k; v] held in two matrices of two weight types (a
// Q4_K_M layer's [q; k] in Q4_K and v in Q6_K), run in one dispatch of a float lane kernel, the second type read
// through its preamble and walk appended under suffixed names (src/gpu/shaders.ts). q and the caches bit for bit as
// each matrix's own main_qkv (with its rows' bias), and within tolerance of the CPU twin; every other cache row
// unchanged. Environment-agnostic like cases.ts.
import type { WeightDType } from '../../src/gpu/shaders';
import { randomFloats } from '../helpers/seeded';
import { ropeRef, ropeTableRef } from '../reference/kernels';
import { stackRanges } from '../../src/model/memory';
import { runKernel, storage, uniformWords } from './harness';
import { assertSameBits, featureOf, productInput, productWeights, type FusedCase } from './fused-cases';
import { epilogueTol, FREQ_BASE, gridOf, SHAPES, type QkvShape } from './epilogue-cases';

type LaneKernel = 'matvec-subgroup' | 'matvec-workgroup';
const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

/**
 * [q; k; v] as `stacks` ([2, 1]: [q; k] and v; [1, 2]: q and [k; v]) in matrices of `types`, with BIAS, ROPE and
 * KV_CACHE at position `pos`: main_qkv_mixed against each matrix's main_qkv in turn on the same q and caches.
 */
function mixedQkvCase(kernel: LaneKernel, types: [WeightDType, WeightDType], stacks: [number, number], s: QkvShape, cols: number, pos: number, laneSteps = 1): FusedCase {
  const partRows = [s.heads * s.headDim, s.kvHeads * s.headDim, s.kvHeads * s.headDim];
  const [qRows, kvRows] = [partRows[0]!, partRows[1]!];
  const total = qRows + 2 * kvRows;
  const cacheRows = pos + 1;
  const shape = `heads ${s.heads}/${s.kvHeads}x${s.headDim} ${s.neox ? 'neox' : 'norm'} rot ${s.rotDim}`;
  return {
    name: `${kernel} ${types.join('+')} main_qkv_mixed stacks ${stacks.join('+')} BIAS ROPE KV_CACHE ${shape} cols ${cols} pos ${pos}${laneSteps > 1 ? ` runs of ${laneSteps} steps` : ''} (vs CPU twin, and each matrix's main_qkv bit for bit)`,
    tol: epilogueTol(cols), feature: featureOf(kernel),
    async run(device, cache, rng) {
      const { input, token } = await productInput(device, cache, kernel, rng, cols, 1);
      const table = ropeTableRef(cacheRows + 4, s.rotDim, FREQ_BASE);
      const cacheInit = randomFloats(rng, (cacheRows + 4) * kvRows); // rows past CACHE_ROWS too: they must stay
      const bias = randomFloats(rng, total);
      let start = 0;
      const parts = stackRanges(stacks).map(({ first, end }, i) => {
        const held = [0, 1, 2].map((j) => (j >= first && j < end ? partRows[j]! : 0));
        const rows = held.reduce((a, b) => a + b, 0);
        const part = { held, rows, start, dtype: types[i]!, w: productWeights(kernel, types[i]!, rng, rows, cols) };
        start += rows;
        return part;
      });
      const epilogue = { BIAS: 1, ROPE: s.neox ? 2 : 1, HEAD_DIM: s.headDim, ROT_DIM: s.rotDim, KV_CACHE: 1, CACHE_ROWS: cacheRows, ...(laneSteps > 1 ? { LANE_STEPS: laneSteps } : {}) };
      const outsOf = (init: Float32Array[]) => init.map((a) => storage(device, a));
      const epilogueBindings = (outs: GPUBuffer[], b: Float32Array) => [outs[1]!, outs[2]!, storage(device, b), storage(device, table), uniformWords(device, [pos])];
      const init = [new Float32Array(qRows), cacheInit, cacheInit];

      // Each matrix's main_qkv in turn (its rows' bias), as a load without the mixed kernel runs them.
      let own = init;
      for (const m of parts) {
        const after: Float32Array[] = [];
        for (const read of [0, 1, 2]) {
          const outs = outsOf(own);
          const x = storage(device, input);
          after.push(f32(await runKernel(device, cache, kernel, { dtype: m.dtype, constants: { ROWS: m.rows, COLS: cols, Q_ROWS: m.held[0]!, KV_ROWS: m.held[1]!, ...epilogue }, entryPoint: 'main_qkv' },
            [storage(device, m.w.words), x, outs[0]!, x, ...epilogueBindings(outs, bias.slice(m.start, m.start + m.rows))], gridOf(kernel, m.rows, 1), outs[read]!, own[read]!.byteLength)));
        }
        own = after;
      }

      // main_qkv_mixed: both matrices, the bias over all rows, one dispatch.
      const [a, b] = parts as [(typeof parts)[number], (typeof parts)[number]];
      const got: Float32Array[] = [];
      for (const read of [0, 1, 2]) {
        const outs = outsOf(init);
        const x = storage(device, input);
        got.push(f32(await runKernel(device, cache, kernel, {
          dtype: a.dtype, secondDtype: b.dtype, entryPoint: 'main_qkv_mixed',
          constants: { ROWS: total, COLS: cols, Q_ROWS: qRows, KV_ROWS: kvRows, SECOND_FIRST: a.rows, ...epilogue },
        }, [storage(device, a.w.words), x, outs[0]!, x, ...epilogueBindings(outs, bias), null, storage(device, b.w.words)], gridOf(kernel, total, 1), outs[read]!, init[read]!.byteLength)));
      }
      for (const i of [0, 1, 2]) assertSameBits(['q', 'k cache', 'v cache'][i]!, got[i]!, own[i]!);

      // The CPU twin: q, then the k and v cache rows at pos.
      const y = new Float32Array(total);
      for (const m of parts) y.set(m.w.ref(token(0)).map((v, r) => v + bias[m.start + r]!), m.start);
      const rope = (heads: number, v: Float32Array) => ropeRef(v, pos, { nHeads: heads, headDim: s.headDim, rotDim: s.rotDim, neox: s.neox, freqBase: FREQ_BASE });
      const want = [...rope(s.heads, y.slice(0, qRows)), ...rope(s.kvHeads, y.slice(qRows, qRows + kvRows)), ...y.slice(qRows + kvRows)];
      const gotRows = [got[0]!, got[1]!.subarray(pos * kvRows, cacheRows * kvRows), got[2]!.subarray(pos * kvRows, cacheRows * kvRows)];
      return { got: gotRows.flatMap((r) => [...r]), want };
    },
  };
}

/**
 * Q4_K_M's mix ([q; k] Q4_K, v Q6_K, NeoX and normal rope, heads of 6 whose rows span heads), q alone of the other
 * type ([1, 2]), float types, whose rows end in single elements (the walk's tail, load_weight), and both walks in runs
 * of several steps (LANE_STEPS, one override for the two; each type caps it at its own block's steps). Chromium runs
 * the first (caseShape: one shape), on the workgroup kernel, which SwiftShader has.
 */
export function mixedQkvCases(): FusedCase[] {
  return [
    mixedQkvCase('matvec-workgroup', ['q4_k', 'q6_k'], [2, 1], SHAPES[2]!, 256, 3),
    mixedQkvCase('matvec-subgroup', ['q4_k', 'q6_k'], [2, 1], SHAPES[1]!, 256, 0),
    mixedQkvCase('matvec-subgroup', ['q6_k', 'q5_k'], [1, 2], SHAPES[3]!, 256, 2),
    mixedQkvCase('matvec-workgroup', ['f16', 'f32'], [2, 1], SHAPES[0]!, 100, 1),
    mixedQkvCase('matvec-subgroup', ['q4_0', 'q6_k'], [2, 1], SHAPES[1]!, 1024, 5, 8),
  ];
}
