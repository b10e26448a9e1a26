// A decode step allocates nothing, records one encoder, submits once and reads back only the token id; the
// decode loop submits step N + 1 before it reads step N's id (no host wait between steps) unless the request
// needs the host between steps (JSON mode's mask, logprobs), and a pipelined decode gives the waiting loop's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { ATTENTION_CHUNK } from '../src/model/memory';
import { Session } from '../src/engine/worker/session';
import { fixturePath } from './helpers/fixtures';
import { isPlainGreedy, normalizeRequest, type RequestOptions } from '../src/engine/options';
import type { GenerationResult } from '../src/engine/types';
import type { StreamedSoFar } from '../src/engine/worker/session';
import type { LoadedModel } from '../src/model/load';
import type { TokenPicker } from '../src/model/transformer';
import { GpuSampler } from '../src/sampler/gpu-sampler';

/**
 * Counts host waits between decode steps: submits made when the id of every step submitted before had already
 * been read back (mapAsync resolved), i.e. the GPU had nothing queued while the host read. A deterministic count
 * of the order of submits and readbacks, not a timing.
 */
function countHostWaits(device: GPUDevice) {
  const counter = { hostWaits: 0, submits: 0, reads: 0, restore: () => {} };
  const submit = device.queue.submit;
  device.queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    if (counter.submits > 0 && counter.reads === counter.submits) counter.hostWaits++;
    counter.submits++;
    submit.call(device.queue, buffers);
  };
  const mapAsync = GPUBuffer.prototype.mapAsync;
  GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
    const token = this.size <= 16; // a token id (the logprobs readback is larger)
    return mapAsync.apply(this, args).then(() => { if (token) counter.reads++; return undefined; });
  };
  counter.restore = () => { device.queue.submit = submit; GPUBuffer.prototype.mapAsync = mapAsync; };
  return counter;
}

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
const modes: { name: string; options: RequestOptions; file?: string; precision?: 'q8'; attention?: 'split' | 'flash'; sampling?: 'wide' }[] = [
  { name: 'greedy decode', options: {} },
  { name: 'sampled decode (temperature, top-k, top-p, min-p, penalties, logit bias)', options: { temperature: 0.8, topK: 40, topP: 0.9, minP: 0.02, repetitionPenalty: 1.1, frequencyPenalty: 0.2, logitBias: { 13: 2 }, seed: 7 } },
  { name: 'greedy decode with precision q8 (Q4_0 file)', options: {}, file: 'stories260K-Q4_0.gguf', precision: 'q8' as const },
  // Split-K attention (what GPUs run for contexts past ATTENTION_CHUNK): attention over chunks, then the merge.
  { name: `greedy decode with split-K attention (${2 * ATTENTION_CHUNK} positions)`, options: {}, attention: 'split' as const },
  // Flash-decoding (the GPU profile's): its chunks chosen from the position on the GPU, no per-step bind group.
  { name: `greedy decode with flash attention (${2 * ATTENTION_CHUNK} positions)`, options: {}, attention: 'flash' as const },
  // Argmax and the draw over many workgroups (what GPUs run): their partials are prebuilt buffers too.
  { name: "greedy decode with sampling 'wide'", options: {}, sampling: 'wide' as const },
  { name: "sampled decode (temperature, top-k, min-p, penalties) with sampling 'wide'", options: { temperature: 0.8, topK: 40, minP: 0.02, repetitionPenalty: 1.1, seed: 7 }, sampling: 'wide' as const },
];

for (const { name, options, file = 'stories260K.gguf', precision, attention, sampling } of modes) test(`${name}: no allocations, one encoder and one submit per step, only the token id read back, no host wait between steps`, async () => {
  const gpu = await acquireDevice();
  try {
    const loaded = await loadModel(gpu, fixturePath('models/stories260K', file), attention ? { contextLength: 2 * ATTENTION_CHUNK, profile: { attention } } : { contextLength: 128, precision, profile: sampling && { sampling } });
    assert.equal(loaded.info.precision, precision ?? 'f32', 'the precision asked for (auto: f32 for an F32 file on lavapipe, a CPU adapter)');
    const session = new Session(loaded);
    await session.generate('Once', { maxTokens: 2, ...options }, () => {}); // warm up: first maps, the sampler's buffers and pipelines

    const { device } = gpu;
    const created = ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule', 'createBindGroupLayout', 'createPipelineLayout', 'createTexture']
      .map((name) => ({ name, counter: count(device, name as keyof GPUDevice & string) }));
    const encoders = count(device, 'createCommandEncoder');
    const submits = count(device.queue, 'submit');
    const waits = countHostWaits(device);
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
      assert.equal(waits.hostWaits, 0, 'steps submitted after every earlier step\'s id was read (the GPU idles while the host reads)');
    } finally {
      GPUBuffer.prototype.mapAsync = origMap;
      waits.restore();
    }
    await session.dispose();
    loaded.destroy();
  } finally {
    gpu.device.destroy();
  }
});

