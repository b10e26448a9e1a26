// The embeddings API in Node on tiny random models: engine.embeddings.create in OpenAI's shape (unit vectors that
// are llama.cpp's normalised, usage, Matryoshka dimensions, base64, token-id input, refusals), embed() with other
// poolings, pipeline('feature-extraction') as transformers.js's, and the guards between generation and embeddings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, InvalidRequestError, pipeline, type Engine } from '../src/index';
import { writeGGUF } from './helpers/gguf-writer';
import { closeLlamaCpp } from './helpers/llama-cpp';
import { openEmbeddingOracle, tinyEncoderSpec, tinyQwen3EmbeddingSpec } from './helpers/tiny-embedding-models';
import { tinyModelSpec } from './helpers/tiny-models';

let dir: string;
let bertPath: string;
let qwenPath: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-embed-api-'));
  bertPath = join(dir, 'bert.gguf');
  writeFileSync(bertPath, writeGGUF(tinyEncoderSpec('bert', { seed: 2 })));
  qwenPath = join(dir, 'qwen3-embedding.gguf');
  writeFileSync(qwenPath, writeGGUF(tinyQwen3EmbeddingSpec()));
});
after(async () => { rmSync(dir, { recursive: true, force: true }); await closeLlamaCpp(); });

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const unit = (v: ArrayLike<number>) => Array.from(v, (x) => x / norm(v));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('engine.embeddings on BERT (an encoder: loaded for embeddings by itself)', () => {
  let engine: Engine;
  before(async () => { engine = await createEngine(bertPath, { precision: 'f32' }); });
  after(async () => { await engine?.dispose(); });

  test('create: OpenAI\'s shape, unit vectors equal to llama.cpp\'s normalised, usage counts the tokens', async () => {
    const input = ['the cat sat on the mat', 'Hello, world!'];
    const r = await engine.embeddings.create({ model: 'text-embedding-3-small', input });
    assert.equal(r.object, 'list');
    assert.equal(r.model, 'text-embedding-3-small');
    const oracle = await openEmbeddingOracle(bertPath);
    try {
      let tokens = 0;
      for (const [i, text] of input.entries()) {
        const d = r.data[i]!;
        assert.deepEqual([d.object, d.index, d.embedding.length], ['embedding', i, 64]);
        assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-6);
        const ids = await engine.tokenize(text);
        tokens += ids.length;
        const want = unit(await oracle.embed(ids));
        assert.ok(maxDiff(d.embedding, want) < 1e-3, `input ${i}: ${maxDiff(d.embedding, want)}`);
      }
      assert.deepEqual(r.usage, { prompt_tokens: tokens, total_tokens: tokens });
    } finally {
      await oracle.close();
    }
  });

  test('dimensions cuts to the first values and renormalises; base64 carries the same float32s; token ids work as text does', async () => {
    const full = (await engine.embeddings.create({ input: 'Embeddings are fun.' })).data[0]!.embedding;
    const cut = (await engine.embeddings.create({ input: 'Embeddings are fun.', dimensions: 16 })).data[0]!.embedding;
    assert.equal(cut.length, 16);
    assert.ok(maxDiff(cut, unit(full.slice(0, 16))) < 1e-6);
    const b64 = (await engine.embeddings.create({ input: ['Embeddings are fun.'], encoding_format: 'base64' })).data[0]!.embedding;
    const bytes = Buffer.from(b64, 'base64');
    assert.deepEqual(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)), full);
    const ids = await engine.tokenize('Embeddings are fun.');
    assert.deepEqual((await engine.embeddings.create({ input: ids })).data[0]!.embedding, full);
    assert.deepEqual((await engine.embeddings.create({ input: [ids, ids] })).data.map((d) => d.embedding), [full, full]);
  });

  test('embed: any pooling, normalisation optional; mean of the token vectors is the mean pooling', async () => {
    const tokens = await engine.embeddings.embed('the cat sat', { pooling: 'none', normalize: false });
    const n = tokens.tokenCounts[0]!;
    assert.equal(tokens.vectors[0]!.length, n * 64);
    const mean = Array.from({ length: 64 }, (_, i) => Array.from({ length: n }, (_, t) => tokens.vectors[0]![t * 64 + i]!).reduce((a, b) => a + b, 0) / n);
    const pooled = await engine.embeddings.embed('the cat sat', { pooling: 'mean', normalize: false });
    assert.ok(maxDiff(pooled.vectors[0]!, mean) < 1e-5);
    const cls = await engine.embeddings.embed(['the cat sat'], { pooling: 'cls', normalize: false });
    assert.deepEqual(Array.from(cls.vectors[0]!), Array.from(tokens.vectors[0]!.subarray(0, 64)));
    const prefixed = await engine.embeddings.embed(['sat'], { prefix: 'the cat ' });
    assert.deepEqual(prefixed.vectors, (await engine.embeddings.embed(['the cat sat'])).vectors);
  });

  test('refusals: empty input, bad dimensions or encoding, generating with an encoder', async () => {
    await assert.rejects(engine.embeddings.create({ input: '' }), InvalidRequestError);
    await assert.rejects(engine.embeddings.create({ input: [] }), InvalidRequestError);
    await assert.rejects(engine.embeddings.create({ input: 'x', dimensions: 65 }), /dimensions must be an integer from 1 to 64/);
    await assert.rejects(engine.embeddings.create({ input: 'x', dimensions: 0 }), InvalidRequestError);
    await assert.rejects(engine.embeddings.create({ input: 'x', encoding_format: 'hex' as 'float' }), InvalidRequestError);
    await assert.rejects(engine.embeddings.create({ input: [[1, 999]] }), /outside the vocabulary/);
    await assert.rejects(engine.generate('the cat').result, /loaded for embeddings/);
    await assert.rejects(engine.embeddings.create({ input: 'the '.repeat(70) }), /at most 64/);
  });
});

