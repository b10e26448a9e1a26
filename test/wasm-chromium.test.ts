// The WebAssembly backend (llama.cpp through wllama, src/wasm/) in a headless Chromium launched WITHOUT WebGPU:
// 'auto' takes it and says why; greedy stories260K gives llama2.c's ids, as the WebGPU path does (Node, in this
// process); streaming, stop strings, abort and the OpenAI layer work; what it cannot do is an UnsupportedError.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openEngineApiPage, type EngineApiPage, type TestPage } from './helpers/browser';
import { fixturePath } from './helpers/fixtures';
import { schemaProblems } from './helpers/json-schema-check';
import { createEngine } from '../src/index';
import type * as Hearth from '../src/index';

declare global {
  interface Window { hearth: typeof Hearth }
}

interface Ref { prompt: string | null; prompt_token_ids: number[]; generated_token_ids: number[] }
const refs: Ref[] = JSON.parse(readFileSync(fixturePath('models/stories260K/refs.json'), 'utf8')).refs;
const MODEL = '/public/stories260K.gguf';

// The engine API test page (its createEngine defaults to backend 'webgpu': these tests say 'auto').
let engineApi: EngineApiPage;
let tp: TestPage;

before(async () => {
  engineApi = await openEngineApiPage({ webgpu: false });
  tp = engineApi.tp;
});

after(() => engineApi?.close());

test("Chromium without WebGPU: 'auto' loads on wasm ('no WebGPU adapter'); greedy ids equal llama2.c's and the WebGPU path's", { timeout: 300_000 }, async () => {
  const cases = refs.slice(0, 3).map((r) => ({ prompt: r.prompt, maxTokens: 60 }));
  const got = await tp.page.evaluate(async ({ url, cases }) => {
    const engine = await window.hearth.createEngine(url, { contextLength: 256, backend: 'auto' });
    const { backend, backendReason, adapter, gpuBytes } = engine.model;
    const isolated = crossOriginIsolated;
    const halfTheCores = Math.max(1, Math.floor(navigator.hardwareConcurrency / 2));
    const results = [];
    for (const c of cases) {
      const stream = engine.generate(c.prompt ?? '', { maxTokens: c.maxTokens });
      const streamed: number[] = [];
      for await (const chunk of stream) if (chunk.token >= 0) streamed.push(chunk.token);
      const r = await stream.result;
      results.push({ streamed, tokens: r.tokens, promptTokens: r.promptTokens, finishReason: r.finishReason });
    }
    await engine.dispose();
    return { backend, backendReason, adapter, gpuBytes, results, isolated, halfTheCores };
  }, { url: MODEL, cases }).catch((e: unknown) => { throw new Error(`${String(e)}\n${tp.logText()}`); });
  assert.equal(got.backend, 'wasm');
  assert.equal(got.backendReason, 'no WebGPU adapter');
  assert.equal(got.isolated, true, 'the dev server sends COOP/COEP (vite.config.ts)');
  const threads = got.halfTheCores;
  assert.equal(got.adapter, `llama.cpp WebAssembly (${threads} thread${threads === 1 ? '' : 's'})`, 'cross-origin isolated: wllama\'s threads, half the cores');
  assert.equal(got.gpuBytes, 0);

  const webgpu = await createEngine('public/stories260K.gguf', { contextLength: 256 });
  try {
    for (const [i, c] of cases.entries()) {
      const ref = refs[i]!;
      const r = got.results[i]!;
      assert.deepEqual(r.promptTokens, ref.prompt_token_ids, `prompt ids for ${JSON.stringify(c.prompt)}`);
      assert.deepEqual(r.tokens, ref.generated_token_ids.slice(0, c.maxTokens), `wasm greedy ids for ${JSON.stringify(c.prompt)} equal llama2.c's`);
      assert.deepEqual(r.streamed, r.tokens, 'streamed chunks carry the same ids');
      assert.equal(r.finishReason, 'length');
      const onGpu = await webgpu.generate(c.prompt ?? '', { maxTokens: c.maxTokens }).result;
      assert.deepEqual(r.tokens, onGpu.tokens, `wasm and WebGPU greedy ids for ${JSON.stringify(c.prompt)}`);
    }
  } finally {
    await webgpu.dispose();
  }
});

