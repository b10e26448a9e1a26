// The engine in headless Chromium: greedy stories260K in the Web Worker equals llama2.c token for token,
// first-step logits within tolerance, and typed errors cross the worker boundary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchChromium, openEnginePage, startTestServer, type TestPage, type TestServer } from './helpers/browser';
import { fixturePath } from './helpers/fixtures';
import type * as Hearth from '../src/index';
import type { ModelInfo } from '../src/engine/types';
import type { ProfileOption } from '../src/gpu/profile';
import { GPU_PREFILL_BATCH, PREFILL_BATCH } from '../src/gpu/profile';
import { maxRelativeDiff } from './helpers/greedy-logits';

declare global {
  interface Window {
    hearth: typeof Hearth;
    hearthTest: {
      bosLogits(url: string): Promise<number[]>;
      profileRun(url: string, profile: ProfileOption, promptIds: number[], steps: number, forced?: number[]): Promise<{ profile: ModelInfo['profile']; ids: number[]; logits: number[][] }>;
      tryLoad(model: string | Uint8Array, options?: { precision?: 'auto' | 'f16' | 'f32' }): Promise<{ ok: boolean; name?: string; code?: string; message?: string; isHearth?: boolean; status?: number; retryable?: boolean }>;
      defaultModelBytes(): Promise<Uint8Array>;
    };
    hearthReady: boolean;
  }
}

interface Ref { prompt: string | null; prompt_token_ids: number[]; generated_token_ids: number[] }
const refs: Ref[] = JSON.parse(readFileSync(fixturePath('models/stories260K/refs.json'), 'utf8')).refs;
const LOGIT_ATOL = 2e-3;

let server: TestServer;
let browser: Browser;
let tp: TestPage;
const fsUrl = (path: string) => `/@fs${path}`;

before(async () => {
  server = await startTestServer({ server: { fs: { allow: [fixturePath()] } } });
  browser = await launchChromium();
  tp = await openEnginePage(browser, server.url);
});

after(async () => {
  await tp?.close();
  await browser?.close();
  await server?.close();
});

const models = [
  { url: '/public/stories260K.gguf', logits: 'logits_bos.json' },
  { url: fsUrl(fixturePath('models/stories260K/stories260K-F16.gguf')), logits: 'dequant_f32_refs/F16/logits_bos.json' },
];

for (const { url, logits } of models) {
  test(`Chromium worker: greedy ${url.split('/').pop()} equals llama2.c for every prompt; BOS logits within ${LOGIT_ATOL}`, async () => {
    const ref: { logits: number[] } = JSON.parse(readFileSync(fixturePath('models/stories260K', logits), 'utf8'));
    const got = await tp.page.evaluate((u) => window.hearthTest.bosLogits(u), url);
    let maxDiff = 0;
    for (let i = 0; i < ref.logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - ref.logits[i]!));
    assert.equal(got.length, ref.logits.length);
    assert.ok(maxDiff <= LOGIT_ATOL, `max |logit - ref| = ${maxDiff}\n${tp.logText()}`);

    const outputs = await tp.page.evaluate(async ({ u, cases }) => {
      const engine = await window.hearth.createEngine(u, { contextLength: 256 });
      const results = [];
      if (engine.model.precision !== 'f32') throw new Error(`SwiftShader lacks shader-f16, so 'auto' must pick f32, got ${engine.model.precision}`);
      if (engine.model.profile?.name !== 'software') throw new Error(`SwiftShader is a software adapter, got the ${engine.model.profile?.name} profile`);
      for (const c of cases) {
        await engine.resetContext();
        const stream = engine.generate(c.prompt ?? '', { maxTokens: c.maxTokens });
        const streamed: number[] = [];
        for await (const chunk of stream) if (chunk.token >= 0) streamed.push(chunk.token);
        const r = await stream.result;
        results.push({ streamed, tokens: r.tokens, promptTokens: r.promptTokens });
      }
      await engine.dispose();
      return results;
    }, { u: url, cases: refs.map((r) => ({ prompt: r.prompt, maxTokens: r.generated_token_ids.length })) });
    for (const [i, r] of refs.entries()) {
      assert.deepEqual(outputs[i]!.promptTokens, r.prompt_token_ids, `prompt ids for ${JSON.stringify(r.prompt)}`);
      assert.deepEqual(outputs[i]!.tokens, r.generated_token_ids, `generated ids for ${JSON.stringify(r.prompt)}`);
      assert.deepEqual(outputs[i]!.streamed, r.generated_token_ids, 'streamed chunks carry the same ids');
    }
  });
}

