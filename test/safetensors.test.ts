// Hugging Face safetensors repos, the parts below the GPU: the safetensors reader and shard index, config.json
// translation, the converter's q/k permutation checked against its own numpy expression, and tokenizers from
// tokenizer.json against llama.cpp's tokenizer suites.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { FormatError, UnsupportedError } from '../src/errors';
import { MemorySource } from '../src/io/byte-source';
import { readGGUF } from '../src/model/gguf';
import { readSafetensors, parseShardIndex, checkedDType } from '../src/model/safetensors';
import { translateConfig } from '../src/model/hf/config';
import { permutedSourceRow } from '../src/model/hf/tensors';
import { tokenizerFromHF, caseFoldGroups } from '../src/tokenizer/hf';
import { encodeChatPrompt } from '../src/tokenizer/chat-template';
import { hfTokenizerFiles, writeSafetensors } from './helpers/hf-writer';
import { fixturePath } from './helpers/fixtures';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('safetensors reader', () => {
  test('reads names, dtypes, shapes and absolute offsets; __metadata__; only the header is read', async () => {
    const file = writeSafetensors([
      { name: 'a', dtype: 'F32', shape: [2, 3], data: bytes(24) },
      { name: 'b', dtype: 'BF16', shape: [5], data: bytes(10, 2) },
      { name: 'mask', dtype: 'BOOL', shape: [1, 1, 4, 4], data: bytes(16, 0) },
    ], { format: 'pt' });
    const source = new MemorySource(file, 'm.safetensors');
    let read = 0;
    const st = await readSafetensors({ name: source.name, size: source.size, read: (o, n) => { read += n; return source.read(o, n); } });
    const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
    assert.equal(read, 8 + headerLength);
    assert.deepEqual(st.metadata, { format: 'pt' });
    const a = st.tensors.get('a')!, b = st.tensors.get('b')!;
    assert.deepEqual([a.dtype, a.shape, a.offset, a.byteLength], ['F32', [2, 3], 8 + headerLength, 24]);
    assert.deepEqual([b.dtype, b.shape, b.offset, b.byteLength], ['BF16', [5], 8 + headerLength + 24, 10]);
    assert.deepEqual(await source.read(b.offset, 2), new Uint8Array([2, 2]));
    assert.equal(checkedDType(a), 'F32');
    assert.throws(() => checkedDType(st.tensors.get('mask')!), (e: unknown) => e instanceof UnsupportedError && /'mask' is BOOL.*F32, F16, BF16/.test(e.message));
  });

  /** A file with this header JSON and `data` bytes after it. */
  const raw = (header: unknown, data = 0, length?: bigint) => {
    const json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const cases: [string, Uint8Array, typeof FormatError | typeof UnsupportedError, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array(5), FormatError, /only 5 bytes/],
    ['2^63-byte header', raw({}, 0, 2n ** 63n), FormatError, /claims .* bytes, more than/],
    ['header past the end', raw({}, 0, 1000n), FormatError, /truncated/],
    ['not JSON', raw('{"a": '), FormatError, /not valid UTF-8 JSON/],
    ['invalid UTF-8', raw(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d)), FormatError, /not valid UTF-8/],
    ['a JSON array', raw([1, 2]), FormatError, /not a JSON object/],
    ['unknown dtype', raw({ t: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, 16), UnsupportedError, /'t' has dtype 'F128'/],
    ['negative dim', raw({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), FormatError, /shape/],
    ['9 dims', raw({ t: { dtype: 'F32', shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], data_offsets: [0, 4] } }, 4), FormatError, /shape/],
    ['offsets reversed', raw({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4), FormatError, /data_offsets/],
    ['offsets not integers', raw({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4.5] } }, 8), FormatError, /data_offsets/],
    ['size ≠ dtype × shape', raw({ t: { dtype: 'F16', shape: [3], data_offsets: [0, 4] } }, 4), FormatError, /6 bytes, but its data_offsets span 4/],
    ['data past the end', raw({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8), FormatError, /truncated: tensor 't'/],
    ['2^60 elements', raw({ t: { dtype: 'F32', shape: [2 ** 30, 2 ** 30], data_offsets: [0, 4] } }, 4), FormatError, /too many elements|span/],
    ['overlap', raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), FormatError, /'a' and 'b' overlap/],
    ['metadata not strings', raw({ __metadata__: { format: 1 } }), FormatError, /__metadata__\.format must be a string/],
  ];
  for (const [label, file, Err, message] of cases) {
    test(`rejects: ${label}`, async () => {
      await assert.rejects(readSafetensors(new MemorySource(file, 'bad.safetensors')), (e: unknown) => {
        assert.ok(e instanceof Err, `${label}: ${(e as Error).name}: ${(e as Error).message}`);
        assert.match((e as Error).message, message);
        return true;
      });
    });
  }

  test('shard index: weight_map → shard files; malformed indexes are FormatErrors', () => {
    const index = parseShardIndex(JSON.stringify({ metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } }), 'i.json');
    assert.deepEqual(index.shards, ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    assert.equal(index.weightMap.get('b'), 'model-00002-of-00002.safetensors');
    for (const [text, message] of [
      ['{', /not valid JSON/], ['[]', /weight_map/], ['{"weight_map": {}}', /empty/],
      ['{"weight_map": {"a": "../../etc/passwd"}}', /shard file name/], ['{"weight_map": {"a": 3}}', /shard file name/],
    ] as const) {
      assert.throws(() => parseShardIndex(text, 'i.json'), (e: unknown) => e instanceof FormatError && message.test(e.message), text);
    }
  });
});