test('wasm: the OpenAI layer, stop strings, streaming, abort and seeds behave as on WebGPU; what llama.cpp cannot do is an UnsupportedError', { timeout: 300_000 }, async () => {
  const prompt = 'Once upon a time';
  const got = await tp.page.evaluate(async ({ url, prompt }) => {
    const engine = await window.hearth.createEngine(url, { contextLength: 256, backend: 'wasm' });
    const completion = await engine.completions.create({ prompt, max_tokens: 40, temperature: 0, stop: [' was'] });
    let streamed = '';
    let usage: unknown = null;
    const stream = await engine.completions.create({ prompt, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    const plain = await engine.completions.create({ prompt, max_tokens: 12, temperature: 0 });
    // Abort after the first token: the request ends with what it made so far.
    const controller = new AbortController();
    const aborted = engine.generate(prompt, { maxTokens: 200, signal: controller.signal });
    let seen = 0;
    for await (const chunk of aborted) { if (chunk.token >= 0 && ++seen === 1) controller.abort(); }
    const abortedResult = await aborted.result;
    // (No named functions in here: the test's TypeScript transform would wrap them in a helper the page lacks.)
    const seeds: number[][] = [];
    for (const seed of [7, 7, 8]) seeds.push((await engine.generate(prompt, { maxTokens: 20, temperature: 0.9, topK: 40, topP: 0.95, seed }).result).tokens);
    const logprobs = await engine.generate(prompt, { maxTokens: 3, logprobs: true, topLogprobs: 2 }).result;
    // JSON mode through llama.cpp's grammar: a story model, unconstrained, would go on with ", there was".
    const json = (await engine.generate(prompt, { maxTokens: 6, responseFormat: { type: 'json_object' } }).result).text;
    const schema = { type: 'object', properties: { name: { type: 'string', maxLength: 6 }, happy: { type: 'boolean' } }, required: ['name', 'happy'], additionalProperties: false };
    const schemaResult = await engine.generate(prompt, { maxTokens: 60, responseFormat: { type: 'json_schema', schema } }).result;
    const jsonSchema = { schema, text: schemaResult.text, finish: schemaResult.finishReason };
    // A chat model (a tiny llama with a ChatML template): the template and its control tokens reach llama.cpp.
    const chatEngine = await window.hearth.createEngine((window as unknown as { apiTest: { chatModel(): Uint8Array } }).apiTest.chatModel(), { backend: 'wasm' });
    // A pinned seed: a random one sometimes ends the turn at once, and nothing streams.
    const chatChunks: string[] = [];
    let chatUsage: unknown = null;
    for await (const chunk of await chatEngine.chat.completions.create({ messages: [{ role: 'user', content: 'hi there' }], max_tokens: 8, seed: 1, stream: true, stream_options: { include_usage: true } })) {
      if (chunk.choices[0]?.delta.content) chatChunks.push(chunk.choices[0].delta.content);
      if (chunk.usage) chatUsage = chunk.usage;
    }
    const chatPrompt = await chatEngine.applyChatTemplate([{ role: 'user', content: 'hi there' }], { addGenerationPrompt: true });
    await chatEngine.dispose();
    const unsupported = {
      logits: await engine.logits([1, 2, 3]).then(() => null, (e: Error) => ({ name: e.name, message: e.message })),
      frequencyPenalty: await engine.generate(prompt, { frequencyPenalty: 0.5 }).result.then(() => null, (e: Error) => ({ name: e.name, message: e.message })),
    };
    await engine.dispose();
    const generator = await window.hearth.pipeline('text-generation', url, { device: 'wasm', contextLength: 128 });
    const piped = (await generator(prompt, { max_new_tokens: 8 }))[0] as { generated_text: string };
    await generator.dispose();
    const check = await window.hearth.checkModel(url, { backend: 'auto' });
    const embeddings = await window.hearth.createEngine(url, { backend: 'wasm', embeddings: true }).then(() => null, (e: Error) => ({ name: e.name, message: e.message }));
    return { completion: { text: completion.choices[0]!.text, finish: completion.choices[0]!.finish_reason, usage: completion.usage },
      streamed, usage, plain: plain.choices[0]!.text, aborted: { finish: abortedResult.finishReason, tokens: abortedResult.tokens.length },
      piped: piped.generated_text, check: { ok: check.ok, backend: check.backend, adapter: check.adapter, reasons: check.reasons },
      seeds, json, jsonSchema, chat: { chunks: chatChunks.length, usage: chatUsage, prompt: chatPrompt }, logprobs: logprobs.logprobs!.map((l) => ({ id: l.id, logprob: l.logprob, top: l.topLogprobs.map((t) => t.id) })), tokens: logprobs.tokens, unsupported, embeddings };
  }, { url: MODEL, prompt }).catch((e: unknown) => { throw new Error(`${String(e)}\n${tp.logText()}`); });

  const webgpu = await createEngine('public/stories260K.gguf', { contextLength: 256 });
  try {
    const expected = await webgpu.completions.create({ prompt, max_tokens: 40, temperature: 0, stop: [' was'] });
    assert.deepEqual(got.completion, { text: expected.choices[0]!.text, finish: expected.choices[0]!.finish_reason, usage: expected.usage }, 'a stop string ends both backends at the same text');
    assert.equal(got.completion.finish, 'stop');
    const plain = await webgpu.completions.create({ prompt, max_tokens: 12, temperature: 0 });
    assert.equal(got.plain, plain.choices[0]!.text);
    assert.equal(got.streamed, got.plain, 'the stream adds up to the whole completion');
    assert.deepEqual(got.usage, plain.usage, 'the last chunk carries the usage');
    const onGpu = await webgpu.generate(prompt, { maxTokens: 3, logprobs: true, topLogprobs: 2 }).result;
    assert.deepEqual(got.tokens, onGpu.tokens);
    for (const [i, l] of got.logprobs.entries()) {
      const g = onGpu.logprobs![i]!;
      assert.equal(l.id, g.id);
      assert.deepEqual(l.top, g.topLogprobs.map((t) => t.id), 'the same most likely tokens');
      assert.ok(Math.abs(l.logprob - g.logprob) < 1e-3, `logprob ${l.logprob} vs WebGPU ${g.logprob}`);
    }
  } finally {
    await webgpu.dispose();
  }
  assert.deepEqual(got.check, { ok: true, backend: 'wasm', adapter: null, reasons: [] }, 'checkModel judges for the backend a load takes: no adapter needed');
  assert.equal(got.piped, prompt + (await (async () => {
    const e = await createEngine('public/stories260K.gguf', { contextLength: 128 });
    try { return (await e.generate(prompt, { maxTokens: 8 }).result).text; } finally { await e.dispose(); }
  })()), "pipeline({ device: 'wasm' }) continues as WebGPU does");
  assert.match(got.json, /^\s*\{/, `JSON mode starts an object: ${JSON.stringify(got.json)}`);
  // json_schema through llama.cpp's own schema grammar: a complete object, valid under the schema.
  assert.equal(got.jsonSchema.finish, 'stop', `the object closes within 60 tokens: ${JSON.stringify(got.jsonSchema.text)}`);
  assert.deepEqual(schemaProblems(JSON.parse(got.jsonSchema.text), got.jsonSchema.schema), [], got.jsonSchema.text);
  const { CHATML, tinyChatModel } = await import('./helpers/tiny-chat-model');
  const chatOnGpu = await createEngine(tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>'], { extraChars: '{}[]":,-.0123456789' }));
  try {
    assert.equal(got.chat.prompt, await chatOnGpu.applyChatTemplate([{ role: 'user', content: 'hi there' }], { addGenerationPrompt: true }));
    const onGpu = await chatOnGpu.chat.completions.create({ messages: [{ role: 'user', content: 'hi there' }], max_tokens: 8 });
    assert.equal((got.chat.usage as { prompt_tokens: number }).prompt_tokens, onGpu.usage!.prompt_tokens, 'llama.cpp read the chat prompt as the same number of tokens (checked against its own count)');
    assert.ok(got.chat.chunks >= 1, 'the reply streamed');
  } finally {
    await chatOnGpu.dispose();
  }
  assert.deepEqual(got.aborted, { finish: 'abort', tokens: got.aborted.tokens });
  assert.ok(got.aborted.tokens >= 1 && got.aborted.tokens < 200, `aborted after ${got.aborted.tokens} tokens`);
  assert.deepEqual(got.seeds[0], got.seeds[1], 'the same seed gives the same sample');
  assert.notDeepEqual(got.seeds[0], got.seeds[2], 'another seed gives another sample');
  for (const [what, e] of Object.entries({ logits: got.unsupported.logits, frequencyPenalty: got.unsupported.frequencyPenalty, embeddings: got.embeddings })) {
    assert.equal(e?.name, 'UnsupportedError', `${what}: ${JSON.stringify(e)}`);
    assert.match(e!.message, /WebAssembly backend/, `${what} says which backend lacks it`);
  }
});
