// Tokenizers built from GGUF metadata against independent references: llama.cpp's own tokenizer test
// suites (test-tokenizer-0 inputs/outputs), llama2.c's run.c prompts and printed text for stories260K, and
// llama.cpp's prompt tokens for the 32000-token Llama 2 vocabulary.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fixturePath } from './helpers/fixtures';
import { openFileSource } from '../src/io/file-source';
import { readGGUF, type GGUFValue } from '../src/model/gguf';
import { tokenizerFromGGUF, TokenType, type Tokenizer } from '../src/tokenizer';
import { readVocab } from '../src/tokenizer/vocab';
import { deriveSpmMerges, mergeList } from '../src/tokenizer/spm';
import { FormatError, InvalidRequestError, UnsupportedError } from '../src/errors';

const STORIES = fixturePath('models', 'stories260K', 'stories260K.gguf');
const TINY_LLAMA2 = fixturePath('models', 'llama-2-tiny-random', 'llama-2-tiny-random.gguf');
const vocabFile = (name: string) => fixturePath('models', 'llama-cpp-vocab', `ggml-vocab-${name}.gguf`);

async function metadataOf(path: string): Promise<Map<string, GGUFValue>> {
  const source = await openFileSource(path);
  try {
    return (await readGGUF(source)).metadata;
  } finally {
    await source.close();
  }
}

interface StoriesRef { prompt: string | null; output: string; prompt_token_ids: number[]; token_ids: number[] }
async function storiesRefs(): Promise<StoriesRef[]> {
  return JSON.parse(await readFile(fixturePath('models', 'stories260K', 'refs.json'), 'utf8')).refs;
}

/**
 * test-tokenizer-0's format: inputs are separated by "\n__ggml_vocab_test__\n" and the file ends with one,
 * so an input keeps its own inner and trailing newlines except the one before the separator
 * (the input "\n\n" is written as two empty lines). One output line of ids per input, no BOS.
 */
async function llamaCppSuite(name: string): Promise<{ text: string; ids: number[] }[]> {
  const inputs = (await readFile(vocabFile(name) + '.inp', 'utf8')).split('\n__ggml_vocab_test__\n');
  assert.equal(inputs.pop(), '', 'the .inp file ends with a separator');
  const outputs = (await readFile(vocabFile(name) + '.out', 'utf8')).split('\n');
  assert.equal(outputs.pop(), '', 'the .out file ends with a newline');
  assert.equal(inputs.length, outputs.length);
  return inputs.map((text, i) => ({ text, ids: outputs[i].trim() === '' ? [] : outputs[i].trim().split(/\s+/).map(Number) }));
}

describe('llama.cpp tokenizer suites (test-tokenizer-0), ids without BOS', () => {
  for (const name of ['llama-spm', 'gpt-2', 'llama-bpe', 'qwen2']) {
    test(`ggml-vocab-${name}: every case reproduced exactly`, async (t) => {
      const metadata = await metadataOf(vocabFile(name));
      const t0 = performance.now();
      const tok = tokenizerFromGGUF(metadata);
      t.diagnostic(`built ${tok.vocabSize}-token tokenizer in ${(performance.now() - t0).toFixed(0)} ms`);
      const cases = await llamaCppSuite(name);
      assert.equal(cases.length, 46);
      for (const { text, ids } of cases) {
        assert.deepEqual(tok.encode(text, { addBos: false, addEos: false }), ids, `input ${JSON.stringify(text)}`);
      }
    });
  }

  for (const name of ['llama-spm', 'gpt-2']) {
    test(`ggml-vocab-${name}: decode of the reference ids gives every input back`, async () => {
      const tok = tokenizerFromGGUF(await metadataOf(vocabFile(name)));
      for (const { text, ids } of await llamaCppSuite(name)) {
        assert.equal(tok.decode(ids), text, `input ${JSON.stringify(text)}`);
      }
    });
  }

  test('gpt-2: control tokens are never made from text and decode verbatim', async () => {
    const tok = tokenizerFromGGUF(await metadataOf(vocabFile('gpt-2')));
    assert.equal(tok.tokenText(50256), '<|endoftext|>');
    assert.ok(tok.isSpecial(50256));
    const ids = tok.encode('a<|endoftext|>b');
    assert.ok(!ids.includes(50256), `got ${ids}`);
    assert.deepEqual(tok.encode('Hi'), tok.encode('Hi', { addBos: false }), 'GPT-2 adds no BOS by default');
    const hi = tok.encode(' Hi');
    assert.equal(tok.decode([...hi, 50256, ...hi]), ' Hi<|endoftext|> Hi');
    assert.equal(tok.decode([...hi, 50256, ...hi], { skipSpecial: true }), ' Hi Hi');
  });
});