describe('config.json → GGUF metadata', () => {
  const base = { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 2, intermediate_size: 128, vocab_size: 100, max_position_embeddings: 512, rms_norm_eps: 1e-5 };

  test('unknown or missing architectures name what is supported', () => {
    assert.throws(() => translateConfig({ ...base, architectures: ['MambaForCausalLM'] }, 'c'), (e: unknown) =>
      e instanceof UnsupportedError && /'MambaForCausalLM' is not supported.*LlamaForCausalLM.*GPT2LMHeadModel/.test(e.message));
    assert.throws(() => translateConfig({ ...base }, 'c'), FormatError);
    assert.throws(() => translateConfig([], 'c'), FormatError);
    assert.throws(() => translateConfig({ ...base, architectures: ['LlamaForCausalLM'], hidden_size: '64' }, 'c'), /"hidden_size" should be a number/);
  });

  test('Llama: the keys TextModel writes, rope dims, linear scaling; Llama 3 factors as the converter computes them', () => {
    const c = translateConfig({ ...base, architectures: ['MistralForCausalLM'], rope_theta: 1e6, rope_scaling: { type: 'linear', factor: 2 } }, 'c');
    assert.equal(c.architecture, 'llama');
    const m = Object.fromEntries(c.metadata);
    assert.deepEqual(m, {
      'general.architecture': 'llama', 'llama.block_count': 2, 'llama.context_length': 512, 'llama.embedding_length': 64,
      'llama.feed_forward_length': 128, 'llama.attention.head_count': 4, 'llama.attention.head_count_kv': 2,
      'llama.rope.scaling.type': 'linear', 'llama.rope.scaling.factor': 2, 'llama.rope.freq_base': 1e6,
      'llama.attention.layer_norm_rms_epsilon': Math.fround(1e-5), 'llama.vocab_size': 100, 'llama.rope.dimension_count': 16,
    });
    // Llama 3.1's published rope scaling on a 128-wide head: the converter's formula, written out in f64.
    const rope = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const l3 = translateConfig({ ...base, hidden_size: 512, architectures: ['LlamaForCausalLM'], rope_theta: 500000, rope_scaling: rope }, 'c');
    const factors = l3.generated.find((g) => g.name === 'rope_freqs.weight')!.data;
    assert.equal(factors.length, 64);
    factors.forEach((f, i) => {
      const wavelen = 2 * Math.PI * 500000 ** ((2 * i) / 128);
      const smooth = (8192 / wavelen - 1) / 3;
      const expected = wavelen < 8192 / 4 ? 1 : wavelen > 8192 ? 8 : 1 / ((1 - smooth) / 8 + smooth);
      assert.ok(Math.abs(f - expected) <= 1e-5 * expected, `factor ${i}: ${f} vs ${expected}`);
    });
    assert.ok(factors[0] === 1 && factors[63] === 8 && factors.some((f) => f > 1 && f < 8), 'all three regimes occur');
  });

  test('Gemma 3: defaults, local rope base, per-layer window pattern from layer_types, query_pre_attn_scalar', () => {
    const c = translateConfig({
      architectures: ['Gemma3ForConditionalGeneration'],
      text_config: { hidden_size: 64, num_hidden_layers: 3, intermediate_size: 128, head_dim: 32, sliding_window: 512, rope_local_base_freq: 10000, rope_scaling: { rope_type: 'linear', factor: 8 }, query_pre_attn_scalar: 144, layer_types: ['sliding_attention', 'sliding_attention', 'full_attention'] },
    }, 'c');
    const m = c.metadata;
    assert.equal(m.get('general.architecture'), 'gemma3');
    assert.equal(m.get('gemma3.attention.head_count'), 8);
    assert.equal(m.get('gemma3.attention.head_count_kv'), 4);
    assert.equal(m.get('gemma3.rope.freq_base'), 1e6);
    assert.equal(m.get('gemma3.rope.freq_base_swa'), 10000);
    assert.equal(m.get('gemma3.rope.scaling.factor'), 8);
    assert.deepEqual(m.get('gemma3.attention.sliding_window_pattern'), [true, true, false]);
    assert.equal(c.attentionScale, Math.fround(1 / 12));
  });

  test('Phi-3 LongRoPE: factor tensors and the converter\'s attention factor; GPT-2: n_inner', () => {
    const long = Array.from({ length: 8 }, (_, i) => 1 + i), short = long.map((x) => x / 10);
    const c = translateConfig({ ...base, architectures: ['Phi3ForCausalLM'], max_position_embeddings: 131072, original_max_position_embeddings: 4096, rope_theta: 10000, rope_scaling: { type: 'longrope', long_factor: long, short_factor: short } }, 'c');
    assert.equal(c.metadata.get('phi3.rope.scaling.type'), 'longrope');
    assert.equal(c.metadata.get('phi3.rope.scaling.attn_factor'), Math.fround(Math.sqrt(1 + Math.log(32) / Math.log(4096))), 'stored as GGUF FLOAT32');
    assert.deepEqual(Array.from(c.generated.find((g) => g.name === 'rope_factors_short.weight')!.data), short.map(Math.fround));
    assert.throws(() => translateConfig({ ...base, architectures: ['Phi3ForCausalLM'], rope_scaling: { type: 'longrope', long_factor: [1], short_factor: [1] } }, 'c'), FormatError);
    const g = translateConfig({ architectures: ['GPT2LMHeadModel'], n_layer: 2, n_ctx: 64, n_embd: 32, n_head: 2, layer_norm_epsilon: 1e-5, n_inner: null }, 'c');
    assert.equal(g.metadata.get('gpt2.feed_forward_length'), 128);
  });
});

