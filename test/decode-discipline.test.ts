// A decode step allocates nothing, records one encoder, submits once and reads back only the token id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { ATTENTION_CHUNK } from '../src/model/memory';
import { Session } from '../src/engine/worker/session';
import { fixturePath } from './helpers/fixtures';

/** Replaces `obj[name]` with a counting wrapper; returns the counter. */
function count<T extends object>(obj: T, name: keyof T & string, onCall?: (...args: unknown[]) => void) {
  const counter = { calls: 0 };
  const original = (obj[name] as (...a: unknown[]) => unknown).bind(obj);
  (obj as Record<string, unknown>)[name] = (...args: unknown[]) => {
    counter.calls++;
    onCall?.(...args);
    return original(...args);
  };
  return counter;
}

// Sampling runs on the GPU (src/sampler/gpu-sampler.ts) inside the same step: the same discipline holds.
// Precision 'q8' adds a quantize dispatch before the q4_0 products, prebuilt like the rest.
const modes = [
  { name: 'greedy decode', options: {} },
  { name: 'sampled decode (temperature, top-k, top-p, min-p, penalties, logit bias)', options: { temperature: 0.8, topK: 40, topP: 0.9, minP: 0.02, repetitionPenalty: 1.1, frequencyPenalty: 0.2, logitBias: { 13: 2 }, seed: 7 } },
  { name: 'greedy decode with precision q8 (Q4_0 file)', options: {}, file: 'stories260K-Q4_0.gguf', precision: 'q8' as const },
  // Split-K attention (what GPUs run for contexts past ATTENTION_CHUNK): attention over chunks, then the merge.
  { name: `greedy decode with split-K attention (${2 * ATTENTION_CHUNK} positions)`, options: {}, split: true },
  // Argmax and the draw over many workgroups (what GPUs run): their partials are prebuilt buffers too.
  { name: "greedy decode with sampling 'wide'", options: {}, sampling: 'wide' as const },
  { name: "sampled decode (temperature, top-k, min-p, penalties) with sampling 'wide'", options: { temperature: 0.8, topK: 40, minP: 0.02, repetitionPenalty: 1.1, seed: 7 }, sampling: 'wide' as const },
];

for (const { name, options, file = 'stories260K.gguf', precision, split, sampling } of modes) test(`${name}: no allocations, one encoder and one submit per step, only the token id read back`, async () => {
  const gpu = await acquireDevice();
  try {
    const loaded = await loadModel(gpu, fixturePath('models/stories260K', file), split ? { contextLength: 2 * ATTENTION_CHUNK, profile: { attention: 'split' } } : { contextLength: 128, precision, profile: sampling && { sampling } });
    assert.equal(loaded.info.precision, precision ?? 'f32', 'the precision asked for (auto: f32 for an F32 file on lavapipe, a CPU adapter)');
    const session = new Session(loaded);
    await session.generate('Once', { maxTokens: 2, ...options }, () => {}); // warm up: first maps, the sampler's buffers and pipelines

    const { device } = gpu;
    const created = ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule', 'createBindGroupLayout', 'createPipelineLayout', 'createTexture']
      .map((name) => ({ name, counter: count(device, name as keyof GPUDevice & string) }));
    const encoders = count(device, 'createCommandEncoder');
    const submits = count(device.queue, 'submit');
    const mappedSizes: number[] = [];
    const origMap = GPUBuffer.prototype.mapAsync;
    GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
      mappedSizes.push(this.size);
      return origMap.apply(this, args);
    };
    try {
      session.reset();
      const maxTokens = 24;
      const result = await session.generate('', { maxTokens, ...options }, () => {}); // BOS only: every step is a decode step
      assert.equal(result.tokens.length, maxTokens);
      const steps = maxTokens; // the BOS step yields token 1; each later step feeds the previous token
      for (const { name, counter } of created) assert.equal(counter.calls, 0, `${name} called during decode`);
      assert.equal(encoders.calls, steps, 'command encoders per decode step');
      assert.equal(submits.calls, steps, 'queue.submit calls per decode step');
      assert.equal(mappedSizes.length, steps, 'one readback per step');
      for (const size of mappedSizes) assert.ok(size <= 16, `a decode step mapped a ${size}-byte buffer; only the token id (u32) may be read back`);
    } finally {
      GPUBuffer.prototype.mapAsync = origMap;
    }
    await session.dispose();
    loaded.destroy();
  } finally {
    gpu.device.destroy();
  }
});
