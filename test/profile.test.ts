// The adapter profile (src/gpu/profile.ts): chosen from an adapter's traits alone (fake adapters stand for hardware
// this machine lacks), forced or partly overridden at load with typed errors for what cannot run, reported by the
// load; and the GPU profile forced on this machine's lavapipe (tiled prefill products, flash attention, fused norms,
// subgroup matvec) gives the software profile's greedy ids on every tiny architecture model, with logits within
// rounding (the Chromium/SwiftShader twin: test/engine-chromium.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { chooseKvCache, chooseProfile, choosePrecision, GPU_PREFILL_BATCH, isSoftwareAdapter, laneRun, PREFILL_BATCH, SLOW_CPU_ADAPTER, SLOW_GPU, type ProfileOption } from '../src/gpu/profile';
import { InvalidRequestError, ResourceError } from '../src/errors';
import { loadModel } from '../src/model/load';
import { ADAPTERS } from './helpers/fake-adapters';
import { fixturePath } from './helpers/fixtures';
import { writeGGUF } from './helpers/gguf-writer';
import { greedyLogits, maxRelativeDiff } from './helpers/greedy-logits';
import { archModelFiles, tinyModelSpec } from './helpers/tiny-models';
import { gridArch, gridModel } from './helpers/quant-grid';
import { tinyEncoderSpec, tinyQwen3EmbeddingSpec } from './helpers/tiny-embedding-models';
import { embedTokens, modelPooling } from '../src/model/embed';

const gpuKernels = { matvec: 'subgroup', laneSteps: 8, alignedWeights: true, attention: 'flash', matmul: 'tiled', fuseNorm: true, prefillBatch: GPU_PREFILL_BATCH, sampling: 'wide', throughput: SLOW_GPU } as const;
const softwareKernels = { matvec: 'rows', laneSteps: 1, alignedWeights: false, attention: 'whole', matmul: 'rows', fuseNorm: false, prefillBatch: PREFILL_BATCH, sampling: 'single', throughput: SLOW_CPU_ADAPTER } as const;
/** What a load reports of a profile's choices: all but the throughput its prefill submits are cut for. */
const reported = (choices: object) => Object.fromEntries(Object.entries(choices).filter(([key]) => key !== 'throughput'));
/** A GPU whose workgroups are too small for matmul-tiled.wgsl (WebGPU's default limits): the rows matmul and its batch. */
const smallWorkgroups = { matmul: 'rows', prefillBatch: PREFILL_BATCH } as const;

