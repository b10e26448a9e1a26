// Architectures × quantized types in headless Chromium (WebGPU on SwiftShader), through the real Web Worker:
// one tiny random model per distinct feature set (test/helpers/tiny-models.ts), its matrices quantized
// (test/helpers/quantized-models.ts), served by the Vite test server and loaded with createEngine in the page.
// The reference is llama.cpp on an F32 GGUF of the same dequantized weights, so both engines compute with
// identical weights in f32: greedy ids over 32 steps must be llama.cpp's exactly, and every step's logits
// (engine.logits, teacher-forced on llama.cpp's tokens) stay within the Node tests' tolerances (1e-4·max|logit|,
// 1e-3 for GELU models: llama.cpp rounds GELU through f16). Precision f32: the f32 kernels ('auto' would
// pick q8 for the Q4_0/Q8_0 models on SwiftShader, a CPU adapter). The full (architecture × type) grid runs in Node (test/quant-grid-*.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { WeightDType } from '../src/gpu/quant-types';
import { launchChromium, openEnginePage, startTestServer, type TestPage, type TestServer } from './helpers/browser';
import { closeLlamaCpp, compareStep, openOracle, type StepReport } from './helpers/llama-cpp';
import { quantizeModel } from './helpers/quantized-models';
import { ARCH_CASES, tinyModelSpec, type ArchCase } from './helpers/tiny-models';
import type * as Hearth from '../src/index';

declare global {
  interface Window { hearth: typeof Hearth; hearthReady: boolean }
}

const STEPS = 32;

/** Each distinct architecture feature once, each in another type (K-quants included: dims are multiples of 256). */
const CASES: { prefix: string; dtype: WeightDType }[] = [
  { prefix: 'qwen2: q/k/v biases', dtype: 'q8_0' },
  { prefix: 'phi3: fused QKV and gate-up', dtype: 'q4_k' },
  { prefix: 'gemma2: GeGLU', dtype: 'q6_k' },
  { prefix: 'gemma3: q/k norm', dtype: 'q4_0' },
  { prefix: 'gpt2: layer norm', dtype: 'f16' },
];

let dir: string;
let server: TestServer;
let browser: Browser;
let tp: TestPage;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-arch-chromium-'));
  server = await startTestServer({ server: { fs: { allow: [dir] } } });
  browser = await launchChromium();
  tp = await openEnginePage(browser, server.url);
});

after(async () => {
  await tp?.close();
  await browser?.close();
  await server?.close();
  await closeLlamaCpp();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface BrowserRun { promptIds: number[]; ids: number[]; streamed: number[]; logits: number[][]; weightType: string; adapter: string }

/** In the page: load through the worker, generate greedily from the text prompt, then the teacher-forced logits. */
function runInPage(url: string, prompt: string, contextLength: number, steps: number, forced: number[][]): Promise<BrowserRun> {
  return tp.page.evaluate(async ({ url, prompt, contextLength, steps, forced }) => {
    const engine = await window.hearth.createEngine(url, { contextLength, precision: 'f32' }); // not 'auto': q8 for Q4_0/Q8_0 here
    try {
      const stream = engine.generate(prompt, { maxTokens: steps });
      const streamed: number[] = [];
      for await (const chunk of stream) if (chunk.token >= 0) streamed.push(chunk.token);
      const r = await stream.result;
      const logits: number[][] = [];
      for (const ids of forced) logits.push(Array.from(await engine.logits(ids)));
      return { promptIds: r.promptTokens, ids: r.tokens, streamed, logits, weightType: engine.model.weightType, adapter: engine.model.adapter };
    } finally {
      await engine.dispose();
    }
  }, { url, prompt, contextLength, steps, forced });
}

for (const { prefix, dtype } of CASES) {
  const c: ArchCase = ARCH_CASES.find((a) => a.name.startsWith(prefix))!;
  test(`Chromium worker, ${c.arch} in ${dtype.toUpperCase()} (${c.name.slice(c.arch.length + 2)}): greedy ids and logits equal llama.cpp's on the dequantized weights`, { timeout: 300_000 }, async (t) => {
    const name = `${c.arch}-${dtype}`;
    const { quantized, dequantized, quantizedTensors } = quantizeModel(tinyModelSpec(c.arch, c.options), dtype);
    assert.ok(quantizedTensors.length > 0);
    const quantPath = join(dir, `${name}.gguf`), refPath = join(dir, `${name}-dequantized-f32.gguf`);
    writeFileSync(quantPath, quantized);
    writeFileSync(refPath, dequantized);

    const t0 = performance.now();
    const oracle = await openOracle(refPath, c.oracle);
    let promptIds: number[], reference: { ids: number[]; logits: Float32Array[] }, firstEog: number;
    try {
      promptIds = oracle.tokenize(c.prompt, oracle.addsBos);
      reference = await oracle.greedy(promptIds, STEPS);
      firstEog = reference.ids.findIndex((id) => oracle.isEog(id));
    } finally {
      await oracle.close();
    }
    const t1 = performance.now();
    // Logits of the contexts llama.cpp's came from: the prompt, then its picks one by one.
    const forced = reference.ids.map((_, s) => [...promptIds, ...reference.ids.slice(0, s)]);
    const run = await runInPage(`/@fs${quantPath}`, c.prompt, promptIds.length + STEPS, STEPS, forced);
    const t2 = performance.now();

    const steps: StepReport[] = reference.logits.map((ref, s) =>
      compareStep(s, promptIds.length - 1 + s, reference.ids[s]!, ref, Float32Array.from(run.logits[s]!), 0, c.tolerance.rel));
    const worst = steps.reduce((a, b) => (b.maxAbsDiff / b.bound > a.maxAbsDiff / a.bound ? b : a));
    const maxRel = Math.max(...steps.map((s) => s.maxAbsDiff / s.maxAbsLogit));
    const marginRatio = Math.min(...steps.map((s) => s.margin / (2 * s.bound)));
    const summary = `${name} on ${run.adapter}: max |Δlogit| ${worst.maxAbsDiff.toExponential(2)} at step ${worst.step} ` +
      `(max rel ${maxRel.toExponential(2)}, bound ${c.tolerance.rel}·max|logit|), min top-2 margin ${marginRatio.toFixed(0)}× 2·bound; ` +
      `ms llama.cpp ${(t1 - t0).toFixed(0)}, Chromium ${(t2 - t1).toFixed(0)}\n${tp.logText()}`;
    t.diagnostic(summary.split('\n')[0]!);

    assert.equal(run.weightType, dtype.toUpperCase(), 'the engine reports the matrices\' type');
    assert.deepEqual(run.promptIds, promptIds, `Hearth's tokenizer differs from llama.cpp's: ${summary}`);
    assert.ok(steps.every((s) => s.maxAbsDiff <= s.bound), `logits outside tolerance: ${summary}`);
    // Within ±bound the argmax can only move where llama.cpp's top-2 margin is ≤ 2·bound: require more, so
    // equal ids follow from the logits and cannot flip on a near tie.
    assert.ok(marginRatio > 1, `a near tie makes greedy fragile here: ${summary}`);
    assert.deepEqual(steps.map((s) => s.hearthToken), reference.ids, `argmax of Hearth's logits differs: ${summary}`);
    assert.deepEqual(run.ids, firstEog < 0 ? reference.ids : reference.ids.slice(0, firstEog), `greedy ids differ: ${summary}`);
    assert.deepEqual(run.streamed, run.ids, 'the stream carries the same ids');
  });
}
