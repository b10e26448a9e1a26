// Precision 'q8' on whole models: q4_0 and q8_0 matrices multiply activations quantized to 8 bits per block of
// 32 (quantize-q8.wgsl, matvec-q8.wgsl, matmul-q8.wgsl; the kernels against their CPU twins are in
// test/kernels/q8-cases.ts, prefill against decoding in prefill.test.ts, the decode-step discipline in
// decode-discipline.test.ts). Here: logits against the f32 path on stories260K's quantized files, fed the same
// context, within 4e-2·max|logit| per step (measured on lavapipe: ≤ 1.8e-2 on Q4_0, 1.3e-2 on Q8_0, 1.1e-2 on
// Q4_K_M, whose Q8_0 tensors take the q8 path and the rest the float one; every file's own greedy run matched
// f32's for all 32 steps, which is reported, not asserted); the same on every architecture's tiny model
// quantized to Q4_0 at load; the GPU bytes the loader allocates, which `hearth inspect --precision q8` and
// checkModel's estimate report; and the error when the browser's WGSL lacks dot4I8Packed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { acquireDevice } from '../src/gpu/device';
import { chooseProfile, choosePrecision, type AdapterTraits, type PrecisionOption } from '../src/gpu/profile';
import { ResourceError } from '../src/errors';
import { loadModel } from '../src/model/load';
import { openModel } from '../src/model/open';
import { GGMLType } from '../src/model/ggml-types';
import { estimateGpuMemory, gpuBufferSize, prefillBatch, q8ScratchBytes } from '../src/model/memory';
import { comparePrecisions } from './helpers/precision-compare';
import { writeGGUF } from './helpers/gguf-writer';
import { ARCH_CASES, tinyModelSpec, type TinyArch } from './helpers/tiny-models';
import { fixturePath } from './helpers/fixtures';
import { ADAPTERS, fakeAdapter } from './helpers/fake-adapters';

const REL_TOLERANCE = 4e-2;
const STEPS = 32;
const stories = (file: string) => fixturePath('models/stories260K', file);

for (const file of ['stories260K-Q4_0.gguf', 'stories260K-Q8_0.gguf', 'stories260K-Q4_K_M.gguf']) {
  test(`${file}: precision q8 within ${REL_TOLERANCE}·max|logit| of f32 at every step`, async (t) => {
    const r = await comparePrecisions(stories(file), 'Once upon a time', STEPS, 'q8');
    assert.deepEqual(r.chosen, { f32: 'f32', other: 'q8' });
    for (const [s, step] of r.steps.entries()) {
      const bound = REL_TOLERANCE * step.maxAbsLogit;
      assert.ok(step.maxAbsDiff <= bound, `step ${s}: |Δlogit| ${step.maxAbsDiff} > ${bound}`);
      if (step.margin > 2 * bound) assert.ok(step.argmaxAgrees, `step ${s}: argmax differs at margin ${step.margin}`);
    }
    t.diagnostic(`q8 vs f32 over ${STEPS} steps: max |Δlogit| = ${r.maxRelDiff.toExponential(2)}·max|logit|; greedy ids agree for ${r.greedyAgree}/${STEPS} steps`);
  });
}

// Every architecture's tiny model (dim 256, F32) quantized to Q4_0 at load: q8 against f32 on the same Q4_0
// weights, through each architecture's projections (fused QKV and gate-up, biases, GELU, q/k norms, soft-caps).
// Random weights quantize worse than trained ones: measured ≤ 3.1e-2·max|logit| (phi3) on lavapipe, so the bound
// here is 6e-2; greedy agreement (11–32 of 32 steps: these models' top-2 margins are small) is reported.
const ARCH_REL_TOLERANCE = 6e-2;
const seenArch = new Set<TinyArch>();
for (const c of ARCH_CASES.filter((a) => !seenArch.has(a.arch) && seenArch.add(a.arch))) {
  test(`${c.name}, quantized to Q4_0 at load: precision q8 within ${ARCH_REL_TOLERANCE}·max|logit| of f32`, async (t) => {
    const bytes = writeGGUF(tinyModelSpec(c.arch, c.options));
    const opened = await openModel(bytes.slice(), { quantize: 'q4_0' });
    const q4Matrices = opened.file.tensors.filter((x) => x.type === GGMLType.Q4_0).length;
    await opened.close();
    assert.ok(q4Matrices >= 4, `only ${q4Matrices} Q4_0 matrices: the q8 path would hardly run`);
    const r = await comparePrecisions(bytes, c.prompt, STEPS, 'q8', 'q4_0');
    assert.deepEqual(r.chosen, { f32: 'f32', other: 'q8' });
    for (const [s, step] of r.steps.entries()) {
      assert.ok(step.maxAbsDiff <= ARCH_REL_TOLERANCE * step.maxAbsLogit, `step ${s}: |Δlogit| ${step.maxAbsDiff} > ${ARCH_REL_TOLERANCE * step.maxAbsLogit}`);
    }
    t.diagnostic(`${q4Matrices} Q4_0 matrices; q8 vs f32: max |Δlogit| = ${r.maxRelDiff.toExponential(2)}·max|logit|; greedy ids agree for ${r.greedyAgree}/${STEPS} steps`);
  });
}