test("q/k permutation: the row order of convert_hf_to_gguf's LlamaModel.permute, run in numpy", (t) => {
  // The converter's own expression on a matrix whose entries are their row numbers.
  const script = `
import numpy as np, json, sys
out = {}
for rows, heads in [(64, 8), (32, 4), (48, 2), (16, 1)]:
    w = np.arange(rows, dtype=np.float32).reshape(rows, 1).repeat(3, axis=1)
    p = w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
    out[f"{rows},{heads}"] = p[:, 0].astype(int).tolist()
print(json.dumps(out))`;
  let result: Record<string, number[]>;
  try {
    result = JSON.parse(execFileSync('python3', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    if (process.env.CI) throw e;
    t.skip(`python3 with numpy is needed (${(e as Error).message.split('\n')[0]})`);
    return;
  }
  for (const [key, expected] of Object.entries(result)) {
    const [rows, heads] = key.split(',').map(Number) as [number, number];
    assert.deepEqual(Array.from({ length: rows }, (_, r) => permutedSourceRow(r, rows, heads)), expected, key);
  }
});

describe('tokenizer from tokenizer.json', () => {
  const vocab = (name: string) => fixturePath('models', 'llama-cpp-vocab', `ggml-vocab-${name}.gguf`);
  async function suite(name: string): Promise<{ text: string; ids: number[] }[]> {
    const inputs = (await readFile(vocab(name) + '.inp', 'utf8')).split('\n__ggml_vocab_test__\n').slice(0, -1);
    const outputs = (await readFile(vocab(name) + '.out', 'utf8')).split('\n').slice(0, -1);
    return inputs.map((text, i) => ({ text, ids: outputs[i]!.trim() === '' ? [] : outputs[i]!.trim().split(/\s+/).map(Number) }));
  }
  /** tokenizer.json/tokenizer_config.json made from the vocab-only GGUF, as JSON text (what a repo ships). */
  async function fromRepoFiles(name: string, extra: Record<string, unknown> = {}) {
    const { metadata } = await readGGUF(new MemorySource(await readFile(vocab(name))));
    const files = hfTokenizerFiles(metadata);
    return tokenizerFromHF({ name, tokenizerJSON: JSON.parse(JSON.stringify(files.tokenizerJSON)), tokenizerConfig: JSON.parse(JSON.stringify({ ...files.tokenizerConfig, ...extra })) });
  }

  for (const name of ['llama-spm', 'gpt-2', 'llama-bpe', 'qwen2']) {
    test(`ggml-vocab-${name}: every llama.cpp test-tokenizer-0 case`, async () => {
      const tok = await fromRepoFiles(name);
      const cases = await suite(name);
      assert.equal(cases.length, 46);
      for (const { text, ids } of cases) assert.deepEqual(tok.encode(text, { addBos: false }), ids, JSON.stringify(text));
    });
  }

  test('special tokens typed in user text stay text; chat prompts still find them; BOS/EOS and add_bos from the files', async () => {
    const spm = await fromRepoFiles('llama-spm');
    assert.deepEqual([spm.bosId, spm.eosIds], [1, [2]]);
    const ids = spm.encode('a <s> b </s>');
    assert.equal(ids[0], 1, 'add_bos from the TemplateProcessing post-processor');
    assert.ok(!ids.slice(1).includes(1) && !ids.includes(2), `typed <s> and </s> stay text: ${ids}`);
    assert.equal(spm.decode(ids, { skipSpecial: true }), 'a <s> b </s>');
    assert.deepEqual(encodeChatPrompt(spm, '<s>[INST] hi [/INST]').slice(0, 2), [1, spm.encode('[INST]', { addBos: false })[0]]);
    const qwen = await fromRepoFiles('qwen2');
    const typed = qwen.encode('<|im_start|>user');
    assert.ok(typed.length > 2 && typed.every((id) => !qwen.isSpecial(id)), `typed control text: ${typed}`);
    assert.deepEqual(encodeChatPrompt(qwen, '<|im_start|>user').slice(0, 1), [151644]);
    // tokenizer_config overrides: add_bos_token, and eos ids from generation_config / config.json.
    const noBos = await fromRepoFiles('llama-spm', { add_bos_token: false });
    assert.notEqual(noBos.encode('a')[0], 1);
    const { metadata } = await readGGUF(new MemorySource(await readFile(vocab('llama-bpe'))));
    const files = hfTokenizerFiles(metadata);
    const l3 = tokenizerFromHF({ name: 'l3', tokenizerJSON: files.tokenizerJSON, tokenizerConfig: files.tokenizerConfig, generationConfig: { eos_token_id: [128001, 128008, 128009] }, vocabSize: 128300 });
    assert.deepEqual(l3.eosIds, [128001, 128008, 128009]);
    assert.equal(l3.encode('x')[0], 128000);
    assert.equal(l3.vocabSize, 128300);
    assert.ok(l3.isSpecial(128299) && l3.tokenText(128299) === '[PAD128299]', 'embedding rows past the vocabulary are padding tokens');
  });

  test("Python's inline (?i:…) groups become case classes Node 20's RegExp accepts", () => {
    const folded = caseFoldGroups("(?i:'s|'t|'re)|[^\\r\\n\\p{L}]?\\p{L}+|(?i:[a-c]x)");
    assert.equal(folded, "(?:'[sS]|'[tT]|'[rR][eE])|[^\\r\\n\\p{L}]?\\p{L}+|(?:[a-cA-C][xX])");
    const re = new RegExp(folded, 'gu');
    assert.deepEqual("It'S Bx".match(re), ['It', "'S", ' Bx']);
  });
});
