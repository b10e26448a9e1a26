// Every kernel against its CPU twin, over shapes that hit the edges: odd sizes, sizes below and just
// above the workgroup size, both weight dtypes, GQA ratios 1 and 2, pos 0 and pos > 0, both rope
// styles, argmax ties across thread slices and a 152k vocabulary. Environment-agnostic: runs the same
// in Node (Dawn) and in a Chromium page or Worker (it is bundled for the browser, so no node: imports).
import { KernelCache, reductionParts, workgroups } from '../../src/gpu/kernels';
import type { WeightDType } from '../../src/gpu/shaders';
import { alignedDTypes, weightDTypes, weightLayouts } from '../../src/gpu/quant-types';
import { dequantize } from '../reference/quant';
import { randomBlockBytes, toWords } from '../helpers/quantize';
import {
  addRef, argmaxRef, embeddingRef, matvecRef, randomRef, rmsnormRef, ropeRef, ropeTableRef, swigluRef,
  type RopeShape,
} from '../reference/kernels';
import { randomFloats, randomInt, seededRng, seedFromString, type Rng } from '../helpers/seeded';
import { testWeights, weights } from './test-weights';
import { transformerOpCases } from './transformer-op-cases';
import { f16Cases } from './f16-cases';
import { batchCases } from './batch-cases';
import { packedCases } from './packed-cases';
import { samplerCases } from './sampler-cases';
import { q8Cases } from './q8-cases';
import { laneCases } from './lane-cases';
import { fusedCases } from './fused-cases';
import { epilogueCases } from './epilogue-cases';
import { mixedQkvCases } from './mixed-qkv-cases';
import { headArgmaxCases } from './head-argmax-cases';
import { flashCases } from './flash-cases';
import { kvF16Cases } from './kv-f16-cases';
import { tiledCases } from './tiled-cases';
import { f16RangeCases } from './f16-range-cases';
import { compare, EXACT, failed, notApplicable, productBindings, runKernel, storage, uniformWords, type KernelCaseResult, type Tolerance } from './harness';

export type { KernelCaseResult } from './harness';