describe('stories260K (512-token SentencePiece vocab, no add_bos_token key)', () => {
  let tok: Tokenizer;
  before(async () => { tok = tokenizerFromGGUF(await metadataOf(STORIES)); });

  test('shape: BOS 1, EOS 2, 512 tokens, byte tokens are <0xXX>', () => {
    assert.equal(tok.vocabSize, 512);
    assert.equal(tok.bosId, 1);
    assert.deepEqual(tok.eosIds, [2]);
    assert.equal(tok.tokenText(13), '<0x0A>');
    assert.ok(tok.isSpecial(1) && tok.isSpecial(2) && tok.isSpecial(0));
    assert.ok(!tok.isSpecial(13) && !tok.isSpecial(403));
  });

  test("encode(prompt) equals llama2.c's prompt tokens (BOS first, added by default)", async () => {
    for (const ref of await storiesRefs()) {
      assert.deepEqual(tok.encode(ref.prompt ?? ''), ref.prompt_token_ids, `prompt ${JSON.stringify(ref.prompt)}`);
    }
  });

  test('decode of every fed/generated token equals the text run.c printed (prompt included)', async () => {
    for (const ref of await storiesRefs()) {
      // run.c prints each token after the first (BOS), stripping the leading space after BOS, and a final
      // newline when the loop ends; it stops before printing a sampled BOS.
      let ids = ref.token_ids.slice(1);
      const bos = ids.indexOf(1);
      if (bos >= 0) ids = ids.slice(0, bos);
      assert.equal(tok.decode(ids) + '\n', ref.output, `prompt ${JSON.stringify(ref.prompt)}`);
    }
  });

  test('typed control-token text stays text; skipSpecial drops BOS/EOS from decode', () => {
    const ids = tok.encode('<s>Lily</s>', { addBos: false });
    assert.ok(!ids.includes(1) && !ids.includes(2), `got ${ids}`);
    assert.equal(tok.decode(ids), '<s>Lily</s>');
    const once = tok.encode('Once', { addBos: true, addEos: true });
    assert.deepEqual(once, [1, 403, 2]);
    assert.equal(tok.decode(once, { skipSpecial: true }), 'Once');
    assert.equal(tok.decode(once), '<s> Once</s>');
  });

  test('characters outside the vocab go through byte fallback and decode back', () => {
    const text = 'Lily saw a 🐶 and said 你好 — it’s fun!';
    const ids = tok.encode(text, { addBos: false });
    assert.ok(ids.some((id) => tok.tokenText(id) === '<0xF0>'), 'the emoji is spelled with byte tokens');
    assert.equal(tok.decode(ids), text);
  });

  test('empty text is no tokens (plus BOS when asked); bad ids are rejected', () => {
    assert.deepEqual(tok.encode('', { addBos: false }), []);
    assert.deepEqual(tok.encode(''), [1]);
    assert.equal(tok.decode([]), '');
    assert.throws(() => tok.decode([512]), InvalidRequestError);
    assert.throws(() => tok.tokenText(-1), InvalidRequestError);
  });
});

describe('llama-2-tiny-random (the full 32000-token Llama 2 vocab)', () => {
  test("stories prompts: the same ids as llama.cpp's and as the llama-spm test vocab", async (t) => {
    const metadata = await metadataOf(TINY_LLAMA2);
    const t0 = performance.now();
    const tok = tokenizerFromGGUF(metadata);
    t.diagnostic(`built the 32000-token SentencePiece tokenizer in ${(performance.now() - t0).toFixed(0)} ms`);
    const spm = tokenizerFromGGUF(await metadataOf(vocabFile('llama-spm')));
    const refs: { prompt: string | null; prompt_token_ids: number[] }[] =
      JSON.parse(await readFile(fixturePath('models', 'llama-2-tiny-random', 'llamacpp_refs.json'), 'utf8')).runs;
    for (const ref of refs) {
      const ids = tok.encode(ref.prompt ?? '');
      assert.deepEqual(ids, ref.prompt_token_ids, `prompt ${JSON.stringify(ref.prompt)}`);
      assert.deepEqual(spm.encode(ref.prompt ?? ''), ids);
    }
    for (const ref of await storiesRefs()) {
      assert.deepEqual(tok.encode(ref.output), spm.encode(ref.output));
    }
  });
});