// What needs the host between steps: JSON mode (the grammar's mask for step N + 1 follows from step N's id) and
// logprobs (read from the sampler's one logprobs buffer after each step). Those requests wait for each id.
const waitingModes: { name: string; options: RequestOptions }[] = [
  { name: 'logprobs', options: { logprobs: true, topLogprobs: 3 } },
  { name: 'JSON mode', options: { temperature: 1, seed: 5, responseFormat: { type: 'json_object' } } },
];

for (const { name, options } of waitingModes) test(`${name}: the decode waits for each id (the host decides the next step), one encoder and one submit per step`, async () => {
  const gpu = await acquireDevice();
  try {
    const loaded = await loadModel(gpu, fixturePath('models/stories260K', 'stories260K.gguf'), { contextLength: 128 });
    const session = new Session(loaded);
    await session.generate('Once', { maxTokens: 2, ...options }, () => {}); // warm up
    const encoders = count(gpu.device, 'createCommandEncoder');
    const waits = countHostWaits(gpu.device);
    try {
      session.reset();
      const result = await session.generate('', { maxTokens: 16, ...options }, () => {});
      assert.ok(result.tokens.length > 0);
      assert.ok(waits.submits >= result.tokens.length && waits.submits <= result.tokens.length + 1, `${waits.submits} steps for ${result.tokens.length} tokens`);
      assert.equal(encoders.calls, waits.submits, 'command encoders per decode step');
      assert.equal(waits.hostWaits, waits.submits - 1, 'every step after the first waits for the id before it');
      if (options.logprobs) assert.equal(result.logprobs!.length, result.tokens.length);
    } finally {
      waits.restore();
    }
    await session.dispose();
    loaded.destroy();
  } finally {
    gpu.device.destroy();
  }
});

/** Prefill, then one model.step per token, each awaited before the next is submitted: what the decode loop did before pipelining. */
async function waitingDecode(loaded: LoadedModel, prompt: readonly number[], steps: number, picker?: TokenPicker): Promise<number[]> {
  const { model } = loaded;
  model.prefill(prompt.slice(0, -1), 0);
  const ids: number[] = [];
  let token = prompt.at(-1)!;
  for (let s = 0; s < steps; s++) ids.push(token = await model.step(token, prompt.length - 1 + s, 'token', picker));
  return ids;
}

const SAMPLED: RequestOptions = { temperature: 0.9, topK: 20, topP: 0.95, repetitionPenalty: 1.2, frequencyPenalty: 0.3, seed: 11 };

test('a pipelined decode picks the waiting loop\'s tokens (argmax and the GPU sampler) up to the end of the context, and runs no step past it', async () => {
  const gpu = await acquireDevice();
  try {
    const contextLength = 64;
    const loaded = await loadModel(gpu, fixturePath('models/stories260K', 'stories260K.gguf'), { contextLength });
    const prompt = loaded.tokenizer.encode('Once upon a time', { addBos: true });
    const steps = contextLength - prompt.length + 1; // positions prompt.length - 1 … contextLength - 1
    const sampler = await GpuSampler.create(gpu.device, loaded.model);
    const session = new Session(loaded);
    const submits = count(gpu.device.queue, 'submit');
    for (const options of [{}, SAMPLED]) {
      const request = normalizeRequest(options, loaded.tokenizer.vocabSize);
      const reference = await waitingDecode(loaded, prompt, steps, isPlainGreedy(request) ? undefined : sampler.begin(request, prompt, false));
      session.reset();
      const before = submits.calls;
      const result = await session.generate(prompt, { maxTokens: 1000, ...options }, () => {}, []); // no stop tokens
      assert.equal(result.finishReason, 'length');
      assert.deepEqual(result.tokens, reference, `tokens of ${JSON.stringify(options)}`);
      assert.equal(submits.calls - before, 1 + steps, 'the prefill and one step per token: none submitted past the context');
    }
    sampler.destroy();
    await session.dispose();
    loaded.destroy();
  } finally {
    gpu.device.destroy();
  }
});

