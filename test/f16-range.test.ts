// f16 safety: activations beyond f16's range (±65504) on the f16 path. Real checkpoints (Gemma 2/3, Qwen2.5) have
// attention outputs and ffn_down inputs that large, which no norm bounds; the product kernels round their input to
// f16 and scale such steps by a power of two first (shaders/dtype/act-f16.wgsl). The test model
// (test/helpers/f16-range-model.ts) is checked to have them, on the CPU reference; then the f16 path, in the
// software profile and in the GPU profile (matvec-subgroup, fused norms), prompt prefilled (matmul) and decoded
// (matvec), must give finite logits within 1e-2·max|logit| of the f32 path's at every step (as test/precision.test.ts
// asks of the ordinary models) and the same greedy ids for the first steps. Measured on lavapipe: ≤ 3e-3·max|logit|,
// greedy ids equal for all 16 steps in both profiles. The kernel cases with |x| up to 1e6: test/kernels/f16-range-cases.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeGGUF } from './helpers/gguf-writer';
import { f16RangeModelSpec } from './helpers/f16-range-model';
import { comparePrecisions, type CompareOptions } from './helpers/precision-compare';
import { forwardLayers, loadCpuModel, newState } from './reference/forward';

const F16_MAX = 65504;
/** Per-step bound on |f16 − f32| logits, relative to the step's largest |logit| (test/precision.test.ts's). */
const REL_TOLERANCE = 1e-2;
const STEPS = 16;
/** Leading greedy steps whose ids must agree (f32's top-2 margins there, ≥ 0.03, are over 6× the f16 error). */
const GREEDY_STEPS = 4;
const PROMPT = 'the cat sat on a mat';

const model = writeGGUF(f16RangeModelSpec());

test('the f16-range model: under 1 MB, its attention outputs and ffn_down inputs exceed f16\'s range (CPU reference)', async () => {
  assert.ok(model.byteLength < 1 << 20, `${model.byteLength} bytes`);
  const cpu = await loadCpuModel(model);
  const largest = { attn_output: 0, ffn_down: 0 };
  cpu.probe = (tensor, input) => { for (const v of input) largest[tensor] = Math.max(largest[tensor], Math.abs(v)); };
  forwardLayers(cpu, newState(cpu, 8), [1, 7, 42, 99, 3], 0);
  assert.ok(largest.attn_output > F16_MAX, `largest |attention output| ${largest.attn_output}`);
  assert.ok(largest.ffn_down > F16_MAX, `largest |ffn_down input| ${largest.ffn_down}`);
});

const variants: { name: string; options: CompareOptions }[] = [
  { name: 'software profile (matvec, matmul)', options: { profile: 'software', prefill: true } },
  { name: 'GPU profile (matvec-subgroup, fused norms)', options: { profile: 'gpu', prefill: true } },
];

for (const v of variants) {
  test(`f16-range model, ${v.name}: f16 logits finite and within ${REL_TOLERANCE}·max|logit| of f32`, async (t) => {
    const r = await comparePrecisions(model, PROMPT, STEPS, 'f16', undefined, v.options);
    assert.deepEqual(r.chosen, { f32: 'f32', other: 'f16' });
    for (const [s, step] of r.steps.entries()) {
      // An inf or NaN f16 logit makes maxAbsDiff inf or NaN.
      assert.ok(Number.isFinite(step.maxAbsLogit) && Number.isFinite(step.maxAbsDiff), `step ${s}: f32 max|logit| ${step.maxAbsLogit}, max |Δlogit| ${step.maxAbsDiff}`);
      const bound = REL_TOLERANCE * step.maxAbsLogit;
      assert.ok(step.maxAbsDiff <= bound, `step ${s}: |Δlogit| ${step.maxAbsDiff} > ${bound}`);
      if (step.margin > 2 * bound) assert.ok(step.argmaxAgrees, `step ${s}: argmax differs at margin ${step.margin}`);
    }
    assert.ok(r.greedyAgree >= GREEDY_STEPS, `greedy ids agree for ${r.greedyAgree} steps`);
    t.diagnostic(`max |Δlogit| ${r.maxRelDiff.toExponential(2)}·max|logit|; greedy ids agree for ${r.greedyAgree}/${STEPS} steps; ` +
      `min f32 top-2 margin over the first ${GREEDY_STEPS} steps ${Math.min(...r.steps.slice(0, GREEDY_STEPS).map((s) => s.margin)).toFixed(3)}`);
  });
}