describe('merges derived from SentencePiece scores', () => {
  test('a merge exists exactly for splits into reachable halves, ranked by the merged score', async () => {
    const vocab = readVocab(await metadataOf(STORIES));
    const ranks = deriveSpmMerges(vocab);
    const merges = mergeList(ranks);
    const id = new Map(vocab.tokens.map((t, i) => [t, i]));
    let previous: { score: number; rank: number } | undefined;
    for (const merge of merges) {
      const [left, right] = merge.split(' ');
      const merged = id.get(left + right);
      assert.ok(merged !== undefined && vocab.types[merged] === TokenType.NORMAL, merge);
      const score = vocab.scores![merged];
      const rank = ranks.get(merge)!;
      if (previous) {
        // Best score first; equal scores share a rank (ties go to the leftmost pair, as in llama.cpp).
        assert.ok(score <= previous.score, 'best score first');
        assert.equal(rank, score === previous.score ? previous.rank : previous.rank + 1);
      }
      previous = { score, rank };
    }
    // '▁t' + 'he' and friends: every normal multi-character token of the tiny vocab is reachable.
    const normalMulti = vocab.tokens.filter((t, i) => vocab.types[i] === TokenType.NORMAL && [...t].length > 1);
    const reachable = new Set(merges.map((m) => m.replace(' ', '')));
    assert.deepEqual(normalMulti.filter((t) => !reachable.has(t)), []);
  });
});

describe('errors', () => {
  const minimal = (model: string) => new Map<string, GGUFValue>([
    ['tokenizer.ggml.model', model],
    ['tokenizer.ggml.tokens', ['<unk>', 'a']],
    ['tokenizer.ggml.scores', new Float32Array([0, -1])],
  ]);

  test('an unknown tokenizer model is UnsupportedError', () => {
    assert.throws(() => tokenizerFromGGUF(minimal('ugm')), UnsupportedError);
    assert.throws(() => tokenizerFromGGUF(minimal('rwkv')), /not supported/);
  });

  test('missing or inconsistent tokenizer metadata is FormatError', () => {
    assert.throws(() => tokenizerFromGGUF(new Map()), FormatError);
    const bad = minimal('llama');
    bad.set('tokenizer.ggml.scores', new Float32Array([0]));
    assert.throws(() => tokenizerFromGGUF(bad), /scores/);
    const noMerges = minimal('gpt2');
    assert.throws(() => tokenizerFromGGUF(noMerges), /merges/);
  });

  test('an unknown BPE pre-tokenizer is UnsupportedError', () => {
    const m = minimal('gpt2');
    m.set('tokenizer.ggml.merges', []);
    m.set('tokenizer.ggml.pre', 'no-such-pre');
    assert.throws(() => tokenizerFromGGUF(m), UnsupportedError);
  });
});

describe('special token ids a file leaves out', () => {
  test("take llama.cpp's defaults: SentencePiece <unk>=0, <s>=1, </s>=2", () => {
    const tokens = ['<unk>', '<s>', '</s>', '▁a', 'a'];
    const metadata = new Map<string, GGUFValue>([
      ['tokenizer.ggml.model', 'llama'],
      ['tokenizer.ggml.tokens', tokens],
      ['tokenizer.ggml.scores', new Float32Array(tokens.length)],
      ['tokenizer.ggml.token_type', Int32Array.from([TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.NORMAL, TokenType.NORMAL])],
    ]);
    const tok = tokenizerFromGGUF(metadata);
    assert.equal(tok.bosId, 1);
    assert.deepEqual(tok.eosIds, [2]);
    assert.deepEqual(tok.encode('a'), [1, 3]);
    metadata.set('tokenizer.ggml.bos_token_id', 4);
    assert.equal(tokenizerFromGGUF(metadata).bosId, 4, 'an explicit id wins');
  });
});