describe('chooseProfile from the adapter alone', () => {
  test('GPUs get the GPU profile (subgroup matvec where they have subgroups, else the workgroup one; f16 where they have it); SwiftShader, lavapipe and fallback adapters the software one', () => {
    assert.deepEqual(chooseProfile(ADAPTERS.h200), { name: 'gpu', precision: { float: 'f16', quantized: 'f16' }, kvCache: 'f16', ...gpuKernels });
    assert.deepEqual(chooseProfile(ADAPTERS.appleM2), { name: 'gpu', precision: { float: 'f16', quantized: 'f16' }, kvCache: 'f16', ...gpuKernels });
    assert.deepEqual(chooseProfile(ADAPTERS.intelGen9), { name: 'gpu', precision: { float: 'f32', quantized: 'f32' }, kvCache: 'f32', ...gpuKernels, matvec: 'workgroup', ...smallWorkgroups });
    for (const a of [ADAPTERS.swiftshader, ADAPTERS.lavapipe, ADAPTERS.warp]) {
      assert.ok(isSoftwareAdapter(a), a.name);
      assert.deepEqual(chooseProfile(a), { name: 'software', precision: { float: 'f32', quantized: 'q8' }, kvCache: 'f32', ...softwareKernels }, a.name);
    }
    for (const a of [ADAPTERS.h200, ADAPTERS.appleM2, ADAPTERS.intelGen9]) assert.equal(isSoftwareAdapter(a), false, a.name);
    // Without WGSL's dot4I8Packed the software profile keeps f32 for q4_0/q8_0 models too.
    assert.deepEqual(chooseProfile({ ...ADAPTERS.swiftshader, packedIntegerDot: false }).precision, { float: 'f32', quantized: 'f32' });
  });

  test('any profile can be forced on any adapter, or some of its choices overridden', () => {
    assert.deepEqual(chooseProfile(ADAPTERS.lavapipe, 'gpu'), { name: 'gpu', precision: { float: 'f16', quantized: 'f16' }, kvCache: 'f16', ...gpuKernels });
    assert.deepEqual(chooseProfile(ADAPTERS.swiftshader, 'gpu'), { name: 'gpu', precision: { float: 'f32', quantized: 'f32' }, kvCache: 'f32', ...gpuKernels });
    assert.deepEqual(chooseProfile(ADAPTERS.h200, 'software'), { name: 'software', precision: { float: 'f32', quantized: 'q8' }, kvCache: 'f32', ...softwareKernels });
    assert.deepEqual(chooseProfile(ADAPTERS.lavapipe, { fuseNorm: true }), { ...chooseProfile(ADAPTERS.lavapipe), fuseNorm: true });
    assert.deepEqual(chooseProfile(ADAPTERS.h200, { base: 'auto', attention: 'whole', prefillBatch: 8 }), { ...chooseProfile(ADAPTERS.h200), attention: 'whole', prefillBatch: 8 });
    assert.deepEqual(chooseProfile(ADAPTERS.lavapipe, { base: 'gpu', matvec: 'rows' }), { ...chooseProfile(ADAPTERS.lavapipe, 'gpu'), matvec: 'rows' });
    assert.deepEqual(chooseProfile(ADAPTERS.lavapipe, { base: 'gpu', matvec: 'workgroup' }), { ...chooseProfile(ADAPTERS.lavapipe, 'gpu'), matvec: 'workgroup' });
    assert.deepEqual(chooseProfile(ADAPTERS.h200, { laneSteps: 4 }), { ...chooseProfile(ADAPTERS.h200), laneSteps: 4 });
    assert.deepEqual(chooseProfile(ADAPTERS.h200, { alignedWeights: false }), { ...chooseProfile(ADAPTERS.h200), alignedWeights: false });
    assert.deepEqual(chooseProfile(ADAPTERS.intelGen9, { matvec: 'rows' }), { ...chooseProfile(ADAPTERS.intelGen9), matvec: 'rows' });
    assert.deepEqual(chooseProfile(ADAPTERS.h200, 'auto'), chooseProfile(ADAPTERS.h200));
    assert.deepEqual(chooseProfile(ADAPTERS.h200, { matmul: 'rows' }), { ...chooseProfile(ADAPTERS.h200), matmul: 'rows' });
    assert.deepEqual(chooseProfile(ADAPTERS.lavapipe, { matmul: 'tiled' }), { ...chooseProfile(ADAPTERS.lavapipe), matmul: 'tiled' });
    const slower = { flopsPerSecond: 1e6, bytesPerSecond: 1e9 };
    assert.deepEqual(chooseProfile(ADAPTERS.lavapipe, { throughput: slower }), { ...chooseProfile(ADAPTERS.lavapipe), throughput: slower });
  });

  test("what cannot run or is malformed is an InvalidRequestError that names the choice: subgroup matvec without 'subgroups', unknown names and values", () => {
    const rejects = (option: unknown, message: RegExp) =>
      assert.throws(() => chooseProfile(ADAPTERS.intelGen9, option as ProfileOption), (e: unknown) => e instanceof InvalidRequestError && message.test(e.message), String(message));
    rejects({ matvec: 'subgroup' }, /matvec 'subgroup' needs the WebGPU feature 'subgroups', which intel gen-9 lacks/);
    rejects('cpu', /profile must be 'auto', 'gpu', 'software' or an object of kernel choices, got "cpu"/);
    rejects(['gpu'], /profile must be 'auto', 'gpu', 'software' or an object/);
    rejects({ base: 'cpu' }, /profile\.base must be 'auto', 'gpu' or 'software', got "cpu"/);
    rejects({ fusedNorm: true }, /profile\.fusedNorm is not a kernel choice; known: base, matvec, laneSteps, alignedWeights, attention, matmul, fuseNorm, prefillBatch/);
    rejects({ matmul: 'tiled' }, /matmul 'tiled' needs 17408 bytes of workgroup memory and 256 invocations per workgroup; intel gen-9 has 16384 and 256/);
    rejects({ matmul: 'cooperative' }, /profile\.matmul must be 'tiled' or 'rows', got "cooperative"/);
    rejects({ laneSteps: 3 }, /profile\.laneSteps must be 1, 2, 4 or 8, got 3/);
    rejects({ alignedWeights: 'yes' }, /profile\.alignedWeights must be true or false, got "yes"/);
    rejects({ attention: true }, /profile\.attention must be 'flash', 'split' or 'whole', got true/);
    rejects({ matvec: 'threads' }, /profile\.matvec must be 'subgroup', 'workgroup' or 'rows', got "threads"/);
    rejects({ prefillBatch: 0 }, /profile\.prefillBatch must be a positive integer, got 0/);
    rejects({ prefillBatch: 2.5 }, /profile\.prefillBatch must be a positive integer, got 2.5/);
    rejects({ throughput: { flopsPerSecond: 0, bytesPerSecond: 1 } }, /profile\.throughput must be \{ flopsPerSecond, bytesPerSecond \} \(positive numbers\), got \{"flopsPerSecond":0,"bytesPerSecond":1\}/);
    rejects({ throughput: { flops: 1e12 } }, /profile\.throughput must be \{ flopsPerSecond, bytesPerSecond \}/);
  });

  test("a product's lane run is the profile's laneSteps where each of 64 lanes still gets one of the row's steps of 8 weights, else the longest that does", () => {
    const cases = [[8, 4096, 8], [8, 4864, 8], [8, 2048, 4], [8, 1024, 2], [8, 896, 1], [8, 256, 1], [8, 100, 1], [2, 8192, 2], [1, 8192, 1], [4, 2047, 2]];
    assert.deepEqual(cases.map(([steps, cols]) => laneRun(steps!, cols!)), cases.map(([, , want]) => want));
  });

  test("precision 'auto' is the profile's for the model's weights; an explicit one the adapter cannot do is a ResourceError; a bad value an InvalidRequestError", () => {
    const auto = (adapter: typeof ADAPTERS.h200, q8Matrices: boolean, option: ProfileOption = 'auto') =>
      choosePrecision('auto', adapter, chooseProfile(adapter, option), q8Matrices);
    assert.equal(auto(ADAPTERS.lavapipe, false), 'f32'); // lavapipe emulates f16 arithmetic
    assert.equal(auto(ADAPTERS.lavapipe, true), 'q8');
    assert.equal(auto(ADAPTERS.lavapipe, true, 'gpu'), 'f16');
    assert.equal(auto(ADAPTERS.h200, false), 'f16');
    assert.equal(auto(ADAPTERS.h200, true), 'f16');
    assert.equal(auto(ADAPTERS.h200, true, 'software'), 'q8');
    assert.equal(auto(ADAPTERS.intelGen9, true), 'f32');
    const swiftshader = chooseProfile(ADAPTERS.swiftshader);
    assert.equal(choosePrecision(undefined, ADAPTERS.swiftshader, swiftshader), 'f32');
    assert.equal(choosePrecision('f32', ADAPTERS.swiftshader, swiftshader), 'f32');
    assert.equal(choosePrecision('f16', ADAPTERS.lavapipe, chooseProfile(ADAPTERS.lavapipe)), 'f16');
    assert.throws(() => choosePrecision('f16', ADAPTERS.swiftshader, swiftshader), (e: unknown) =>
      e instanceof ResourceError && /'shader-f16'.*google swiftshader.*'auto'.*'f32'/.test(e.message));
    assert.throws(() => choosePrecision('half' as never, ADAPTERS.lavapipe, chooseProfile(ADAPTERS.lavapipe)), InvalidRequestError);
  });

  test("kvCache 'auto' is f16 on the GPU profile with shader-f16 and f32 otherwise (CPU adapters keep f32); 'f16' without shader-f16 is a ResourceError; a bad value an InvalidRequestError", () => {
    const auto = (adapter: typeof ADAPTERS.h200, option: ProfileOption = 'auto') => chooseKvCache(undefined, adapter, chooseProfile(adapter, option));
    assert.equal(auto(ADAPTERS.h200), 'f16');
    assert.equal(auto(ADAPTERS.appleM2), 'f16');
    assert.equal(auto(ADAPTERS.intelGen9), 'f32');
    for (const a of [ADAPTERS.swiftshader, ADAPTERS.lavapipe, ADAPTERS.warp]) assert.equal(auto(a), 'f32', a.name);
    assert.equal(auto(ADAPTERS.lavapipe, 'gpu'), 'f16');
    assert.equal(auto(ADAPTERS.h200, 'software'), 'f32');
    assert.equal(chooseKvCache('auto', ADAPTERS.h200, chooseProfile(ADAPTERS.h200)), 'f16');
    assert.equal(chooseKvCache('f32', ADAPTERS.h200, chooseProfile(ADAPTERS.h200)), 'f32');
    assert.equal(chooseKvCache('f16', ADAPTERS.lavapipe, chooseProfile(ADAPTERS.lavapipe)), 'f16');
    const swiftshader = chooseProfile(ADAPTERS.swiftshader);
    assert.throws(() => chooseKvCache('f16', ADAPTERS.swiftshader, swiftshader), (e: unknown) =>
      e instanceof ResourceError && /kvCache 'f16' needs the WebGPU feature 'shader-f16'.*google swiftshader.*'auto'.*'f32'/.test(e.message));
    assert.throws(() => chooseKvCache('bf16' as never, ADAPTERS.h200, chooseProfile(ADAPTERS.h200)), (e: unknown) =>
      e instanceof InvalidRequestError && /kvCache must be 'auto', 'f16' or 'f32', got "bf16"/.test(e.message));
  });
});

