// Model config from GGUF metadata: real files against the fixtures README, and synthetic files
// (test/helpers/gguf-writer.ts) for defaults, unsupported architectures and missing/misshapen tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fixturePath } from './helpers/fixtures';
import { writeGGUF, specFromFile, tinyLlamaSpec, u32, f32, type TinyLlamaOptions, Typed } from './helpers/gguf-writer';
import { MemorySource } from '../src/io/byte-source';
import { openFileSource } from '../src/io/file-source';
import { readGGUF, readTensorBytes, GGUFValueType, type GGUFFile } from '../src/model/gguf';
import type { ModelConfig } from '../src/model/config';
import { readModelConfig as readLlamaConfig } from '../src/model/read-config';
import { modelTensorShapes as llamaTensorShapes } from '../src/model/tensors';
import { FormatError, UnsupportedError } from '../src/errors';

async function readPath(path: string): Promise<GGUFFile> {
  const src = await openFileSource(path);
  try { return await readGGUF(src); } finally { await src.close(); }
}
const tiny = async (o: TinyLlamaOptions = {}) => readGGUF(new MemorySource(writeGGUF(tinyLlamaSpec(o)), 'tiny.gguf'));

/** The feature set of a plain Llama (RMS norm, SwiGLU, separate unbiased projections, "norm" rope). */
const LLAMA_FEATURES = {
  norm: 'rms', feedForward: 'swiglu', fusedQkv: false, fusedGateUp: false, biases: [], qkNorm: false, postNorms: false,
  embeddingScale: 1, positionEmbedding: false, slidingWindow: null, attentionSoftcap: 0, finalSoftcap: 0,
} as const;
const llamaRope = (dim: number, freqBase = 10000) => ({ style: 'norm', dim, freqBase, freqScale: 1, freqFactors: null, attnFactor: 1 } as const);

const STORIES260K: ModelConfig = {
  // From the fixtures README: dim 64, 5 layers, 8 heads, 4 KV heads, FFN 172, vocab 512, context 2048.
  architecture: 'llama', name: 'llama', contextLength: 2048, embeddingLength: 64, blockCount: 5,
  feedForwardLength: 172, headCount: 8, headCountKv: 4, headDim: 8, vocabSize: 512, tiedEmbeddings: false,
  ...LLAMA_FEATURES, biases: [], normEps: Math.fround(1e-5), rope: llamaRope(8), attentionScale: Math.fround(1 / Math.sqrt(8)),
};

test('stories260K: every quantization gives the README config (freq_base and vocab size by default)', async () => {
  for (const v of ['', '-F16', '-Q8_0', '-Q4_0', '-Q4_0-pure', '-Q4_K_M', '-Q6_K']) {
    const file = await readPath(fixturePath('models', 'stories260K', `stories260K${v}.gguf`));
    assert.equal(file.metadata.has('llama.rope.freq_base'), false);
    assert.equal(file.metadata.has('llama.vocab_size'), false);
    assert.deepEqual(readLlamaConfig(file), STORIES260K, v);
  }
});

test('llama-2-tiny-random: vocab size from the 32000 tokenizer tokens', async () => {
  const c = readLlamaConfig(await readPath(fixturePath('models', 'llama-2-tiny-random', 'llama-2-tiny-random.gguf')));
  assert.deepEqual(
    [c.embeddingLength, c.blockCount, c.headCount, c.headCountKv, c.headDim, c.rope?.dim, c.feedForwardLength, c.vocabSize, c.contextLength, c.tiedEmbeddings],
    [8, 1, 2, 2, 4, 4, 32, 32000, 4096, false],
  );
});

test('vocab-only files: config without tensors when asked, else the missing tensor is named', async () => {
  const file = await readPath(fixturePath('models', 'llama-cpp-vocab', 'ggml-vocab-llama-bpe.gguf'));
  const c = readLlamaConfig(file, { requireTensors: false });
  assert.deepEqual([c.vocabSize, c.headCount, c.headCountKv, c.rope?.freqBase], [128256, 32, 8, 500000]);
  assert.throws(() => readLlamaConfig(file), (e: unknown) => e instanceof FormatError && e.message.includes("'token_embd.weight' is missing"));
});

