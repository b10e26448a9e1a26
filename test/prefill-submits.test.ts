// No submit runs long: a prefill pass is cut into submits by groups of layers (and into passes of fewer tokens when
// one layer of a full batch is too much) from the work each layer does at the throughput the adapter profile
// assumes (src/model/submit-plan.ts). A small model keeps one submit per pass; a tiny model forced into groups by
// a low injected throughput gives the one-submit prefill's logits bit for bit and its greedy ids; an abort during
// a split prefill submits nothing more, the cache keeps only the tokens every layer of which ran, and the next
// request gives a fresh session's tokens. Counts of submits, not timings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { chooseProfile, GPU_PREFILL_BATCH, PREFILL_BATCH, type Throughput } from '../src/gpu/profile';
import { loadModel, type LoadedModel } from '../src/model/load';
import { SubmitPlan, SUBMIT_SECONDS, type LayerWork } from '../src/model/submit-plan';
import { Session } from '../src/engine/worker/session';
import { embedTokens, modelPooling } from '../src/model/embed';
import { writeGGUF } from './helpers/gguf-writer';
import { tinyEncoderSpec } from './helpers/tiny-embedding-models';
import { ADAPTERS } from './helpers/fake-adapters';
import { fixturePath } from './helpers/fixtures';
import { seededRng, randomInt } from './helpers/seeded';

const STORIES = fixturePath('models/stories260K/stories260K.gguf');

/** A BOS-led prompt of `n` pseudo-random ids (ids below 3 are control tokens in this vocabulary). */
function prompt(n: number, seed: number): number[] {
  const rng = seededRng(seed);
  return [1, ...Array.from({ length: n - 1 }, () => 3 + randomInt(rng, 512 - 3))];
}

/** The submits a prefill of `n` tokens from `pos` makes under `plan`: [tokens, groups] per pass. */
function planned(plan: SubmitPlan, n: number, pos = 0): [number, number][] {
  const passes: [number, number][] = [];
  for (let done = 0; done < n;) {
    const tokens = plan.passTokens(pos + done, n - done);
    passes.push([tokens, plan.layerGroups(tokens, pos + done).length]);
    done += tokens;
  }
  return passes;
}

describe('the submit plan from each layer\'s work and the profile\'s throughput', () => {
  // Llama 3 8B in Q4_0: 32 layers of 4096 × (4096 + 2 × 1024) q/k/v, 4096² o, 3 × 4096 × 14336 FFN; 18 bytes per 32 weights.
  const params = 4096 * (4096 + 2 * 1024) + 4096 * 4096 + 3 * 4096 * 14336;
  const llama8b = Array.from({ length: 32 }, (): LayerWork => ({ params, bytes: (params / 32) * 18 }));
  const llama8bConfig = { headCount: 32, headCountKv: 8, headDim: 128 };

  test('an 8B model on the GPU profile: 256-token batches cut into groups and passes that each stay within SUBMIT_SECONDS', () => {
    const gpu = chooseProfile(ADAPTERS.h200);
    const plan = new SubmitPlan(llama8bConfig, llama8b, GPU_PREFILL_BATCH, gpu.throughput);
    for (const pos of [0, 4096]) {
      const tokens = plan.passTokens(pos, 4096);
      assert.ok(tokens < GPU_PREFILL_BATCH && tokens >= 4 && tokens % 4 === 0, `a pass at ${pos} takes ${tokens} tokens`);
      const ends = plan.layerGroups(tokens, pos);
      assert.equal(ends.at(-1), 32);
      assert.ok(ends.length > 1, 'more than one submit per pass');
      let from = 0;
      for (const to of ends) {
        let seconds = 0;
        for (let l = from; l < to; l++) seconds += plan.layerSeconds(l, tokens, pos);
        assert.ok(seconds <= SUBMIT_SECONDS, `layers ${from}–${to - 1} of ${tokens} tokens at ${pos}: ${seconds.toFixed(2)} s`);
        from = to;
      }
    }
    // Attention over a long context makes later passes heavier: never fewer submits per token.
    assert.ok(plan.passTokens(4096, 4096) <= plan.passTokens(0, 4096));
  });

  test('a small model keeps one submit per full batch on either profile; no throughput: one submit per pass whatever the model', () => {
    const small = Array.from({ length: 6 }, (): LayerWork => ({ params: 2.4e6, bytes: 4 * 2.4e6 })); // stories15M's shape, f32
    const config = { headCount: 6, headCountKv: 6, headDim: 48 };
    for (const [adapter, batch] of [[ADAPTERS.lavapipe, PREFILL_BATCH], [ADAPTERS.h200, GPU_PREFILL_BATCH]] as const) {
      const plan = new SubmitPlan(config, small, batch, chooseProfile(adapter).throughput);
      assert.deepEqual(planned(plan, 3 * batch), [[batch, 1], [batch, 1], [batch, 1]], adapter.name);
    }
    const unplanned = new SubmitPlan(llama8bConfig, llama8b, GPU_PREFILL_BATCH, undefined);
    assert.deepEqual(planned(unplanned, 300), [[GPU_PREFILL_BATCH, 1], [300 - GPU_PREFILL_BATCH, 1]]);
  });
});