interface KernelCase {
  name: string;
  tol: Tolerance;
  /** A device feature the case needs; where it is missing the case is reported as not applicable. */
  feature?: GPUFeatureName;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

// Tolerances, from measured errors (lavapipe and SwiftShader) with headroom. Inputs are O(1).
// Copies, adds and integer results must be exact; sums get an atol that grows like sqrt(terms).
const TOL = {
  embedding: EXACT,
  rmsnorm: { atol: 1e-6, rtol: 1e-5 },
  matvec: (cols: number): Tolerance => ({ atol: 1e-6 * Math.sqrt(cols), rtol: 1e-5 }),
  rope: { atol: 1e-6, rtol: 1e-5 },
  add: EXACT,
  swiglu: { atol: 1e-6, rtol: 1e-5 },
  argmax: EXACT,
  random: EXACT,
} as const;

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

/** Embedding over a table of random block bytes (every quant bit pattern, finite scales): the row must come back exactly. */
function embeddingBytesCase(dtype: WeightDType, vocab: number, dim: number, token: number): KernelCase {
  return {
    name: `embedding ${dtype} vocab=${vocab} dim=${dim} token=${token} (random block bytes)`,
    tol: TOL.embedding,
    async run(device, cache, rng) {
      const bytes = randomBlockBytes(dtype, (vocab * dim) / weightLayouts[dtype].blockElements, rng);
      const out = storage(device, dim * 4);
      const got = await runKernel(device, cache, 'embedding', { dtype, constants: { DIM: dim } },
        [storage(device, new Uint32Array([token])), storage(device, toWords(bytes)), out], workgroups(dim), out, dim * 4);
      return { got: f32(got), want: embeddingRef(dequantize(dtype, bytes, vocab * dim), dim, token) };
    },
  };
}

function embeddingCase(dtype: WeightDType, vocab: number, dim: number, token: number): KernelCase {
  return {
    name: `embedding ${dtype} vocab=${vocab} dim=${dim} token=${token}`,
    tol: TOL.embedding,
    async run(device, cache, rng) {
      const table = weights(testWeights(rng, vocab * dim, dtype), dtype);
      const out = storage(device, dim * 4);
      const got = await runKernel(device, cache, 'embedding', { dtype, constants: { DIM: dim } },
        [storage(device, new Uint32Array([token])), storage(device, table.data), out], workgroups(dim), out, dim * 4);
      return { got: f32(got), want: embeddingRef(table.seen, dim, token) };
    },
  };
}

function rmsnormCase(n: number, eps: number, scale = 1): KernelCase {
  return {
    name: `rmsnorm n=${n} eps=${eps} |x|<${scale}`,
    tol: TOL.rmsnorm,
    async run(device, cache, rng) {
      const x = randomFloats(rng, n, -scale, scale);
      const weight = randomFloats(rng, n, 0.5, 1.5);
      const out = storage(device, n * 4);
      const got = await runKernel(device, cache, 'rmsnorm', { constants: { N: n, EPS: eps } },
        [storage(device, x), storage(device, weight), out], 1, out, n * 4);
      return { got: f32(got), want: rmsnormRef(x, weight, eps) };
    },
  };
}

function matvecCase(dtype: WeightDType, rows: number, cols: number): KernelCase {
  return {
    name: `matvec ${dtype} ${rows}x${cols}`,
    tol: TOL.matvec(cols),
    async run(device, cache, rng) {
      const w = weights(testWeights(rng, rows * cols, dtype), dtype);
      const x = randomFloats(rng, cols);
      const out = storage(device, rows * 4);
      const got = await runKernel(device, cache, 'matvec', { dtype, constants: { ROWS: rows, COLS: cols } },
        productBindings(storage(device, w.data), storage(device, x), out), workgroups(rows), out, rows * 4);
      return { got: f32(got), want: matvecRef(w.seen, x, rows, cols) };
    },
  };
}

function ropeCase(s: RopeShape, ctx: number, pos: number): KernelCase {
  return {
    name: `rope ${s.neox ? 'neox' : 'norm'} heads=${s.nHeads} head_dim=${s.headDim} rot_dim=${s.rotDim} base=${s.freqBase} pos=${pos}/${ctx}`,
    tol: TOL.rope,
    async run(device, cache, rng) {
      const x = randomFloats(rng, s.nHeads * s.headDim);
      const xBuffer = storage(device, x);
      const constants = { N_HEADS: s.nHeads, HEAD_DIM: s.headDim, ROT_DIM: s.rotDim, NEOX: s.neox ? 1 : 0 };
      const got = await runKernel(device, cache, 'rope', { constants },
        [uniformWords(device, [pos]), xBuffer, storage(device, ropeTableRef(ctx, s.rotDim, s.freqBase))],
        workgroups((s.nHeads * s.rotDim) / 2), xBuffer, x.byteLength);
      return { got: f32(got), want: ropeRef(x, pos, s) };
    },
  };
}

function addCase(n: number): KernelCase {
  return {
    name: `add n=${n}`,
    tol: TOL.add,
    async run(device, cache, rng) {
      const a = randomFloats(rng, n, -10, 10);
      const b = randomFloats(rng, n);
      const aBuffer = storage(device, a);
      const got = await runKernel(device, cache, 'add', { constants: { N: n } }, [aBuffer, storage(device, b)], workgroups(n), aBuffer, n * 4);
      return { got: f32(got), want: addRef(a, b) };
    },
  };
}

function swigluCase(n: number): KernelCase {
  return {
    name: `swiglu n=${n}`,
    tol: TOL.swiglu,
    async run(device, cache, rng) {
      const gate = randomFloats(rng, n, -8, 8);
      const up = randomFloats(rng, n);
      const gateBuffer = storage(device, gate);
      const got = await runKernel(device, cache, 'glu', { constants: { N: n } }, [gateBuffer, storage(device, up)], workgroups(n), gateBuffer, n * 4);
      return { got: f32(got), want: swigluRef(gate, up) };
    },
  };
}

/** `plant` sets chosen logits after random filling, to force ties and maxima at awkward indices. */
function argmaxCase(what: string, n: number, plant: (logits: Float32Array, rng: Rng) => void): KernelCase {
  return {
    name: `argmax n=${n} ${what}`,
    tol: TOL.argmax,
    async run(device, cache, rng) {
      const logits = randomFloats(rng, n, -20, 20);
      plant(logits, rng);
      const token = storage(device, new Uint32Array([0xdeadbeef]));
      const got = await runKernel(device, cache, 'argmax', { constants: { N: n } }, [storage(device, logits), token], 1, token, 4);
      return { got: new Uint32Array(got), want: [argmaxRef(logits)] };
    },
  };
}

/**
 * argmax.wgsl's wide form: `partials` over reductionParts(n) workgroups, then `finish` over their (max, index)
 * pairs; the same id as the one-workgroup scan, ties to the lowest index.
 */
function argmaxWideCase(what: string, n: number, plant: (logits: Float32Array, rng: Rng) => void): KernelCase {
  return {
    name: `argmax wide n=${n} ${what}`,
    tol: TOL.argmax,
    async run(device, cache, rng) {
      const logits = randomFloats(rng, n, -20, 20);
      plant(logits, rng);
      const PARTS = reductionParts(n);
      const constants = { N: n, PARTS };
      const parts = storage(device, 8 * PARTS);
      const partWords = await runKernel(device, cache, 'argmax', { constants, entryPoint: 'partials' }, [storage(device, logits), null, parts], PARTS, parts, 8 * PARTS);
      const token = storage(device, new Uint32Array([0xdeadbeef]));
      const got = await runKernel(device, cache, 'argmax', { constants, entryPoint: 'finish' }, [null, token, storage(device, new Uint8Array(partWords))], 1, token, 4);
      return { got: new Uint32Array(got), want: [argmaxRef(logits)] };
    },
  };
}

/** Plants `count` copies of the slice's largest value at random indices: ties for the maximum, far apart. */
function plantTies(count: number) {
  return (l: Float32Array, rng: Rng) => {
    const top = 25 + randomInt(rng, 4);
    for (let i = 0; i < count; i++) l[randomInt(rng, l.length)] = top;
  };
}

function randomCase(seed: number, offset: number, n: number): KernelCase {
  return {
    name: `random seed=${seed} offset=${offset} n=${n}`,
    tol: TOL.random,
    async run(device, cache) {
      const out = storage(device, n * 4);
      const got = await runKernel(device, cache, 'random', { constants: { N: n } }, [uniformWords(device, [seed, offset]), out], workgroups(n), out, n * 4);
      return { got: f32(got), want: randomRef(seed, offset, n) };
    },
  };
}

const VOCAB = 152000;

export function kernelCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const dtype of ['f32', 'f16'] as const) {
    cases.push(embeddingCase(dtype, 37, 64, 36), embeddingCase(dtype, 50, 67, 49), embeddingCase(dtype, 11, 130, 0));
    for (const [rows, cols] of [[1, 2], [64, 172], [100, 64], [257, 130], [1000, 288], [VOCAB, 8]] as const) {
      cases.push(matvecCase(dtype, rows, cols));
    }
  }
  cases.push(matvecCase('f32', 33, 33), matvecCase('f32', 70, 7), matvecCase('f32', 5, 1));
  // GGUF tensor types read as raw bytes. Rows of an odd number of blocks put every other row of the
  // 34/18/22/210-byte types at a half-word offset; 152k rows for one type, as for a big vocabulary.
  for (const dtype of weightDTypes.filter((d) => d !== 'f32' && d !== 'f16')) {
    const block = Math.max(32, weightLayouts[dtype].blockElements);
    cases.push(embeddingBytesCase(dtype, 3, block === 32 ? 2016 : 1792, 1), embeddingCase(dtype, 5, 3 * block, 3));
    cases.push(matvecCase(dtype, 64, 2 * block), matvecCase(dtype, 257, 3 * block));
  }
  cases.push(matvecCase('bf16', 100, 172), matvecCase('q8_0', 1000, 288), matvecCase('q4_0', VOCAB, 32));
  // The aligned layouts (src/gpu/aligned-weights.ts): last groups of 5 of 8 blocks (the embedding's) and of 3.
  for (const dtype of alignedDTypes) {
    const block = weightLayouts[dtype].blockElements;
    cases.push(embeddingBytesCase(dtype, 3, block === 32 ? 2016 : 1792, 1), embeddingCase(dtype, 5, 3 * block, 3), matvecCase(dtype, 257, 3 * block));
  }
  cases.push(rmsnormCase(1, 1e-5), rmsnormCase(63, 1e-6), rmsnormCase(64, 1e-5), rmsnormCase(100, 1e-5), rmsnormCase(2048, 1e-6), rmsnormCase(4097, 1e-5, 30));
  for (const neox of [false, true]) {
    cases.push(
      ropeCase({ nHeads: 4, headDim: 16, rotDim: 16, neox, freqBase: 10000 }, 64, 0),
      ropeCase({ nHeads: 4, headDim: 16, rotDim: 16, neox, freqBase: 10000 }, 64, 5),
      ropeCase({ nHeads: 6, headDim: 64, rotDim: 32, neox, freqBase: 10000 }, 64, 63),
      ropeCase({ nHeads: 32, headDim: 128, rotDim: 128, neox, freqBase: 1e6 }, 4096, 4000),
    );
  }
  cases.push(addCase(1), addCase(100), addCase(4097), swigluCase(1), swigluCase(100), swigluCase(4097));
  cases.push(
    argmaxCase('tie at 3 and 7', 10, (l) => { l[3] = 50; l[7] = 50; }),
    argmaxCase('below the workgroup size', 5, () => {}),
    argmaxCase('all equal', 300, (l) => l.fill(-1.5)),
    // 64 is in thread 0's slice and 1 in thread 1's: the merge must compare indices, not thread order.
    argmaxCase('tie across slices at 1 and 64', 1000, (l) => { l[1] = 50; l[64] = 50; }),
    argmaxCase('tie across slices at 1 and 66', 1000, (l) => { l[1] = 50; l[66] = 50; }),
    argmaxCase('tie at 80000 and 151999', VOCAB, (l) => { l[80000] = 50; l[151999] = 50; }),
    argmaxCase('max at the last index', VOCAB, (l) => { l[VOCAB - 1] = 21; }),
    argmaxCase('random, ties among repeated values', VOCAB, (l, rng) => { for (let i = 0; i < 200; i++) l[randomInt(rng, VOCAB)] = 20; }),
  );
  // The wide form: one value, slices that are not multiples of the workgroup (4097: 5 slices of 820, so 819 ends
  // slice 0 and 820 starts slice 1), ties within a lane (5 and 261: lane 5), across lanes with the lower index in
  // the higher lane (2 and 257: lanes 2 and 1) and across slices, the largest vocabularies (262144: 256 slices of
  // 1024; 300000: 256 slices of 1172, more than 4 per lane).
  cases.push(
    argmaxWideCase('one value', 1, () => {}),
    argmaxWideCase('below the workgroup size, tie at 2 and 4', 5, (l) => { l[2] = 50; l[4] = 50; }),
    argmaxWideCase('all equal', 4097, (l) => l.fill(-1.5)),
    argmaxWideCase('tie across slices at 820 and 819', 4097, (l) => { l[820] = 50; l[819] = 50; }),
    argmaxWideCase('tie across lanes at 257 and 2', 4097, (l) => { l[257] = 50; l[2] = 50; }),
    argmaxWideCase('tie within a slice at 5 and 261', 4097, (l) => { l[261] = 50; l[5] = 50; }),
    argmaxWideCase('random', 32000, () => {}),
    argmaxWideCase('ties at random indices', 32000, plantTies(20)),
    argmaxWideCase('ties at random indices', 151936, plantTies(50)),
    argmaxWideCase('max at the last index', 151936, (l) => { l[151935] = 21; }),
    argmaxWideCase('tie at 0 and the last index', 262144, (l) => { l[262143] = 50; l[0] = 50; }),
    argmaxWideCase('ties at random indices', 262144, plantTies(100)),
    argmaxWideCase('ties at random indices', 300000, plantTies(100)),
    argmaxWideCase('all -infinity but a tie', 151936, (l) => { l.fill(-Infinity); l[99999] = -1e30; l[150000] = -1e30; }),
  );
  cases.push(randomCase(42, 0, 1000), randomCase(0xdeadbeef, 0xfffffe00, 1000), randomCase(0, 123, 1));
  cases.push(...transformerOpCases());
  cases.push(...f16Cases());
  cases.push(...batchCases());
  cases.push(...packedCases());
  cases.push(...samplerCases());
  cases.push(...q8Cases());
  cases.push(...fusedCases());
  cases.push(...epilogueCases(), ...mixedQkvCases());
  cases.push(...headArgmaxCases());
  cases.push(...laneCases());
  cases.push(...flashCases());
  cases.push(...kvF16Cases());
  cases.push(...tiledCases());
  cases.push(...f16RangeCases());
  return cases;
}

/** Runs every case (or those whose name passes `filter`) on `device`, sequentially; never throws per case. */
export async function runKernelCases(device: GPUDevice, filter: (name: string) => boolean = () => true): Promise<KernelCaseResult[]> {
  const cache = new KernelCache(device);
  const results: KernelCaseResult[] = [];
  for (const c of kernelCases().filter((k) => filter(k.name))) {
    if (c.feature && !device.features.has(c.feature)) {
      results.push(notApplicable(c.name, `needs the device feature '${c.feature}', which this adapter lacks`, c.tol));
      continue;
    }
    const start = performance.now();
    try {
      const { got, want } = await c.run(device, cache, seededRng(seedFromString(c.name)));
      results.push({ ...compare(c.name, got, want, c.tol), ms: performance.now() - start });
    } catch (error) {
      results.push({ ...failed(c.name, error, c.tol), ms: performance.now() - start });
    }
  }
  return results;
}