test('stops found one step late (stop token, stop string, abort): the step ahead is discarded, the output is the waiting loop\'s, the cache holds only what was fed, and the next turn reusing it equals a cold run', async () => {
  const gpu = await acquireDevice();
  try {
    const loaded = await loadModel(gpu, fixturePath('models/stories260K', 'stories260K.gguf'), { contextLength: 128 });
    const prompt = loaded.tokenizer.encode('Once upon a time', { addBos: true });
    const session = new Session(loaded);
    const submits = count(gpu.device.queue, 'submit');
    for (const options of [{}, SAMPLED]) {
      const full = await session.generate(prompt, { maxTokens: 40, ...options }, () => {}, []);
      assert.equal(full.tokens.length, 40);
      const cases: { name: string; run: () => Promise<GenerationResult>; tokens: number; reason: string; steps: number }[] = [];
      const stopAt = full.tokens.indexOf(full.tokens[12]!); // its first occurrence
      cases.push({ name: 'stop token', run: () => session.generate(prompt, { maxTokens: 40, ...options }, () => {}, [full.tokens[12]!]), tokens: stopAt, reason: 'stop', steps: stopAt + 2 });
      // A stop string: a piece of text that the 20th token completes for the first time.
      const textUpTo = (n: number) => loaded.tokenizer.decode(full.tokens.slice(0, n));
      const stop = textUpTo(20).slice(textUpTo(19).length - 2);
      const stringAt = full.tokens.findIndex((_, i) => textUpTo(i + 1).includes(stop)) + 1;
      cases.push({ name: 'stop string', run: () => session.generate(prompt, { maxTokens: 40, stop: [stop], ...options }, () => {}, []), tokens: stringAt, reason: 'stop', steps: stringAt + 1 });
      const controller = new AbortController();
      const abortAfter = (_: unknown, soFar: StreamedSoFar) => { if (soFar.tokens === 7) controller.abort(); };
      cases.push({ name: 'abort', run: () => session.generate(prompt, { maxTokens: 40, ...options }, abortAfter, [], controller.signal), tokens: 7, reason: 'abort', steps: 8 });
      assert.ok(stringAt > 0 && stringAt <= 20);
      for (const c of cases) {
        session.reset();
        const before = submits.calls;
        const result = await c.run();
        const label = `${c.name}, ${JSON.stringify(options)}`;
        // The prefill, a step per token kept, the stop token's step, and the step already submitted when the stop was found.
        assert.equal(submits.calls - before, 1 + c.steps, `${label}: steps run`);
        assert.equal(result.finishReason, c.reason, label);
        assert.deepEqual(result.tokens, full.tokens.slice(0, c.tokens), label);
        if (c.name === 'stop string') assert.equal(result.text, full.text.slice(0, full.text.indexOf(stop)), label);
        // A stop token is fed (its step ran); the last token before a stop string or an abort is not.
        const fed = c.name === 'stop token' ? result.tokens : result.tokens.slice(0, -1);
        assert.deepEqual(session.cachedTokens, [...prompt, ...fed], `${label}: the cache holds the tokens fed, not the step discarded`);
        // The next turn extends what was kept: the cached prefix is reused and equals a cold run.
        const next = [...prompt, ...result.tokens, ...loaded.tokenizer.encode(' The dog', { addBos: false })];
        const warm = await session.generate(next, { maxTokens: 12, ...options }, () => {}, []);
        assert.equal(warm.cachedTokens, prompt.length + fed.length, `${label}: the kept prefix is reused`);
        session.reset();
        const cold = await session.generate(next, { maxTokens: 12, ...options }, () => {}, []);
        assert.deepEqual(warm.tokens, cold.tokens, `${label}: the turn after equals a cold run`);
      }
    }
    await session.dispose();
    loaded.destroy();
  } finally {
    gpu.device.destroy();
  }
});
