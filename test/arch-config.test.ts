// Architecture selection at load: each `general.architecture` becomes one ModelConfig whose features say
// how the forward pass is built, with llama.cpp's defaults for keys a file omits; unknown architectures and
// rope scalings Hearth does not implement are UnsupportedError naming what is supported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySource } from '../src/io/byte-source';
import { readGGUF, type GGUFFile } from '../src/model/gguf';
import { readModelConfig } from '../src/model/read-config';
import { modelTensorShapes } from '../src/model/tensors';
import { FormatError, UnsupportedError } from '../src/errors';
import { f32, u32, writeGGUF } from './helpers/gguf-writer';
import { ARCH_CASES, tinyModelSpec, type TinyArch, type TinyModelOptions } from './helpers/tiny-models';

const tiny = (arch: TinyArch, o: TinyModelOptions = {}): Promise<GGUFFile> =>
  readGGUF(new MemorySource(writeGGUF(tinyModelSpec(arch, { dim: 64, ff: 128, vocab: 300, ...o })), `${arch}.gguf`));

test('each architecture reads into its feature set', async () => {
  const features = async (arch: TinyArch, o?: TinyModelOptions) => {
    const c = readModelConfig(await tiny(arch, o));
    return {
      norm: c.norm, feedForward: c.feedForward, fusedQkv: c.fusedQkv, fusedGateUp: c.fusedGateUp, biases: [...c.biases].sort(),
      qkNorm: c.qkNorm, postNorms: c.postNorms, embeddingScale: c.embeddingScale, positionEmbedding: c.positionEmbedding,
      rope: c.rope?.style ?? null, window: c.slidingWindow && { size: c.slidingWindow.size, layers: c.slidingWindow.layers },
      softcaps: [c.attentionSoftcap, c.finalSoftcap], tied: c.tiedEmbeddings,
    };
  };
  const plain = { norm: 'rms', feedForward: 'swiglu', fusedQkv: false, fusedGateUp: false, biases: [], qkNorm: false, postNorms: false, embeddingScale: 1, positionEmbedding: false, rope: 'neox', window: null, softcaps: [0, 0], tied: true };
  assert.deepEqual(await features('llama'), { ...plain, rope: 'norm' });
  assert.deepEqual(await features('qwen2', { untied: true }), { ...plain, biases: ['attn_k', 'attn_q', 'attn_v'], tied: false });
  assert.deepEqual(await features('qwen3'), { ...plain, qkNorm: true });
  assert.deepEqual(await features('phi3'), { ...plain, fusedQkv: true, fusedGateUp: true });
  // Gemma 2's defaults: caps 50 and 30, a 4096 window on every other layer (the pattern period 2).
  assert.deepEqual(await features('gemma2', { layers: 4 }), {
    ...plain, feedForward: 'geglu', postNorms: true, embeddingScale: 8, window: { size: 4096, layers: [true, false, true, false] }, softcaps: [50, 30],
  });
  // Gemma 3 has no window unless the file names one; its pattern period defaults to 6.
  assert.deepEqual(await features('gemma3'), { ...plain, feedForward: 'geglu', qkNorm: true, postNorms: true, embeddingScale: 8 });
  assert.deepEqual((await features('gemma3', { layers: 7, metadata: { 'gemma3.attention.sliding_window': u32(512) } })).window,
    { size: 512, layers: [true, true, true, true, true, false, true] });
  assert.deepEqual(await features('gpt2'), {
    ...plain, norm: 'layer', feedForward: 'gelu', fusedQkv: true, rope: null, positionEmbedding: true,
    biases: ['attn_norm', 'attn_output', 'attn_qkv', 'ffn_down', 'ffn_norm', 'ffn_up', 'output_norm'],
  });
});

