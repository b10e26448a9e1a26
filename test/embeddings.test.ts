// Embedding models against llama.cpp (node-llama-cpp's embedding context) on tiny random models of each
// embedding architecture: BERT (mean and CLS pooling), nomic-bert, Qwen3-Embedding (last token), llama.cpp in
// f32 attention. Hearth's pooled vectors must be llama.cpp's within max|Δ| ≤ tol·max|v|: 1e-5 for the SwiGLU
// models (measured ≤ 7e-7 on lavapipe), 1e-3 for BERT, whose GELU llama.cpp runs through an f16 table
// (test/helpers/tiny-models.ts; measured ≤ 2.4e-4). WordPiece ids must equal llama.cpp's.
// Packing several inputs into one pass must never change a vector: each is bit for bit what it is alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { loadModel, type LoadedModel } from '../src/model/load';
import { embedTokens, modelPooling } from '../src/model/embed';
import { estimateGpuMemory } from '../src/model/memory';
import { openModel } from '../src/model/open';
import { writeGGUF, type GGUFSpec } from './helpers/gguf-writer';
import { closeLlamaCpp } from './helpers/llama-cpp';
import { openEmbeddingOracle, tinyEncoderSpec, tinyQwen3EmbeddingSpec } from './helpers/tiny-embedding-models';

let gpu: AcquiredDevice;
let dir: string;
before(async () => { gpu = await acquireDevice(); dir = mkdtempSync(join(tmpdir(), 'hearth-embed-')); });
after(async () => { rmSync(dir, { recursive: true, force: true }); gpu?.device.destroy(); await closeLlamaCpp(); });

function writeModel(name: string, spec: GGUFSpec): string {
  const path = join(dir, `${name}.gguf`);
  writeFileSync(path, writeGGUF(spec));
  return path;
}

const TEXTS = [
  'Hello, world!',
  'the cat sat on the mat',
  '  Embeddings  are\tfun.\nDon\'t stop-believing ',
  'Café naïve résumé RUNNING',
  '日本語 tokens (unknown) words: xyzzy!',
  'a',
];

function maxAbs(v: Float32Array): number {
  return v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

const CASES: { name: string; spec: () => GGUFSpec; pooling: string; tol: number }[] = [
  { name: 'bert (mean pooling)', spec: () => tinyEncoderSpec('bert', { seed: 2 }), pooling: 'mean', tol: 1e-3 },
  { name: 'bert (CLS pooling)', spec: () => tinyEncoderSpec('bert', { seed: 5, pooling: 2 }), pooling: 'cls', tol: 1e-3 },
  { name: 'nomic-bert (rope, fused QKV, SwiGLU)', spec: () => tinyEncoderSpec('nomic-bert', { seed: 4 }), pooling: 'mean', tol: 1e-5 },
  { name: 'qwen3 embedding (causal, last token)', spec: () => tinyQwen3EmbeddingSpec(), pooling: 'last', tol: 1e-5 },
];

for (const c of CASES) {
  describe(c.name, () => {
    let path: string;
    let loaded: LoadedModel;
    before(async () => {
      path = writeModel(c.name.replace(/\W+/g, '-'), c.spec());
      loaded = await loadModel(gpu, path, { embeddings: true, contextLength: 64, precision: 'f32' });
    });
    after(() => loaded?.destroy());

    test('tokenizes as llama.cpp and embeds as llama.cpp does', async (t) => {
      assert.equal(modelPooling(loaded.config), c.pooling);
      const oracle = await openEmbeddingOracle(path);
      try {
        const inputs = TEXTS.map((text) => loaded.tokenizer.encode(text));
        for (const text of TEXTS) {
          assert.deepEqual(loaded.tokenizer.encode(text, { addBos: false, addEos: false }), oracle.tokenize(text), `tokens of ${JSON.stringify(text)}`);
        }
        const got = await embedTokens(loaded.model, inputs, modelPooling(loaded.config));
        let worst = 0;
        for (const [i, ids] of inputs.entries()) {
          const want = await oracle.embed(ids);
          assert.equal(got[i]!.length, want.length);
          const err = got[i]!.reduce((m, x, k) => Math.max(m, Math.abs(x - want[k]!)), 0) / maxAbs(want);
          worst = Math.max(worst, err);
          assert.ok(err <= c.tol, `input ${i}: max|Δ| = ${err.toExponential(2)}·max|v|`);
        }
        t.diagnostic(`max|Δ| ≤ ${worst.toExponential(2)}·max|v| over ${inputs.length} inputs`);
      } finally {
        await oracle.close();
      }
    });

    test('the GPU memory estimate is what loading for embeddings allocates', async () => {
      const opened = await openModel(path);
      try {
        assert.equal(loaded.info.gpuBytes, estimateGpuMemory(opened.readConfig(), opened.file.tensors, 64, { precision: 'f32', embeddings: true }).total);
      } finally {
        await opened.close();
      }
    });

    test('packing inputs into one pass never changes a vector', async () => {
      const inputs = TEXTS.map((text) => loaded.tokenizer.encode(text));
      const together = await embedTokens(loaded.model, inputs, modelPooling(loaded.config));
      const reversed = await embedTokens(loaded.model, inputs.toReversed(), modelPooling(loaded.config));
      for (const [i, ids] of inputs.entries()) {
        const [alone] = await embedTokens(loaded.model, [ids], modelPooling(loaded.config));
        assert.deepEqual(together[i], alone, `input ${i} packed with the others`);
        assert.deepEqual(reversed[inputs.length - 1 - i], alone, `input ${i} packed at another offset`);
      }
    });
  });
}

test('WordPiece without lowercasing or accent stripping (the normalizer keys) tokenizes as llama.cpp', async () => {
  const path = writeModel('bert-cased', tinyEncoderSpec('bert', { metadata: { 'tokenizer.ggml.normalizer.lowercase': false, 'tokenizer.ggml.normalizer.strip_accents': false } }));
  const loaded = await loadModel(gpu, path, { precision: 'f32', contextLength: 64 });
  const oracle = await openEmbeddingOracle(path);
  try {
    for (const text of [...TEXTS, 'é café Cat CAT', 'ﬁ ligature, tab\tand\u00a0nbsp']) {
      assert.deepEqual(loaded.tokenizer.encode(text, { addBos: false, addEos: false }), oracle.tokenize(text), `tokens of ${JSON.stringify(text)}`);
    }
  } finally {
    await oracle.close();
    loaded.destroy();
  }
});
