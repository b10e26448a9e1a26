// llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU backend) as an independent reference engine.
// First the oracle is checked against llama.cpp outputs stored in the shared fixtures (made through the C API
// with llama_get_logits_ith), then Hearth is checked against the oracle: stories260K, and random-weight
// llama models written here with shapes a real GPU kernel has to get right (dim 256, GQA and MHA, tied and
// untied output, rope base 1e4 and 5e5). Measured on lavapipe: |Δlogit| ≤ 5e-6 (≤ 2e-6 · max|logit|).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f32, tinyLlamaSpec, writeGGUF, type TinyLlamaOptions } from './helpers/gguf-writer';
import { closeLlamaCpp, compareWithLlamaCpp, formatReport, openOracle, type CompareReport } from './helpers/llama-cpp';
import { fixturePath } from './helpers/fixtures';

const stories = (...p: string[]) => fixturePath('models/stories260K', ...p);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Logits rebuilt from llama.cpp's float32 probabilities are exact to ~3e-6 here (measured); see llama-cpp.ts. */
const RECONSTRUCTION_ATOL = 1e-5;
/** Hearth vs llama.cpp, both f32: measured ≤ 2e-6 · max|logit|; the bound leaves room for other GPUs' sum orders. */
const LOGIT_TOLERANCE = { rel: 1e-4 };

after(closeLlamaCpp);

test('oracle: greedy ids on stories260K (F32, F16) equal llamacpp_refs.json for every prompt, tokenization included', async () => {
  const refs = readJson(stories('llamacpp_refs.json'));
  for (const file of ['stories260K.gguf', 'stories260K-F16.gguf']) {
    const oracle = await openOracle(stories(file), { contextSize: 256 });
    try {
      for (const run of refs.models.find((m: { file: string }) => m.file === file).runs) {
        const promptIds = run.prompt === null ? [oracle.bosId] : oracle.tokenize(run.prompt, true);
        assert.deepEqual(promptIds, run.prompt_token_ids, `${file} prompt ${JSON.stringify(run.prompt)}`);
        const { ids } = await oracle.greedy(promptIds, run.token_ids.length - promptIds.length, { logits: false });
        assert.deepEqual([...promptIds, ...ids], run.token_ids, `${file} prompt ${JSON.stringify(run.prompt)}`);
      }
    } finally {
      await oracle.close();
    }
  }
});

test(`oracle: BOS logits rebuilt from probabilities equal llama_get_logits_ith (llamacpp_logits_bos/) within ${RECONSTRUCTION_ATOL}`, async () => {
  // Every stories260K file: seven different logit vectors, quantized ones included. The files were made with
  // llama.cpp's default f16 KV cache, so the oracle runs with it here.
  const files = ['stories260K.gguf', 'stories260K-F16.gguf', 'stories260K-Q8_0.gguf', 'stories260K-Q6_K.gguf', 'stories260K-Q4_K_M.gguf', 'stories260K-Q4_0.gguf', 'stories260K-Q4_0-pure.gguf'];
  const llama2c = readJson(stories('logits_bos.json')).logits as number[];
  for (const file of files) {
    const ref = readJson(stories('llamacpp_logits_bos', file.replace('.gguf', '.json')));
    const oracle = await openOracle(stories(file), { contextSize: 64, kvCacheType: 'f16' });
    try {
      const logits = await oracle.logitsAfter([oracle.bosId]);
      assert.equal(logits.length, ref.vocab_size);
      // llama.cpp's CPU F16 product depends on the CPU it runs on (with AVX512-FP16 it takes another f16 path
      // than the machine that stored the reference: 3.5e-3 apart on an Intel Xeon with it, 1e-6 elsewhere), so
      // the F16 file is held to its own distance from the f32 run; every other file is CPU-independent here.
      const atol = file.endsWith('-F16.gguf') ? ref.max_abs_diff_vs_llama2c_f32 : RECONSTRUCTION_ATOL;
      const diff = maxAbsDiff(logits, ref.logits);
      assert.ok(diff <= atol, `${file}: max |oracle − llama_get_logits_ith| = ${diff}`);
      assert.equal(logits.indexOf(Math.max(...logits)), ref.argmax);
      // The file's own statement about itself, reproduced from the oracle's logits.
      assert.ok(Math.abs(maxAbsDiff(logits, llama2c) - ref.max_abs_diff_vs_llama2c_f32) <= atol, `${file}: max_abs_diff_vs_llama2c_f32`);
    } finally {
      await oracle.close();
    }
  }
  // With an f32 KV cache (the oracle's default) llama.cpp's F32 logits are llama2c's, to float rounding.
  const oracle = await openOracle(stories('stories260K.gguf'), { contextSize: 64 });
  try {
    const diff = maxAbsDiff(await oracle.logitsAfter([oracle.bosId]), llama2c);
    assert.ok(diff <= RECONSTRUCTION_ATOL, `f32 KV: max |oracle − llama2c| = ${diff}`);
  } finally {
    await oracle.close();
  }
});