/** Counts queue.submit calls on `device` (calling `onSubmit` with the count after each); returns the counter. */
function countSubmits(device: GPUDevice, onSubmit?: (submits: number) => void) {
  const counter = { submits: 0, restore: () => {} };
  const submit = device.queue.submit;
  device.queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    submit.call(device.queue, buffers);
    counter.submits++;
    onSubmit?.(counter.submits);
  };
  counter.restore = () => { device.queue.submit = submit; };
  return counter;
}

function assertBitEqual(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length);
  let differing = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differing++;
  assert.equal(differing, 0, `${what}: ${differing} of ${a.length} values differ from the one-submit pass's`);
}

describe('stories260K prefill on lavapipe, one submit per pass and cut into groups', () => {
  let gpu: AcquiredDevice;
  let whole: LoadedModel;
  const ids = prompt(70, 11); // 69 prefilled: passes of 32, 32 and 5 tokens
  before(async () => {
    gpu = await acquireDevice();
    whole = await loadModel(gpu, STORIES, { contextLength: 128, precision: 'f32' });
  });
  after(() => { whole?.destroy(); gpu?.device.destroy(); });

  /** stories260K with `throughput` in place of the software profile's. */
  const loadWith = (throughput: Throughput) => loadModel(gpu, STORIES, { contextLength: 128, precision: 'f32', profile: { throughput } });

  test('the software profile: one submit per pass', async () => {
    assert.deepEqual(planned(whole.model.submitPlan, ids.length - 1), [[32, 1], [32, 1], [5, 1]]);
    const counter = countSubmits(gpu.device);
    try {
      whole.model.prefill(ids.slice(0, -1), 0);
    } finally {
      counter.restore();
    }
    assert.equal(counter.submits, 3);
    await gpu.device.queue.onSubmittedWorkDone();
  });

  // 20 MFLOP/s: a layer of a 32-token pass is ~0.15 s, so a pass is cut into groups of two or three layers.
  // 0.1 MFLOP/s: one layer of 4 tokens is over the budget already: 4-token passes, a submit per layer.
  for (const [what, throughput] of [['groups of layers', { flopsPerSecond: 2e7, bytesPerSecond: 1e12 }], ['a layer a submit, 4-token passes', { flopsPerSecond: 1e5, bytesPerSecond: 1e12 }]] as const) {
    test(`${what}: the submits the plan says, the one-submit prefill's logits bit for bit and its greedy ids`, async () => {
      const split = await loadWith(throughput);
      try {
        const passes = planned(split.model.submitPlan, ids.length - 1);
        assert.ok(passes.filter(([tokens]) => tokens === PREFILL_BATCH).every(([, groups]) => groups > 1), `every full pass cut into groups: ${JSON.stringify(passes)}`);
        if (throughput.flopsPerSecond === 1e5) {
          assert.deepEqual(passes, Array.from({ length: Math.ceil(69 / 4) }, (_, i) => [Math.min(4, 69 - 4 * i), split.config.blockCount]));
        }
        const counter = countSubmits(gpu.device);
        const logits = await new Session(split).logits(ids).finally(counter.restore);
        assert.equal(counter.submits, passes.reduce((sum, [, groups]) => sum + groups, 0) + 1, 'the prefill\'s submits and the step\'s');
        assertBitEqual(logits, await new Session(whole).logits(ids), what);

        // Generation takes the abortable path (a signal): submits awaited two at a time.
        const signal = new AbortController().signal;
        const got = await new Session(split).generate(ids, { maxTokens: 8 }, () => {}, undefined, signal);
        const want = await new Session(whole).generate(ids, { maxTokens: 8 }, () => {}, undefined, signal);
        assert.deepEqual(got.tokens, want.tokens);
      } finally {
        split.destroy();
      }
    });
  }

  test('the GPU profile\'s kernels (tiled products, flash attention, f16): passes of fewer tokens and a submit per layer give the 256-token pass\'s logits bit for bit', async () => {
    const long = prompt(300, 19);
    const gpuWhole = await loadModel(gpu, STORIES, { contextLength: 512, profile: 'gpu' });
    const gpuSplit = await loadModel(gpu, STORIES, { contextLength: 512, profile: { base: 'gpu', throughput: { flopsPerSecond: 3e6, bytesPerSecond: 1e12 } } });
    try {
      assert.deepEqual(planned(gpuWhole.model.submitPlan, long.length - 1), [[GPU_PREFILL_BATCH, 1], [long.length - 1 - GPU_PREFILL_BATCH, 1]]);
      const passes = planned(gpuSplit.model.submitPlan, long.length - 1);
      assert.ok(passes.every(([tokens, groups]) => tokens < GPU_PREFILL_BATCH && (tokens < 16 || groups === gpuSplit.config.blockCount)), JSON.stringify(passes));
      assertBitEqual(await new Session(gpuSplit).logits(long), await new Session(gpuWhole).logits(long), 'GPU profile');
    } finally {
      gpuWhole.destroy();
      gpuSplit.destroy();
    }
  });

  test('an abort during a split prefill: nothing submitted after it, the cache keeps whole passes, the next request gives a fresh session\'s tokens', async () => {
    const split = await loadWith({ flopsPerSecond: 2e7, bytesPerSecond: 1e12 });
    try {
      const [first, second] = planned(split.model.submitPlan, ids.length - 1);
      const abortAt = first![1] + Math.ceil(second![1] / 2); // in the middle of the second pass
      const session = new Session(split);
      const controller = new AbortController();
      let abortedAfter = 0;
      const counter = countSubmits(gpu.device, (n) => { if (n === abortAt) { controller.abort(); abortedAfter = n; } });
      const result = await session.generate(ids, { maxTokens: 8 }, () => {}, undefined, controller.signal).finally(counter.restore);
      assert.equal(abortedAfter, abortAt, 'the abort came during the prefill');
      assert.equal(result.finishReason, 'abort');
      assert.deepEqual(result.tokens, []);
      assert.equal(counter.submits - abortedAfter, 0, 'submits after the abort');
      // Only the first pass had every layer submitted: the second pass's positions are not counted as cached.
      assert.deepEqual(session.cachedTokens, ids.slice(0, first![0]));

      const next = await session.generate(ids, { maxTokens: 8 }, () => {}, undefined, new AbortController().signal);
      assert.equal(next.cachedTokens, first![0], 'the next request reuses the first pass');
      const fresh = await new Session(split).generate(ids, { maxTokens: 8 }, () => {});
      assert.deepEqual(next.tokens, fresh.tokens);
      const unsplit = await new Session(whole).generate(ids, { maxTokens: 8 }, () => {});
      assert.deepEqual(next.tokens, unsplit.tokens);
    } finally {
      split.destroy();
    }
  });
});