describe('profiles on this machine (Node, Dawn on lavapipe)', () => {
  let gpu: AcquiredDevice;
  let dir: string;
  before(async () => {
    gpu = await acquireDevice();
    dir = mkdtempSync(join(tmpdir(), 'hearth-profile-'));
  });
  after(() => {
    gpu?.device.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('lavapipe is a software adapter: the load reports the software profile, or the one it was asked for', async () => {
    assert.ok(isSoftwareAdapter(gpu.adapter), `this machine's adapter: ${JSON.stringify(gpu.adapter)}`);
    const path = fixturePath('models/stories260K/stories260K.gguf');
    for (const [option, want] of [['auto', { name: 'software', ...reported(softwareKernels) }], ['gpu', { name: 'gpu', ...reported(gpuKernels) }]] as const) {
      const loaded = await loadModel(gpu, path, { contextLength: 64, profile: option });
      try {
        assert.deepEqual(loaded.info.profile, want);
        assert.equal(loaded.info.precision, option === 'gpu' ? 'f16' : 'f32'); // lavapipe has shader-f16
        assert.equal(loaded.info.kvCache, option === 'gpu' ? 'f16' : 'f32');
      } finally {
        loaded.destroy();
      }
    }
    // The GPU profile on an adapter without subgroups: the workgroup matvec, not an error.
    const withoutSubgroups = await loadModel({ ...gpu, adapter: { ...gpu.adapter, subgroups: false } }, path, { contextLength: 64, profile: 'gpu' });
    assert.equal(withoutSubgroups.info.profile?.matvec, 'workgroup');
    withoutSubgroups.destroy();
  });

  const models: [string, () => string][] = [
    ['stories260K.gguf', () => fixturePath('models/stories260K/stories260K.gguf')],
    ['stories260K-Q4_K_M.gguf', () => fixturePath('models/stories260K/stories260K-Q4_K_M.gguf')],
    // Q4_K_M with q/k/v biases and NeoX rope (layer 1: [q; k] Q4_K, v Q6_K): one main_qkv_mixed on the GPU profile.
    ['qwen2 Q4_K_M', () => {
      const path = join(dir, 'qwen2-q4_k_m.gguf');
      writeFileSync(path, gridModel(tinyModelSpec('qwen2', { ...gridArch('qwen2').options, contextLength: 2048 }), 'q4_k_m').quantized);
      return path;
    }],
    // Every tiny architecture model, with room for 2048 positions.
    ...archModelFiles(() => dir, () => ({ contextLength: 2048 })),
  ];
  for (const [name, file] of models) {
    test(`${name}: the GPU profile forced on lavapipe, with the subgroup and with the workgroup matvec, gives the software profile's greedy ids; logits within 1e-4 of the largest`, async () => {
      const path = file();
      const run = async (profile: ProfileOption, forced?: number[]) => {
        // f32 arithmetic and caches for both, so only the kernel variants differ. Flash attention: a 70-token prompt fills several tiles
        // of tokens and keys, and decoding past position 64 uses two chunks; sliding windows of 8 (Gemma) mask
        // within tiles. The GPU profile prefills 69 tokens on matmul-tiled.wgsl: a whole 64-token tile and a tail of 5.
        const loaded = await loadModel(gpu, path, { contextLength: 2048, precision: 'f32', kvCache: 'f32', profile });
        try {
          const prompt = Array.from({ length: 70 }, (_, i) => (1 + 3 * i + 7 * i * i) % loaded.config.vocabSize);
          return { name: loaded.info.profile?.name, matmul: loaded.info.profile?.matmul, ...(await greedyLogits(loaded, prompt, 12, forced)) };
        } finally {
          loaded.destroy();
        }
      };
      const software = await run('software');
      // Fed the software profile's ids, each step's argmax must be the software profile's next id: the same as the
      // GPU profile's own greedy run giving the same ids, in one load.
      const gpuForced = await run('gpu', software.ids);
      assert.deepEqual([software.name, gpuForced.name], ['software', 'gpu']);
      assert.equal(gpuForced.matmul, 'tiled');
      assert.deepEqual(gpuForced.ids, software.ids);
      const rel = maxRelativeDiff(software.logits, gpuForced.logits);
      assert.ok(rel <= 1e-4, `GPU-profile logits differ from the software profile's by ${rel} of the largest`);
      // As a GPU without subgroups runs it (matvec-workgroup.wgsl), fed the same ids: its argmax each step is the
      // software profile's greedy id.
      const workgroup = await run({ base: 'gpu', matvec: 'workgroup' }, software.ids);
      assert.deepEqual(workgroup.ids, software.ids);
      const relWorkgroup = maxRelativeDiff(software.logits, workgroup.logits);
      assert.ok(relWorkgroup <= 1e-4, `GPU-profile logits with the workgroup matvec differ from the software profile's by ${relWorkgroup} of the largest`);
    });
  }
  // Rows long enough for lane runs of several steps (laneRun: a run for each of 64 lanes, cols / 8 ≥ 64 · run): a
  // one-layer Llama at dim 256 and FFN 2048 in Q4_K_M, so ffn_down (2048 columns) takes runs of 4 steps under the GPU
  // profile's laneSteps 8, and every 256-column product one. Against runs of one step: the same greedy ids, logits
  // within 1e-4 of the largest (the same products, summed in another order across lanes).
  test('lane runs: the GPU profile gives each product the run laneRun picks for its rows; its ids and logits are those of one step per run', async () => {
    const path = join(dir, 'llama-long-rows-q4_k_m.gguf');
    writeFileSync(path, gridModel(tinyModelSpec('llama', { dim: 256, layers: 1, heads: 4, kvHeads: 2, ff: 2048, vocab: 512, contextLength: 256, seed: 5 }), 'q4_k_m').quantized);
    const run = async (laneSteps: number, forced?: number[]) => {
      const seen: Record<string, number>[] = [];
      const device = gpu.device;
      const create = device.createComputePipelineAsync.bind(device);
      device.createComputePipelineAsync = (d: GPUComputePipelineDescriptor) => { seen.push({ ...(d.compute.constants as Record<string, number>) }); return create(d); };
      try {
        const loaded = await loadModel(gpu, path, { contextLength: 256, precision: 'f32', kvCache: 'f32', profile: { base: 'gpu', laneSteps } });
        try {
          const prompt = Array.from({ length: 20 }, (_, i) => (1 + 3 * i + 7 * i * i) % loaded.config.vocabSize);
          return { laneSteps: loaded.info.profile?.laneSteps, seen, ...(await greedyLogits(loaded, prompt, 8, forced)) };
        } finally {
          loaded.destroy();
        }
      } finally {
        device.createComputePipelineAsync = create;
      }
    };
    const oneStep = await run(1);
    const runs = await run(8, oneStep.ids);
    assert.deepEqual([oneStep.laneSteps, runs.laneSteps], [1, 8]);
    assert.ok(oneStep.seen.every((c) => c.LANE_STEPS === undefined), 'one step per run is the kernels\' default: no LANE_STEPS');
    const withRuns = runs.seen.filter((c) => c.LANE_STEPS !== undefined);
    assert.ok(withRuns.length > 0 && withRuns.every((c) => c.COLS === 2048 && c.LANE_STEPS === laneRun(8, 2048) && laneRun(8, 2048) === 4),
      `LANE_STEPS 4 on the 2048-column products alone: ${JSON.stringify(withRuns)}`);
    assert.ok(runs.seen.some((c) => c.COLS === 256 && c.ROWS !== undefined), 'the 256-column products were made too');
    assert.deepEqual(runs.ids, oneStep.ids);
    const rel = maxRelativeDiff(oneStep.logits, runs.logits);
    assert.ok(rel <= 1e-4, `runs of 4 steps differ from runs of one by ${rel} of the largest logit`);
  });

  // Precision 'q8' under the GPU profile: the one-token products run on matvec-q8-subgroup / matvec-q8-workgroup
  // (lanes across a row's blocks), the software profile's on matvec-q8.wgsl: the same block products summed in
  // another order. An activation an ulp off can then land on the other side of a rounding step of the next
  // product's 8-bit quantizer (a whole quantum), so the logits agree to the error of 8-bit activations that
  // q8.test.ts bounds against f32 (4e-2 of the largest logit), not to f32 rounding; the greedy ids exactly.
  test("stories260K Q4_0 and Q8_0 with precision 'q8': the GPU profile (subgroup and workgroup matvec) gives the software profile's greedy ids; logits within 4e-2 of the largest", async (t) => {
    for (const file of ['stories260K-Q4_0.gguf', 'stories260K-Q8_0.gguf']) {
      const run = async (profile: ProfileOption, forced?: number[]) => {
        const loaded = await loadModel(gpu, fixturePath(`models/stories260K/${file}`), { contextLength: 64, precision: 'q8', kvCache: 'f32', profile });
        try {
          assert.equal(loaded.info.precision, 'q8');
          const prompt = Array.from({ length: 9 }, (_, i) => (1 + 3 * i + 7 * i * i) % loaded.config.vocabSize);
          return await greedyLogits(loaded, prompt, 10, forced);
        } finally {
          loaded.destroy();
        }
      };
      const software = await run('software');
      for (const matvec of ['subgroup', 'workgroup'] as const) {
        const lanes = await run({ base: 'gpu', matvec }, software.ids);
        assert.deepEqual(lanes.ids, software.ids, `${file}, ${matvec} matvec`);
        const rel = maxRelativeDiff(software.logits, lanes.logits);
        assert.ok(rel <= 4e-2, `${file}: q8 logits with the ${matvec} matvec differ from the software profile's by ${rel} of the largest`);
        t.diagnostic(`${file}, ${matvec} matvec: max |Δlogit| = ${rel.toExponential(2)}·max|logit|`);
      }
    }
  });
  // Embedding passes pack several sequences in one batch: flash attention masks each token to its own sequence.
  for (const [name, spec] of [['bert', () => tinyEncoderSpec('bert')], ['nomic-bert', () => tinyEncoderSpec('nomic-bert')], ['qwen3-embedding', () => tinyQwen3EmbeddingSpec()]] as const) {
    test(`${name} embeddings: flash attention over packed sequences gives the software profile's vectors within 1e-5 of the largest`, async () => {
      const path = join(dir, `${name}.gguf`);
      writeFileSync(path, writeGGUF(spec()));
      const embed = async (attention: 'flash' | 'whole') => {
        const loaded = await loadModel(gpu, path, { embeddings: true, contextLength: 64, precision: 'f32', kvCache: 'f32', profile: { attention } });
        try {
          const inputs = [[1, 5, 9, 2], [1, 7, 3, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 2], [1, 2]].map((ids) => ids.map((id) => id % loaded.config.vocabSize));
          return await embedTokens(loaded.model, inputs, modelPooling(loaded.config));
        } finally {
          loaded.destroy();
        }
      };
      const whole = await embed('whole');
      const rel = maxRelativeDiff(whole, await embed('flash'));
      assert.ok(rel <= 1e-5, `flash-attention embeddings differ from attention.wgsl's by ${rel} of the largest`);
    });
  }
});
