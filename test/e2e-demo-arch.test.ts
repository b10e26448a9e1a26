// The demo page (Vite, root demo/) in headless Chromium loads a tiny random model of every architecture
// (test/helpers/tiny-models.ts), each with its matrices in another quantized type: the first through
// `?model=`, the others through "Load another model". A greedy turn must stream, and the model's text must be
// llama.cpp's greedy continuation of the same prompt on the dequantized F32 weights, decoded by llama.cpp.
// A file of an architecture Hearth does not run ends in the error panel naming the supported ones.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { WeightDType } from '../src/gpu/quant-types';
import { launchChromium, openPage, repoRoot, startTestServer, type TestPage, type TestServer } from './helpers/browser';
import { growth, onWebGPU, recordGrowth, sendAndWait, storedConversations } from './helpers/app-page';
import { closeLlamaCpp, openOracle } from './helpers/llama-cpp';
import { writeGGUF } from './helpers/gguf-writer';
import { quantizeModel } from './helpers/quantized-models';
import { ARCH_CASES, tinyModelSpec, type TinyArch } from './helpers/tiny-models';

/** Tokens per turn: the prompt takes 32 of the tiny models' 64 positions. */
const MAX_TOKENS = 20;
const TIMEOUT = 120_000;

/** One model per architecture; together with test/arch-chromium.test.ts every weight type runs in the browser. */
const MODELS: { arch: TinyArch; dtype: WeightDType }[] = [
  { arch: 'llama', dtype: 'q5_k' },
  { arch: 'qwen2', dtype: 'q4_1' },
  { arch: 'qwen3', dtype: 'q5_0' },
  { arch: 'phi3', dtype: 'q5_1' },
  { arch: 'gemma2', dtype: 'bf16' },
  { arch: 'gemma3', dtype: 'q8_0' },
  { arch: 'gpt2', dtype: 'q6_k' },
];

interface Expected { arch: TinyArch; dtype: WeightDType; name: string; url: string; prompt: string; text: string; ids: number[] }

let dir: string;
let server: TestServer;
let browser: Browser;
const expected: Expected[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-demo-arch-'));
  server = await startTestServer({ root: `${repoRoot}demo`, server: { fs: { allow: [dir] } } });
  browser = await launchChromium();
  // An architecture Hearth does not run: the demo must say so and name the supported ones.
  writeFileSync(join(dir, 'tiny-falcon.gguf'), writeGGUF(tinyModelSpec('llama', { layers: 1, metadata: { 'general.architecture': 'falcon' } })));
  for (const { arch, dtype } of MODELS) {
    const c = ARCH_CASES.find((a) => a.arch === arch)!;
    const name = `tiny-${arch}-${dtype.toUpperCase()}.gguf`;
    const { quantized, dequantized } = quantizeModel(tinyModelSpec(arch, c.options), dtype);
    writeFileSync(join(dir, name), quantized);
    writeFileSync(join(dir, `${name}.f32`), dequantized);
    const oracle = await openOracle(join(dir, `${name}.f32`), c.oracle);
    try {
      const promptIds = oracle.tokenize(c.prompt, oracle.addsBos);
      const r = await oracle.greedy(promptIds, MAX_TOKENS, { stopAtEog: true });
      // Greedy is only a sharp reference where no step is a near tie (cf. test/arch-chromium.test.ts's margins).
      for (const [s, logits] of r.logits.entries()) {
        const [top1, top2] = [...logits].sort((a, b) => b - a);
        const maxAbs = logits.reduce((m, x) => (Number.isFinite(x) ? Math.max(m, Math.abs(x)) : m), 0);
        assert.ok(top1! - top2! > 2 * c.tolerance.rel * maxAbs, `${name}: llama.cpp's top-2 logits nearly tie at step ${s}`);
      }
      const ids = oracle.isEog(r.ids.at(-1)!) ? r.ids.slice(0, -1) : r.ids;
      const promptText = oracle.detokenize(promptIds);
      const fullText = oracle.detokenize([...promptIds, ...ids]);
      assert.ok(fullText.startsWith(promptText), `${name}: llama.cpp's text of the prompt is not a prefix of the whole`);
      expected.push({ arch, dtype, name, url: `${server.url}/@fs${join(dir, name)}`, prompt: c.prompt, text: fullText.slice(promptText.length), ids });
    } finally {
      await oracle.close();
    }
  }
});

