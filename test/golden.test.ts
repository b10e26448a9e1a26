// stories260K through the whole Node stack, against llama2.c's greedy outputs and logits: the F32 file, and
// every quantized file against llama2.c run on that file's weights dequantized exactly as ggml does (the
// dequant_f32_refs), which is what Hearth computes: raw blocks on the GPU, dequantized in registers, f32 math
// (precision 'f32' pinned: 'auto' depends on the adapter and the file; test/precision.test.ts and test/q8.test.ts hold f16 and q8 to tolerances of this path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { acquireDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { Session } from '../src/engine/worker/session';
import { fixturePath } from './helpers/fixtures';

interface Ref { prompt: string | null; prompt_token_ids: number[]; generated_token_ids: number[] }
const readRefs = (path: string): Ref[] => JSON.parse(readFileSync(fixturePath('models/stories260K', path), 'utf8')).refs;

const dequantized = (type: string) => ({ refs: `dequant_f32_refs/${type}/refs.json`, logits: `dequant_f32_refs/${type}/logits_bos.json` });
const cases = [
  { file: 'stories260K.gguf', refs: 'refs.json', logits: 'logits_bos.json' },
  // F16 weights are exact in f32, so llama2.c's own refs hold; its BOS logits come from the dequantized run.
  { file: 'stories260K-F16.gguf', refs: 'refs.json', logits: 'dequant_f32_refs/F16/logits_bos.json' },
  { file: 'stories260K-Q8_0.gguf', ...dequantized('Q8_0') },
  { file: 'stories260K-Q4_0.gguf', ...dequantized('Q4_0') },
  { file: 'stories260K-Q4_0-pure.gguf', ...dequantized('Q4_0-pure') },
  { file: 'stories260K-Q4_K_M.gguf', ...dequantized('Q4_K_M') },
  // No K-quant block fits stories260K's 64/172-wide rows, so its "Q6_K" holds the Q8_0 file's tensor data.
  { file: 'stories260K-Q6_K.gguf', ...dequantized('Q8_0') },
];
const LOGIT_ATOL = 2e-3;

for (const { file, refs: refsFile, logits: logitsFile } of cases) {
  test(`golden ${file}: BOS logits within ${LOGIT_ATOL} and greedy ids equal llama2.c for every prompt`, async () => {
    const gpu = await acquireDevice();
    try {
      const loaded = await loadModel(gpu, fixturePath('models/stories260K', file), { contextLength: 256, precision: 'f32' });
      const ref: { argmax: number; logits: number[] } = JSON.parse(readFileSync(fixturePath('models/stories260K', logitsFile), 'utf8'));
      const logits = await loaded.model.step(loaded.tokenizer.bosId!, 0, 'logits');
      assert.equal(logits.length, ref.logits.length);
      let maxDiff = 0;
      for (let i = 0; i < logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i]! - ref.logits[i]!));
      assert.ok(maxDiff <= LOGIT_ATOL, `max |logit - ref| = ${maxDiff} > ${LOGIT_ATOL}`);
      assert.equal(logits.indexOf(Math.max(...logits)), ref.argmax);

      const session = new Session(loaded);
      for (const r of readRefs(refsFile)) {
        session.reset();
        const streamed: number[] = [];
        const result = await session.generate(r.prompt ?? '', { maxTokens: r.generated_token_ids.length }, (c) => { if (c.token >= 0) streamed.push(c.token); });
        assert.deepEqual(result.promptTokens, r.prompt_token_ids, `prompt ids for ${JSON.stringify(r.prompt)}`);
        assert.deepEqual(result.tokens, r.generated_token_ids, `generated ids for ${JSON.stringify(r.prompt)}`);
        assert.deepEqual(streamed, result.tokens);
        assert.equal(result.finishReason, 'length');
      }
      loaded.destroy();
    } finally {
      gpu.device.destroy();
    }
  });
}

// The full 32000-token Llama 2 vocabulary on a dim-8 random model (F16 weights): llama.cpp's greedy runs,
// which llama2.c reproduces token for token, and the BOS logits (|logit| ~ 0.1, so bounds are absolute):
// llama2.c's (f32 math, first 512 logits) tightly; llama.cpp's (all 32000) within 1e-4, because its F16
// matmuls round the activations to f16 (measured 3.4e-5).
test('golden llama-2-tiny-random: BOS logits and greedy ids equal the references for every prompt', async () => {
  const dir = fixturePath('models/llama-2-tiny-random');
  const llamaCpp: { runs: { prompt: string | null; prompt_token_ids: number[]; token_ids: number[] }[]; bos_logits: { argmax: number; logits: number[] } } =
    JSON.parse(readFileSync(`${dir}/llamacpp_refs.json`, 'utf8'));
  const llama2c: { argmax: string; logits: number[] } = JSON.parse(readFileSync(`${dir}/llama2c_refs/logits_bos.json`, 'utf8'));
  const maxDiff = (a: Float32Array, b: number[]) => b.reduce((m, v, i) => Math.max(m, Math.abs(a[i]! - v)), 0);
  const gpu = await acquireDevice();
  try {
    const loaded = await loadModel(gpu, `${dir}/llama-2-tiny-random.gguf`, { contextLength: 128, precision: 'f32' });
    const logits = await loaded.model.step(loaded.tokenizer.bosId!, 0, 'logits');
    assert.equal(logits.length, llamaCpp.bos_logits.logits.length);
    assert.ok(maxDiff(logits, llama2c.logits) <= 1e-6, `max |logit − llama2.c| = ${maxDiff(logits, llama2c.logits)}`);
    assert.ok(maxDiff(logits, llamaCpp.bos_logits.logits) <= 1e-4, `max |logit − llama.cpp| = ${maxDiff(logits, llamaCpp.bos_logits.logits)}`);
    assert.equal(logits.indexOf(Math.max(...logits)), llamaCpp.bos_logits.argmax);
    assert.equal(llamaCpp.bos_logits.argmax, Number(llama2c.argmax));
    const session = new Session(loaded);
    for (const run of llamaCpp.runs) {
      session.reset();
      const expected = run.token_ids.slice(run.prompt_token_ids.length);
      const result = await session.generate(run.prompt ?? '', { maxTokens: expected.length }, () => {});
      assert.deepEqual(result.promptTokens, run.prompt_token_ids, `prompt ids for ${JSON.stringify(run.prompt)}`);
      assert.deepEqual(result.tokens, expected, `generated ids for ${JSON.stringify(run.prompt)}`);
    }
    loaded.destroy();
  } finally {
    gpu.device.destroy();
  }
});
