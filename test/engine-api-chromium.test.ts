// The engine API in headless Chromium, through the Web Worker: the same seed gives the same tokens as in
// Node for every sampler setting; OpenAI shapes and streaming; stop strings across tokens; 10 interleaved
// requests in arrival order; aborts at random points leave the worker's engine correct and, on the page's
// thread, leak no GPU buffer; turn 2 of a chat reuses turn 1's cache; JSON schema output validates.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, type GenerateOptions } from '../src/index';
import { openEngineApiPage, type EngineApiPage, type TestPage } from './helpers/browser';
import { fixturePath } from './helpers/fixtures';
import type * as Hearth from '../src/index';

declare global {
  interface Window {
    hearth: typeof Hearth;
    apiTest: typeof import('./browser/engine-api-page').apiTest;
  }
}

const MODEL = '/public/stories260K.gguf';
/** Sampler settings compared with Node token for token (same seed → same output). */
const SAMPLED: GenerateOptions[] = [
  { temperature: 0.9, seed: 11 },
  { temperature: 1.1, topK: 40, seed: 12 },
  { temperature: 0.8, topP: 0.9, minP: 0.05, seed: 13 },
  { temperature: 1, repetitionPenalty: 1.3, frequencyPenalty: 0.4, presencePenalty: 0.2, logitBias: { 13: 2, 2: -100 }, seed: 14 },
  { topK: 1, temperature: 1.5, seed: 15 },
];

let engineApi: EngineApiPage;
let tp: TestPage;

before(async () => {
  engineApi = await openEngineApiPage({ webgpu: true });
  tp = engineApi.tp;
});
after(() => engineApi?.close());

test('same seed, same output: every sampler setting gives Node\'s tokens in the Chromium worker', async () => {
  const node = await createEngine(fixturePath('models/stories260K/stories260K.gguf'), { contextLength: 128, precision: 'f32' });
  const expected: number[][] = [];
  try {
    for (const options of SAMPLED) expected.push((await node.generate('Once upon a time', { ...options, maxTokens: 24 }).result).tokens);
  } finally {
    await node.dispose();
  }
  const got = await tp.page.evaluate(async ({ url, settings }) => {
    const engine = await window.hearth.createEngine(url, { contextLength: 128 });
    const out: number[][] = [];
    for (const options of settings) out.push((await engine.generate('Once upon a time', { ...options, maxTokens: 24 }).result).tokens);
    await engine.dispose();
    return out;
  }, { url: MODEL, settings: SAMPLED });
  assert.deepEqual(got, expected, tp.logText());
});