test('Qwen3-Embedding: a decoder loaded with { embeddings: true } pools its last token as llama.cpp does', async () => {
  const engine = await createEngine(qwenPath, { embeddings: true, precision: 'f32' });
  const oracle = await openEmbeddingOracle(qwenPath);
  try {
    const text = 'the cat sat on a mat';
    const got = (await engine.embeddings.create({ input: text })).data[0]!.embedding;
    const ids = await engine.tokenize(text);
    assert.ok(maxDiff(got, unit(await oracle.embed(ids))) < 1e-5);
  } finally {
    await oracle.close();
    await engine.dispose();
  }
});

test('a model loaded for generation refuses embeddings, naming the option', async () => {
  const path = join(dir, 'llama.gguf');
  writeFileSync(path, writeGGUF(tinyModelSpec('llama', { dim: 64, heads: 2, kvHeads: 1, ff: 128 })));
  const engine = await createEngine(path, { precision: 'f32' });
  try {
    await assert.rejects(engine.embeddings.create({ input: 'hello' }), /load it with \{ embeddings: true \}/);
  } finally {
    await engine.dispose();
  }
});

test("pipeline('feature-extraction'): transformers.js's tensor, pooling and normalize", async () => {
  const extractor = await pipeline('feature-extraction', bertPath, { precision: 'f32' });
  try {
    const texts = ['the cat sat on the mat', 'hello'];
    const pooled = await extractor(texts, { pooling: 'mean', normalize: true });
    assert.deepEqual(pooled.dims, [2, 64]);
    const api = await extractor.engine.embeddings.create({ input: texts });
    assert.deepEqual(pooled.tolist(), api.data.map((d) => d.embedding));
    const perToken = await extractor(texts);
    const counts = await Promise.all(texts.map(async (t) => (await extractor.engine.tokenize(t)).length));
    assert.deepEqual(perToken.dims, [2, Math.max(...counts), 64]);
    const rows = perToken.tolist() as number[][][];
    assert.ok(rows[1]!.slice(counts[1]).every((row) => row.every((x) => x === 0)), 'the shorter input is zero-padded');
    await assert.rejects(extractor('x', { pooling: 'max' as 'mean' }), InvalidRequestError);
  } finally {
    await extractor.dispose();
  }
});