after(async () => {
  await browser?.close();
  await server?.close();
  await closeLlamaCpp();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const waitForState = (page: Page, want: string) =>
  page.waitForFunction((s) => document.body.dataset.state === s, want, { timeout: TIMEOUT, polling: 50 });

/**
 * Starts a new chat, sends the prompt (greedy is the app's default) and returns the model's text (as the app
 * stored it) and how often the reply grew while streaming.
 */
async function greedyTurn(page: Page, prompt: string): Promise<{ text: string; updates: number; stats: string }> {
  await page.getByTestId('new-chat').click();
  await recordGrowth(page);
  await sendAndWait(page, prompt);
  const [conversation] = await storedConversations(page);
  return {
    text: conversation!.messages.at(-1)!.content,
    updates: new Set(await growth(page)).size,
    stats: await page.getByTestId('turn-stats').innerText(),
  };
}

test('the demo loads a tiny model of every architecture, quantized, and continues a prompt as llama.cpp does; an unknown architecture gets a clear error', { timeout: 900_000 }, async (t) => {
  const [first, ...rest] = expected;
  const tp: TestPage = await openPage(browser, onWebGPU(`${server.url}/?model=${encodeURIComponent(first!.url)}`));
  try {
    for (const [i, e] of [first!, ...rest].entries()) {
      const t0 = performance.now();
      if (i > 0) {
        // The model picker: its URL field and Load button.
        await tp.page.getByTestId('model-button').click();
        await tp.page.getByTestId('model-url').fill(e.url);
        await tp.page.getByTestId('load-model').click();
      }
      // Loaded: the model line names the architecture and weight type (unique per model here).
      const line = ` · ${e.arch} · ${e.dtype.toUpperCase()} · `;
      await tp.page.waitForFunction((l) => document.body.dataset.state === 'error' ||
        (document.body.dataset.state === 'ready' && document.getElementById('model-info')!.textContent!.includes(l)),
        line, { timeout: TIMEOUT, polling: 50 });
      assert.equal(await tp.page.evaluate(() => document.body.dataset.state), 'ready', await tp.page.getByTestId('error-panel').innerText());
      if (i === 0) {
        await tp.page.locator('#settings > summary').click();
        await tp.page.getByTestId('max-tokens').fill(String(MAX_TOKENS));
        await tp.page.locator('#settings > summary').click();
      }

      const turn = await greedyTurn(tp.page, e.prompt);
      t.diagnostic(`${e.name}: ${turn.stats}; ${((performance.now() - t0) / 1000).toFixed(1)} s with loading`);
      assert.equal(turn.text, e.text, `${e.name}: the demo's continuation differs from llama.cpp's (ids ${e.ids.join(' ')})\n${tp.logText()}`);
      assert.match(turn.stats, new RegExp(`^${e.ids.length} tokens`));
      assert.ok(turn.updates >= Math.min(5, e.ids.length), `${e.name}: the text should grow token by token, saw ${turn.updates} updates`);
      assert.equal(await tp.page.getByTestId('error-panel').isVisible(), false);
    }
    await tp.page.getByTestId('model-button').click();
    await tp.page.getByTestId('model-url').fill(`${server.url}/@fs${join(dir, 'tiny-falcon.gguf')}`);
    await tp.page.getByTestId('load-model').click();
    await waitForState(tp.page, 'error');
    assert.equal(await tp.page.getByTestId('error-title').innerText(), 'This model is not supported yet');
    const message = await tp.page.getByTestId('error-message').innerText();
    assert.match(message, /architecture 'falcon' is not supported/);
    for (const { arch } of MODELS) assert.match(message, new RegExp(`\\b${arch}\\b`), `the message names ${arch}`);
    assert.match(await tp.page.getByTestId('error-hint').innerText(), /Choose another model/);
  } catch (e) {
    console.error(tp.logText());
    throw e;
  } finally {
    await tp.close();
  }
});