test('worker: OpenAI shapes and streaming, stop strings across tokens, 10 interleaved requests in order, aborts', { timeout: 300_000 }, async () => {
  const r = await tp.page.evaluate(async (url) => {
    const engine = await window.hearth.createEngine(url, { contextLength: 256 });
    const problems: string[] = [];
    // Shapes: a completion and its stream.
    const chatEngine = await window.hearth.createEngine(window.apiTest.chatModel());
    const params = { messages: [{ role: 'user' as const, content: 'Hello there' }], max_tokens: 10, seed: 3, temperature: 0.9, logprobs: true, top_logprobs: 2 };
    const completion = await chatEngine.chat.completions.create(params);
    problems.push(...window.apiTest.chatCompletionProblems(completion));
    let streamed = '';
    let usageChunk = false;
    for await (const chunk of await chatEngine.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } })) {
      problems.push(...window.apiTest.chatChunkProblems(chunk));
      streamed += chunk.choices[0]?.delta.content ?? '';
      usageChunk ||= chunk.usage?.completion_tokens === completion.usage!.completion_tokens;
    }
    // JSON schema output in the worker.
    const schemaResults = [];
    for (let seed = 0; seed < 3; seed++) {
      const schema = window.apiTest.SCHEMAS.person!;
      const c = await chatEngine.chat.completions.create({ messages: params.messages, max_tokens: 64, seed, temperature: 1, response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } });
      let value: unknown = undefined;
      try { value = JSON.parse(c.choices[0]!.message.content!); } catch { /* reported below */ }
      schemaResults.push(value === undefined ? ['does not parse'] : window.apiTest.schemaProblems(value, schema));
    }
    // Turn 2 reuses turn 1's cache.
    const messages = [{ role: 'user', content: 'Hi' }];
    const options = { maxTokens: 8, logitBias: { 1: -100, 2: -100, 3: -100 } };
    const first = await chatEngine.chat(messages, options).result;
    messages.push({ role: 'assistant', content: first.text }, { role: 'user', content: 'More?' });
    const second = await chatEngine.chat(messages, options).result;
    await chatEngine.resetContext();
    const cold = await chatEngine.chat(messages, options).result;
    await chatEngine.dispose();

    // Stop strings across a token boundary.
    const reference = engine.generate('Once upon a time', { maxTokens: 40 });
    const pieces: string[] = [];
    for await (const c of reference) if (c.token >= 0) pieces.push(c.text);
    const text = (await reference.result).text;
    const k = pieces.findIndex((p, i) => i > 3 && p.length >= 2 && (pieces[i + 1]?.length ?? 0) >= 1);
    const stop = pieces[k]!.slice(-2) + pieces[k + 1]!;
    const stopped = engine.generate('Once upon a time', { maxTokens: 40, stop });
    let stopStreamed = '';
    for await (const c of stopped) stopStreamed += c.text;

    // 10 interleaved requests, against the same requests one at a time.
    const requests = Array.from({ length: 10 }, (_, i) => ({ prompt: ['Once upon a time', 'The dog', 'Lily'][i % 3]!, options: { maxTokens: 6 + i, temperature: i % 2 ? 0.9 : 0, seed: i } }));
    const alone: string[] = [];
    for (const q of requests) { await engine.resetContext(); alone.push((await engine.generate(q.prompt, q.options).result).text); }
    const order: number[] = [];
    const together = await Promise.all(requests.map((q, i) => engine.generate(q.prompt, q.options).result.then((res) => { order.push(i); return res.text; })));

    // Aborts at random points (queued, prefill, decode), then a request that must equal the reference.
    let aborted = 0;
    for (let i = 0; i < 12; i++) {
      const controller = new AbortController();
      const stream = engine.generate(i % 3 === 0 ? 'Once upon a time, '.repeat(8) : 'The dog', { maxTokens: 20, temperature: 0.7, seed: i, signal: controller.signal });
      if (i % 4 === 1) controller.abort();
      else setTimeout(() => controller.abort(), (i * 7) % 30);
      try {
        for await (const _ of stream) { /* drain */ }
        if ((await stream.result).finishReason === 'abort') aborted++;
      } catch (e) {
        if ((e as Error).name === 'AbortError') aborted++;
        else throw e;
      }
    }
    await engine.resetContext();
    const after = (await engine.generate('Once upon a time', { maxTokens: 40 }).result).text;
    await engine.dispose();
    return {
      problems, streamed, content: completion.choices[0]!.message.content, usageChunk, schemaResults,
      kv: { cached: second.cachedTokens, firstLength: first.promptTokens.length + first.tokens.length - (first.finishReason === 'length' ? 1 : 0), prefill: second.prefillTokens, promptLength: second.promptTokens.length, same: JSON.stringify(cold.tokens) === JSON.stringify(second.tokens) },
      text, stop, stopText: (await stopped.result).text, stopReason: (await stopped.result).finishReason, stopStreamed,
      alone, together, order, aborted, after,
    };
  }, MODEL);
  assert.deepEqual(r.problems, [], tp.logText());
  assert.equal(r.streamed, r.content);
  assert.ok(r.usageChunk, 'the stream ends with a usage chunk');
  assert.deepEqual(r.schemaResults, [[], [], []]);
  assert.ok(r.kv.cached >= r.kv.firstLength, `turn 2 reused ${r.kv.cached} cached tokens; turn 1 fed ${r.kv.firstLength}`);
  assert.equal(r.kv.prefill, r.kv.promptLength - r.kv.cached);
  assert.ok(r.kv.same, 'turn 2 equals a cold run');
  const cut = r.text.indexOf(r.stop);
  assert.deepEqual([r.stopText, r.stopStreamed, r.stopReason], [r.text.slice(0, cut), r.text.slice(0, cut), 'stop']);
  assert.deepEqual(r.together, r.alone);
  assert.deepEqual(r.order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(r.aborted >= 6, `${r.aborted} of 12 requests were aborted`);
  assert.equal(r.after, r.text, 'the engine is still correct after the aborts');
});

test('page thread (worker: false): 20 aborts at random points leak no GPU buffer', { timeout: 120_000 }, async () => {
  const r = await tp.page.evaluate(async (url) => {
    const engine = await window.hearth.createEngine(url, { contextLength: 128, worker: false });
    await engine.generate('warm up', { maxTokens: 2, temperature: 1, logprobs: true }).result;
    const tracker = window.apiTest.trackGpuBuffers();
    const reference = (await engine.generate('Once upon a time', { maxTokens: 12 }).result).tokens;
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const stream = engine.generate(i % 2 ? 'Once upon a time, '.repeat(6) : 'The dog', { maxTokens: 15, temperature: i % 3 ? 0.8 : 0, seed: i, logprobs: i % 4 === 0, signal: controller.signal });
      setTimeout(() => controller.abort(), (i * 5) % 25);
      try { await stream.result; } catch { /* aborted while queued */ }
    }
    await engine.resetContext();
    const again = (await engine.generate('Once upon a time', { maxTokens: 12 }).result).tokens;
    const live = tracker.live();
    tracker.uninstall();
    await engine.dispose();
    return { live, same: JSON.stringify(again) === JSON.stringify(reference) };
  }, MODEL);
  assert.equal(r.live, 0, 'buffers created during the aborted requests and not destroyed');
  assert.ok(r.same);
});
