// Engine lifecycle in Node: requests queue in arrival order; aborts (queued, in prefill, in decode) leak no
// GPU buffer and leave the engine usable; invalid parameters are rejected before any work; a second chat turn
// reuses the first's KV cache and equals a cold run; unload/reload; a lost device is reported and reloadable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, InvalidRequestError, isAbortError, ResourceError, type Engine, type GenerateOptions, type TokenChunk } from '../src/index';
import { trackGpuBuffers, type BufferTracker } from './helpers/gpu-buffers';
import { seededRng } from './helpers/seeded';
import { fixturePath } from './helpers/fixtures';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';

const STORIES = fixturePath('models/stories260K/stories260K.gguf');
const LONG_PROMPT = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the sun with her dog. '.repeat(4);

let engine: Engine;
let buffers: BufferTracker;
before(async () => {
  engine = await createEngine(STORIES, { contextLength: 256, precision: 'f32' });
  buffers = trackGpuBuffers();
});
after(async () => {
  buffers?.uninstall();
  await engine?.dispose();
});

async function run(e: Engine, prompt: string, options: GenerateOptions) {
  const stream = e.generate(prompt, options);
  const chunks: TokenChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return { chunks, result: await stream.result };
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

test('10 interleaved requests queue in arrival order and each equals the same request run alone', async () => {
  const requests: { prompt: string; options: GenerateOptions; openai?: boolean; stream?: boolean }[] = [
    { prompt: 'Once upon a time', options: { maxTokens: 12 } },
    { prompt: 'The little dog', options: { maxTokens: 10, temperature: 0.9, seed: 1 }, stream: true },
    { prompt: 'Lily and Tom', options: { maxTokens: 8, temperature: 1.2, topK: 20, seed: 2 }, openai: true },
    { prompt: 'Once upon a time', options: { maxTokens: 15, temperature: 0.7, topP: 0.8, seed: 3 } },
    { prompt: 'A big red ball', options: { maxTokens: 6, repetitionPenalty: 1.3 }, stream: true },
    { prompt: 'The sun was', options: { maxTokens: 9, temperature: 1, minP: 0.1, seed: 4 }, openai: true, stream: true },
    { prompt: LONG_PROMPT, options: { maxTokens: 5 } },
    { prompt: 'Once upon a', options: { maxTokens: 11, frequencyPenalty: 0.5, presencePenalty: 0.5, temperature: 0.8, seed: 5 } },
    { prompt: 'Tim had a', options: { maxTokens: 7, stop: ['.'] }, stream: true },
    { prompt: 'One day', options: { maxTokens: 10, temperature: 0.6, topK: 5, seed: 6, logitBias: { 13: 3 } }, openai: true },
  ];
  const textOf = async (r: (typeof requests)[number]): Promise<string> => {
    if (r.openai) {
      const o = r.options;
      const params = { prompt: r.prompt, max_tokens: o.maxTokens, temperature: o.temperature ?? 0, top_k: o.topK, top_p: o.topP, min_p: o.minP, seed: o.seed, logit_bias: o.logitBias };
      if (!r.stream) return (await engine.completions.create(params)).choices[0]!.text;
      let text = '';
      for await (const c of await engine.completions.create({ ...params, stream: true })) text += c.choices[0]?.text ?? '';
      return text;
    }
    if (!r.stream) return (await engine.generate(r.prompt, r.options).result).text;
    return (await run(engine, r.prompt, r.options)).chunks.map((c) => c.text).join('');
  };
  const alone: string[] = [];
  for (const r of requests) {
    await engine.resetContext();
    alone.push(await textOf(r));
  }
  const finished: number[] = [];
  const together = await Promise.all(requests.map((r, i) => textOf(r).then((text) => { finished.push(i); return text; })));
  assert.deepEqual(together, alone);
  assert.deepEqual(finished, requests.map((_, i) => i), 'completed in arrival order');
});

test('aborts at random points in 50 runs (queued, in prefill, in decode): no GPU buffer leaks, the next request is correct', async () => {
  const reference = (await engine.generate('Once upon a time', { maxTokens: 20 }).result).tokens;
  await run(engine, 'warm up', { maxTokens: 3, temperature: 1, logprobs: true, topLogprobs: 2 });
  const liveBefore = buffers.live();
  const rng = seededRng(2024);
  const outcomes = { beforeStart: 0, queued: 0, prefill: 0, decode: 0, finished: 0 };
  for (let i = 0; i < 50; i++) {
    const controller = new AbortController();
    const kind = Math.floor(rng() * 4);
    const options: GenerateOptions = { maxTokens: 30, temperature: rng() < 0.5 ? 0 : 0.9, seed: i, logprobs: rng() < 0.3, signal: controller.signal };
    if (kind === 0) {
      controller.abort();
      await assert.rejects(engine.generate('Once', options).result, isAbortError);
      outcomes.beforeStart++;
    } else if (kind === 1) {
      const blocker = engine.generate(LONG_PROMPT, { maxTokens: 5 });
      const queued = engine.generate('Once', options);
      controller.abort();
      await assert.rejects(queued.result, isAbortError);
      await blocker.result;
      outcomes.queued++;
    } else {
      // Abort after a random number of chunks, or after a random delay while the long prompt is prefilled.
      const afterChunks = kind === 3 ? Math.floor(rng() * 10) : -1;
      if (kind === 2) setTimeout(() => controller.abort(), rng() * 20);
      const stream = engine.generate(kind === 2 ? `${LONG_PROMPT} ${i}` : 'The little dog', options);
      let seen = 0;
      for await (const c of stream) if (c.token >= 0 && ++seen === afterChunks) controller.abort();
      const r = await stream.result;
      if (r.finishReason === 'abort') {
        if (r.tokens.length === 0) outcomes.prefill++;
        else outcomes.decode++;
        if (kind === 3) assert.ok(r.tokens.length <= afterChunks + 1, `${r.tokens.length} tokens after aborting at ${afterChunks}`);
      } else outcomes.finished++;
    }
  }
  assert.equal(buffers.live(), liveBefore, `live GPU buffers before ${liveBefore}, after ${buffers.live()}`);
  assert.ok(outcomes.prefill > 0 && outcomes.decode > 0 && outcomes.queued > 0 && outcomes.beforeStart > 0, JSON.stringify(outcomes));
  await engine.resetContext();
  assert.deepEqual((await engine.generate('Once upon a time', { maxTokens: 20 }).result).tokens, reference);
});

test('invalid parameters are rejected with InvalidRequestError before any work', async () => {
  const context = await engine.generate('Once upon a time', { maxTokens: 8 }).result;
  const said = (pattern: RegExp) => (e: unknown) => e instanceof InvalidRequestError && pattern.test(e.message);
  const user = { role: 'user' as const, content: 'Hi' };
  const cc = (p: object) => engine.chat.completions.create({ messages: [user], ...p } as never);
  await assert.rejects(cc({ temperature: -1 }), said(/temperature/));
  await assert.rejects(cc({ top_p: 1.5 }), said(/top_p/));
  await assert.rejects(cc({ min_p: 2 }), said(/min_p/));
  await assert.rejects(cc({ n: 2 }), said(/n must be 1/));
  await assert.rejects(cc({ top_logprobs: 3 }), said(/logprobs/));
  await assert.rejects(cc({ logit_bias: { 99999: 1 } }), said(/logit_bias/));
  await assert.rejects(cc({ logit_bias: { 5: 101 } }), said(/logit_bias/));
  await assert.rejects(cc({ stop: [''] }), said(/stop/));
  await assert.rejects(cc({ tools: [{ type: 'function', function: { name: 'not a name' } }] }), said(/tools/));
  await assert.rejects(cc({ response_format: { type: 'xml' } }), said(/response_format/));
  await assert.rejects(engine.chat.completions.create({ messages: [{ role: 'robot', content: 'Hi' }] } as never), said(/role/));
  await assert.rejects(engine.chat.completions.create({ messages: 'Hi' } as never), said(/messages/));
  await assert.rejects(engine.chat.completions.create({ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] } as never), said(/text parts/));
  await assert.rejects(engine.completions.create({ prompt: 'Hi', max_tokens: -1 }), said(/^max_tokens must be an integer >= 0 .*, got -1$/));
  await assert.rejects(engine.generate('Hi', { repetitionPenalty: 0 }).result, said(/^repetitionPenalty must be/));
  // Nothing ran: the cache still holds the first context, so repeating it recomputes one token only.
  const again = await engine.generate('Once upon a time', { maxTokens: 8 }).result;
  assert.equal(again.cachedTokens, context.promptTokens.length - 1);
});