test('other architectures are UnsupportedError naming them', async () => {
  // Real file with only the architecture string changed.
  const bytes = new Uint8Array(await readFile(fixturePath('models', 'stories260K', 'stories260K.gguf')));
  const file = await readGGUF(new MemorySource(bytes));
  const data = new Map(await Promise.all(file.tensors.map(async (t) => [t.name, await readTensorBytes(file, t)] as const)));
  const spec = specFromFile(file, data);
  spec.metadata = (spec.metadata as [string, Typed][]).map(([k, v]): [string, Typed] => [k, k === 'general.architecture' ? new Typed(GGUFValueType.STRING, 'mamba') : v]);
  const mutated = await readGGUF(new MemorySource(writeGGUF(spec), 'mamba.gguf'));
  assert.throws(() => readLlamaConfig(mutated), (e: unknown) =>
    e instanceof UnsupportedError && e.message.includes("architecture 'mamba' is not supported yet; supported: llama, qwen2, qwen3, phi3, gemma2, gemma3, gpt2"));
});

test('synthetic llama: values read, llama.cpp defaults for omitted keys', async () => {
  const c = readLlamaConfig(await tiny({ metadata: { 'llama.attention.head_count_kv': undefined, 'llama.rope.dimension_count': undefined, 'llama.attention.layer_norm_rms_epsilon': undefined }, kvHeads: 4 }));
  assert.deepEqual(c, {
    architecture: 'llama', name: 'tiny-llama', contextLength: 64, embeddingLength: 16, blockCount: 2, feedForwardLength: 32,
    headCount: 4, headCountKv: 4, headDim: 4, vocabSize: 40, tiedEmbeddings: false,
    ...LLAMA_FEATURES, biases: [], normEps: 1e-5, rope: llamaRope(4), attentionScale: 0.5,
  });
  const custom = readLlamaConfig(await tiny({ metadata: { 'llama.rope.freq_base': f32(500000), 'llama.rope.dimension_count': u32(2) } }));
  assert.deepEqual([custom.rope?.freqBase, custom.rope?.dim, custom.headCountKv], [500000, 2, 2]);
});

test('tied embeddings and vocab size from token_embd when there is no tokenizer', async () => {
  const c = readLlamaConfig(await tiny({ tied: true, vocab: 24, metadata: { 'tokenizer.ggml.tokens': undefined, 'tokenizer.ggml.scores': undefined, 'tokenizer.ggml.token_type': undefined } }));
  assert.equal(c.tiedEmbeddings, true);
  assert.equal(c.vocabSize, 24);
  assert.equal(llamaTensorShapes(c).has('output.weight'), false);
});

test('per-layer head counts are accepted when uniform, rejected when not', async () => {
  const uniform = await tiny({ metadata: { 'llama.attention.head_count_kv': new Uint32Array([2, 2]) } });
  assert.equal(readLlamaConfig(uniform).headCountKv, 2);
  const varying = await tiny({ metadata: { 'llama.attention.head_count_kv': new Uint32Array([2, 4]) } });
  assert.throws(() => readLlamaConfig(varying), (e: unknown) => e instanceof UnsupportedError && e.message.includes('varies per layer'));
});

test('missing or misshapen tensors and bad metadata are FormatErrors naming the culprit', async () => {
  const cases: [TinyLlamaOptions, typeof FormatError | typeof UnsupportedError, string][] = [
    [{ omitTensors: ['blk.1.ffn_up.weight'] }, FormatError, "'blk.1.ffn_up.weight' is missing"],
    [{ omitTensors: ['output_norm.weight'] }, FormatError, "'output_norm.weight' is missing"],
    [{ metadata: { 'llama.feed_forward_length': u32(64) } }, FormatError, "'blk.0.ffn_gate.weight' has shape [16, 32], expected [16, 64]"],
    [{ metadata: { 'llama.embedding_length': undefined } }, FormatError, "'llama.embedding_length' is missing"],
    [{ metadata: { 'llama.block_count': 'two' } }, FormatError, "'llama.block_count' should be a number"],
    [{ metadata: { 'llama.attention.head_count_kv': u32(3) } }, FormatError, 'head_count 4 is not a multiple of head_count_kv 3'],
    [{ metadata: { 'llama.attention.head_count': u32(8), 'llama.rope.dimension_count': u32(2) } }, UnsupportedError, 'head size 2 is not a multiple of 4'],
    [{ metadata: { 'llama.rope.scaling.type': 'yarn', 'llama.rope.scaling.factor': f32(4) } }, UnsupportedError, 'RoPE scaling (yarn'],
  ];
  for (const [o, cls, text] of cases) {
    const file = await tiny(o);
    assert.throws(() => readLlamaConfig(file), (e: unknown) => e instanceof cls && e.message.includes(text), text);
  }
});