test('an embedding model\'s pass cut into groups of layers: the one-submit pass\'s vectors bit for bit', async () => {
  const gpu = await acquireDevice();
  const bytes = writeGGUF(tinyEncoderSpec('bert', { seed: 2, layers: 3 }));
  const options = { embeddings: true, contextLength: 64, precision: 'f32' } as const;
  const whole = await loadModel(gpu, bytes, options);
  const split = await loadModel(gpu, bytes, { ...options, profile: { throughput: { flopsPerSecond: 1e4, bytesPerSecond: 1e12 } } });
  try {
    const inputs = ['the cat sat on the mat', 'a dog', 'hello world, again and again'].map((text) => whole.tokenizer.encode(text));
    const tokens = inputs.reduce((sum, ids) => sum + ids.length, 0);
    assert.ok(tokens <= whole.model.batchSize, 'one pass');
    const groups = split.model.submitPlan.layerGroups(tokens, 0).length;
    assert.ok(split.config.blockCount > 1);
    assert.equal(groups, split.config.blockCount, 'a layer a submit');
    const counter = countSubmits(gpu.device);
    const got = await embedTokens(split.model, inputs, modelPooling(split.config)).finally(counter.restore);
    assert.equal(counter.submits, groups);
    const want = await embedTokens(whole.model, inputs, modelPooling(whole.config));
    for (const [i, v] of want.entries()) assertBitEqual(got[i]!, v, `input ${i}`);
  } finally {
    whole.destroy();
    split.destroy();
    gpu.device.destroy();
  }
});
