// The WebAssembly backend (llama.cpp through wllama, src/wasm/) in a headless Chromium launched WITHOUT WebGPU:
// 'auto' takes it and says why; greedy stories260K gives llama2.c's ids, as the WebGPU path does (Node, in this
// process); streaming, stop strings, abort and the OpenAI layer work; what it cannot do is an UnsupportedError.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath, openEnginePage, startTestServer, type TestPage, type TestServer } from './helpers/browser';
import { fixturePath } from './helpers/fixtures';
import { createEngine } from '../src/index';
import type * as Hearth from '../src/index';

declare global {
  interface Window { hearth: typeof Hearth }
}

interface Ref { prompt: string | null; prompt_token_ids: number[]; generated_token_ids: number[] }
const refs: Ref[] = JSON.parse(readFileSync(fixturePath('models/stories260K/refs.json'), 'utf8')).refs;
const MODEL = '/public/stories260K.gguf';

let server: TestServer;
let browser: Browser;
let tp: TestPage;

before(async () => {
  server = await startTestServer();
  // No --enable-unsafe-webgpu: navigator.gpu.requestAdapter() answers null, as for a visitor without a usable GPU.
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--no-first-run', '--disable-background-networking'] });
  tp = await openEnginePage(browser, server.url);
});

after(async () => {
  await tp?.close();
  await browser?.close();
  await server?.close();
});

test("Chromium without WebGPU: 'auto' loads on wasm ('no WebGPU adapter'); greedy ids equal llama2.c's and the WebGPU path's", { timeout: 300_000 }, async () => {
  const cases = refs.slice(0, 3).map((r) => ({ prompt: r.prompt, maxTokens: 60 }));
  const got = await tp.page.evaluate(async ({ url, cases }) => {
    const engine = await window.hearth.createEngine(url, { contextLength: 256 });
    const { backend, backendReason, adapter, gpuBytes } = engine.model;
    const results = [];
    for (const c of cases) {
      const stream = engine.generate(c.prompt ?? '', { maxTokens: c.maxTokens });
      const streamed: number[] = [];
      for await (const chunk of stream) if (chunk.token >= 0) streamed.push(chunk.token);
      const r = await stream.result;
      results.push({ streamed, tokens: r.tokens, promptTokens: r.promptTokens, finishReason: r.finishReason });
    }
    await engine.dispose();
    return { backend, backendReason, adapter, gpuBytes, results };
  }, { url: MODEL, cases }).catch((e: unknown) => { throw new Error(`${String(e)}\n${tp.logText()}`); });
  assert.equal(got.backend, 'wasm');
  assert.equal(got.backendReason, 'no WebGPU adapter');
  assert.match(got.adapter, /^llama\.cpp WebAssembly \(1 thread\)$/, 'the test server is not cross-origin isolated: one thread');
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