test('a second chat turn prefills only its new tokens (reported as cached tokens) and equals a cold run', async () => {
  const chat = await createEngine(tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>']), { precision: 'f32' });
  try {
    const options = { maxTokens: 12, logitBias: { 1: -100, 2: -100, 3: -100 } }; // no stray <|im_start|>, <unk>, <s>: the reply re-tokenizes as generated
    const messages = [{ role: 'user', content: 'Hello there' }];
    const first = await chat.chat(messages, options).result;
    messages.push({ role: 'assistant', content: first.text }, { role: 'user', content: 'And then?' });
    const second = await chat.chat(messages, options).result;
    // The cache holds turn 1's prompt and every reply token fed back: all of them when an end-of-turn token
    // ended the reply, all but the last picked one when max_tokens did.
    const fed = first.finishReason === 'length' ? first.tokens.slice(0, -1) : first.tokens;
    const cached = commonPrefix(second.promptTokens, [...first.promptTokens, ...fed]);
    assert.equal(cached, first.promptTokens.length + fed.length, 'turn 1 is reused whole');
    assert.equal(second.cachedTokens, cached);
    assert.equal(second.prefillTokens, second.promptTokens.length - cached, 'only the new tokens are computed');
    const viaOpenAI = await chat.chat.completions.create({ messages: messages as never, max_tokens: 12, temperature: 0, logit_bias: { 1: -100, 2: -100, 3: -100 } });
    assert.equal(viaOpenAI.usage!.prompt_tokens_details!.cached_tokens, second.promptTokens.length - 1);
    await chat.resetContext();
    const cold = await chat.chat(messages, options).result;
    assert.equal(cold.cachedTokens, 0);
    assert.deepEqual(cold.tokens, second.tokens);
    assert.equal(viaOpenAI.choices[0]!.message.content, cold.text);
  } finally {
    await chat.dispose();
  }
});

test('unload frees the GPU memory, reload brings the model back; a lost device is reported and reload recovers', async () => {
  const live = buffers.live();
  const small = await createEngine(STORIES, { contextLength: 64, precision: 'f32' });
  try {
    const before = (await small.generate('Once upon a time', { maxTokens: 8, temperature: 0.5, seed: 9 }).result).tokens;
    assert.ok(buffers.live() > live);
    await small.unload();
    assert.equal(buffers.live(), live, 'every buffer of the model and the sampler destroyed');
    await assert.rejects(small.generate('Once', { maxTokens: 2 }).result, (e: unknown) => e instanceof InvalidRequestError && /reload/.test(e.message));
    await small.reload();
    assert.deepEqual((await small.generate('Once upon a time', { maxTokens: 8, temperature: 0.5, seed: 9 }).result).tokens, before);

    // Simulate a device loss (a driver reset or a GPU process crash destroys the device under the engine).
    // The engine's core chooses the backend per load (src/wasm/backend-core.ts); in Node it holds the WebGPU core.
    const core = (small as unknown as { core: { core: { gpu: { device: GPUDevice } } } }).core.core;
    const device = core.gpu.device;
    device.destroy();
    await device.lost;
    await assert.rejects(small.generate('Once', { maxTokens: 2 }).result, (e: unknown) => e instanceof ResourceError && /lost.*reload/.test(e.message));
    await small.reload();
    assert.deepEqual((await small.generate('Once upon a time', { maxTokens: 8, temperature: 0.5, seed: 9 }).result).tokens, before);
  } finally {
    await small.dispose();
  }
});