/** The report's claims, with the numbers in the message. */
function assertAgrees(r: CompareReport): void {
  const summary = formatReport(r);
  assert.deepEqual(r.hearthIds, r.oracleIds, `Hearth greedy ids differ from llama.cpp's: ${summary}`);
  assert.ok(r.withinTolerance, `logits outside tolerance: ${summary}`);
  // Logits within ±bound can only change the argmax where llama.cpp's top-2 margin is ≤ 2·bound: require
  // more everywhere, so equal ids are a consequence of the logits and the test cannot flip on a near tie.
  assert.ok(r.marginRatio > 1, `a near tie makes greedy fragile here: ${summary}`);
  if (r.engine) {
    assert.deepEqual(r.engine.promptIds, r.promptIds, `Hearth's tokenizer differs from llama.cpp's: ${summary}`);
    assert.deepEqual(r.engine.ids, r.engine.expectedIds, `createEngine's greedy ids differ: ${summary}`);
  }
  assert.ok(r.idsEqual);
}

test('Hearth vs llama.cpp on stories260K.gguf: 64 greedy steps, per-step logits, the public engine', async (t) => {
  const r = await compareWithLlamaCpp(stories('stories260K.gguf'), { prompt: 'Once upon a time', steps: 64, logitTolerance: LOGIT_TOLERANCE });
  t.diagnostic(formatReport(r));
  assertAgrees(r);
});

// Random llama models: shapes with dim and ffn multiples of 256 (K-quant blocks fit, for later tests),
// scaled initialisation (unit-scale activations, logits with std ≈ 1) and a byte-fallback vocabulary so text
// prompts tokenize. Seeds were picked for top-2 margins well above the tolerance (asserted, not assumed).
const base: TinyLlamaOptions = { dim: 256, ff: 768, layers: 2, heads: 4, vocab: 320, contextLength: 64, init: 'scaled', vocabulary: 'bytes' };
const models: [string, TinyLlamaOptions][] = [
  ['GQA 4/2, untied, rope base 1e4', { ...base, kvHeads: 2, seed: 1 }],
  ['MHA 4/4, tied output', { ...base, kvHeads: 4, tied: true, seed: 2 }],
  ['GQA 4/2, untied, rope base 5e5', { ...base, kvHeads: 2, seed: 3, metadata: { 'llama.rope.freq_base': f32(500000) } }],
  ['MHA 4/4, tied, rope base 5e5', { ...base, kvHeads: 4, tied: true, seed: 4, metadata: { 'llama.rope.freq_base': f32(500000) } }],
];
let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'hearth-oracle-')); });
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

for (const [name, options] of models) {
  test(`Hearth vs llama.cpp on a random llama (${name}): 32 greedy steps, per-step logits within ${LOGIT_TOLERANCE.rel}·max|logit|`, async (t) => {
    const path = join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
    writeFileSync(path, writeGGUF(tinyLlamaSpec(options)));
    const r = await compareWithLlamaCpp(path, { prompt: 'the cat sat on a mat', steps: 32, logitTolerance: LOGIT_TOLERANCE });
    t.diagnostic(formatReport(r));
    assertAgrees(r);
    // Also from ids alone (no text): a longer prompt, decoding up to the model's context length.
    const fromIds = await compareWithLlamaCpp(path, { promptIds: [1, 300, 301, 302, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], steps: 48, logitTolerance: LOGIT_TOLERANCE });
    t.diagnostic(formatReport(fromIds));
    assertAgrees(fromIds);
  });
}