test('precision q8: the loader allocates the estimate (f32 bytes + the quantized-activation scratch), and inspect reports it', async () => {
  const path = stories('stories260K-Q4_0.gguf');
  const contextLength = 256;
  const gpu = await acquireDevice();
  const bytes: Record<string, number> = {};
  try {
    for (const precision of ['f32', 'q8'] as const) {
      const loaded = await loadModel(gpu, path, { contextLength, precision });
      bytes[precision] = loaded.info.gpuBytes;
      loaded.destroy();
    }
  } finally {
    gpu.device.destroy();
  }
  const opened = await openModel(path);
  const config = opened.readConfig();
  const tensors = opened.file.tensors;
  await opened.close();
  assert.equal(bytes.q8, estimateGpuMemory(config, tensors, contextLength, { precision: 'q8' }).total);
  assert.equal(bytes.q8! - bytes.f32!, gpuBufferSize(q8ScratchBytes(config, prefillBatch(config, contextLength))));

  const run = promisify(execFile);
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const { stdout } = await run(process.execPath, ['--import', './scripts/register.mjs', 'src/cli.ts', 'inspect', '--model', path,
    '--context-length', String(contextLength), '--precision', 'q8', '--json'], { cwd: repoRoot });
  const report = JSON.parse(stdout);
  assert.equal(report.precision.chosen, 'q8');
  assert.equal(report.gpuMemory.total, bytes.q8);
});

test("'auto' is q8 on CPU adapters for models with q4_0/q8_0 matrices and where WGSL has dot4I8Packed; precision 'q8' without it is a ResourceError that says what to do", () => {
  const adapter = (shaderF16: boolean, software: boolean, packedIntegerDot?: boolean) =>
    fakeAdapter({ ...(software ? ADAPTERS.swiftshader : ADAPTERS.h200), shaderF16, packedIntegerDot });
  const precisionFor = (requested: PrecisionOption | undefined, traits: AdapterTraits, q8Matrices?: boolean) =>
    choosePrecision(requested, traits, chooseProfile(traits), q8Matrices);
  assert.throws(() => precisionFor('q8', adapter(false, true, false)), (e: unknown) =>
    e instanceof ResourceError && /packed_4x8_integer_dot_product/.test(e.message) && /Update the browser, or use precision 'auto'/.test(e.message));
  assert.equal(precisionFor('q8', adapter(false, false, true)), 'q8');
  assert.equal(precisionFor('q8', adapter(true, false)), 'q8');
  // CPU adapters (SwiftShader without shader-f16, lavapipe with it): q8 for q4_0/q8_0 models, else f32.
  assert.equal(precisionFor('auto', adapter(false, true, true), true), 'q8');
  assert.equal(precisionFor('auto', adapter(true, true), true), 'q8');
  assert.equal(precisionFor(undefined, adapter(true, true), true), 'q8');
  assert.equal(precisionFor('auto', adapter(false, true, true), false), 'f32');
  assert.equal(precisionFor('auto', adapter(true, true), false), 'f32'); // lavapipe emulates f16: f32 is faster
  assert.equal(precisionFor('auto', adapter(false, true, false), true), 'f32'); // no dot4I8Packed: never q8
  // GPUs: f16 where the adapter has it, else f32, whatever the weights.
  assert.equal(precisionFor('auto', adapter(false, false, true), true), 'f32');
  assert.equal(precisionFor('auto', adapter(true, false, true), true), 'f16');
});