test('Chromium worker: bad models give typed errors that say what is wrong', async () => {
  const outcomes = await tp.page.evaluate(async () => {
    const good = await window.hearthTest.defaultModelBytes();
    const wrongMagic = good.slice();
    wrongMagic.set([0x47, 0x47, 0x4d, 0x4c], 0); // "GGML"
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => ((i * 2654435761) >>> 13) & 0xff);
    garbage.set([0x47, 0x47, 0x55, 0x46, 0xc6, 0x1c, 0x7c, 0xb0], 0); // "GGUF", version 2960923846, then garbage
    return {
      missing: await window.hearthTest.tryLoad('/does-not-exist.gguf'),
      truncated: await window.hearthTest.tryLoad(good.slice(0, 5000)),
      wrongMagic: await window.hearthTest.tryLoad(wrongMagic),
      garbage: await window.hearthTest.tryLoad(garbage),
      f16: await window.hearthTest.tryLoad(good, { precision: 'f16' }),
    };
  });
  // SwiftShader has no shader-f16: asking for f16 arithmetic is refused with what to do instead.
  assert.equal(outcomes.f16.name, 'ResourceError', JSON.stringify(outcomes.f16));
  assert.match(outcomes.f16.message!, /'shader-f16'.*'auto'.*'f32'/);
  assert.equal(outcomes.missing.name, 'DownloadError', JSON.stringify(outcomes.missing));
  assert.match(outcomes.missing.message!, /404/);
  // The typed fields come through the worker as thrown.
  assert.deepEqual([outcomes.missing.status, outcomes.missing.retryable], [404, false], JSON.stringify(outcomes.missing));
  // "GGUF" and then garbage: a corrupt file, not an unsupported version.
  assert.equal(outcomes.garbage.name, 'FormatError', JSON.stringify(outcomes.garbage));
  assert.match(outcomes.garbage.message!, /corrupt or truncated/);
  assert.equal(outcomes.truncated.name, 'FormatError', JSON.stringify(outcomes.truncated));
  assert.equal(outcomes.truncated.isHearth, true);
  assert.match(outcomes.truncated.message!, /truncated/i);
  assert.equal(outcomes.wrongMagic.name, 'FormatError', JSON.stringify(outcomes.wrongMagic));
  assert.match(outcomes.wrongMagic.message!, /not a GGUF file/i);
});

// The Node twin, on lavapipe: test/profile.test.ts (every architecture's tiny model, every weight type). Here one
// model with two weight types (Q4_K_M: q4_k and q6_k), since each load compiles the GPU profile's kernels on
// Chromium's single-threaded GPU process.
for (const url of [fsUrl(fixturePath('models/stories260K/stories260K-Q4_K_M.gguf'))]) {
  test(`Chromium: the GPU profile forced on SwiftShader gives ${url.split('/').pop()}'s software-profile greedy ids; logits within 1e-4 of the largest`, { timeout: 300_000 }, async () => {
    // 70 tokens: flash attention's prefill over several tiles of tokens and keys, decoding past position 64 in two chunks.
    const prompt = Array.from({ length: 70 }, (_, i) => (1 + 3 * i + 7 * i * i) % 512);
    const run = (profile: ProfileOption, forced?: number[]) => tp.page.evaluate(({ url, profile, prompt, forced }) =>
      window.hearthTest.profileRun(url, profile, prompt, 12, forced), { url, profile, prompt, forced });
    const software = await run('auto');
    // Fed the software profile's ids, each step's argmax must be the software profile's next id: the same as the
    // GPU profile's own greedy run giving the same ids, in one load.
    const gpuForced = await run('gpu', software.ids);
    assert.deepEqual(software.profile, { name: 'software', matvec: 'rows', laneSteps: 1, alignedWeights: false, attention: 'whole', matmul: 'rows', fuseNorm: false, prefillBatch: PREFILL_BATCH, sampling: 'single' });
    // SwiftShader has subgroups, and workgroups large enough for matmul-tiled.wgsl (32 KiB).
    assert.deepEqual(gpuForced.profile, { name: 'gpu', matvec: 'subgroup', laneSteps: 8, alignedWeights: true, attention: 'flash', matmul: 'tiled', fuseNorm: true, prefillBatch: GPU_PREFILL_BATCH, sampling: 'wide' });
    assert.deepEqual(gpuForced.ids, software.ids);
    const rel = maxRelativeDiff(software.logits, gpuForced.logits);
    assert.ok(rel <= 1e-4, `GPU-profile logits differ from the software profile's by ${rel} of the largest\n${tp.logText()}`);
  });
}