test('rope per layer group: Gemma 3 windowed layers keep base 10000 and no scaling; full layers take the file\'s', async () => {
  const c = readModelConfig(await tiny('gemma3', {
    layers: 3,
    metadata: { 'gemma3.attention.sliding_window': u32(8), 'gemma3.attention.sliding_window_pattern': u32(3), 'gemma3.rope.freq_base': f32(1e6), 'gemma3.rope.scaling.type': 'linear', 'gemma3.rope.scaling.factor': f32(8) },
  }));
  assert.deepEqual([c.rope?.freqBase, c.rope?.freqScale], [1e6, 1 / 8]);
  assert.deepEqual([c.slidingWindow?.rope.freqBase, c.slidingWindow?.rope.freqScale], [10000, 1]);
  assert.deepEqual(c.slidingWindow?.layers, [true, true, false]);
});

test('attention scale: 1/√headDim, except llama.cpp\'s Gemma 27B rule (dim / heads, recognised by layer count)', async () => {
  const g = readModelConfig(await tiny('gemma2', { dim: 64, heads: 2, layers: 2, metadata: { 'gemma2.attention.key_length': u32(16), 'gemma2.attention.value_length': u32(16), 'gemma2.rope.dimension_count': u32(16) } }), { requireTensors: false });
  assert.equal(g.attentionScale, Math.fround(1 / 4));
  const big = readModelConfig(await tiny('gemma2', { dim: 64, heads: 2, layers: 46, metadata: { 'gemma2.attention.key_length': u32(16), 'gemma2.attention.value_length': u32(16), 'gemma2.rope.dimension_count': u32(16) } }), { requireTensors: false });
  assert.equal(big.attentionScale, Math.fround(1 / Math.sqrt(32)));
});

test('Llama 3 rope factors and Phi-3 LongRoPE: factor tensors named in the config, LongRoPE caps the context at the original length', async () => {
  for (const c of ARCH_CASES.filter((a) => a.name.includes('rope_freqs') || a.name.includes('LongRoPE'))) {
    const config = readModelConfig(await readGGUF(new MemorySource(writeGGUF(tinyModelSpec(c.arch, c.options)))));
    assert.ok(config.rope?.freqFactors, c.name);
    assert.ok(modelTensorShapes(config).has(config.rope.freqFactors!), c.name);
    if (c.arch === 'phi3') assert.deepEqual([config.contextLength, config.rope.attnFactor, config.rope.freqFactors], [256, Math.fround(1.19), 'rope_factors_short.weight']);
  }
});

test('unknown architectures, YaRN, LongRoPE outside Phi-3 and missing arch tensors are typed errors naming the problem', async () => {
  const other = await tiny('llama', { metadata: { 'general.architecture': 'mamba' } });
  assert.throws(() => readModelConfig(other), (e: unknown) => e instanceof UnsupportedError &&
    e.message.includes("architecture 'mamba' is not supported yet; supported: llama, qwen2, qwen3, phi3, gemma2, gemma3, gpt2"));
  const yarn = await tiny('qwen2', { metadata: { 'qwen2.rope.scaling.type': 'yarn', 'qwen2.rope.scaling.factor': f32(4) } });
  assert.throws(() => readModelConfig(yarn), (e: unknown) => e instanceof UnsupportedError && e.message.includes('RoPE scaling (yarn, factor 4)'));
  const longrope = await tiny('llama', { metadata: { 'llama.rope.scaling.type': 'longrope' } });
  assert.throws(() => readModelConfig(longrope), UnsupportedError);
  const noQNorm = tinyModelSpec('qwen3', { dim: 64, ff: 128 });
  noQNorm.tensors = noQNorm.tensors!.filter((t) => t.name !== 'blk.1.attn_q_norm.weight');
  const file = await readGGUF(new MemorySource(writeGGUF(noQNorm), 'qwen3.gguf'));
  assert.throws(() => readModelConfig(file), (e: unknown) => e instanceof FormatError && e.message.includes("'blk.1.attn_q_norm.weight' is missing"));
});
