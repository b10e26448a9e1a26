// Streaming detokenization: the pieces a TextStreamer emits, concatenated, must be exactly the full
// decode (and llama2.c's / llama.cpp's printed text), and no piece may contain half a character.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fixturePath } from './helpers/fixtures';
import { openFileSource } from '../src/io/file-source';
import { readGGUF } from '../src/model/gguf';
import { tokenizerFromGGUF, type Tokenizer } from '../src/tokenizer';
import { TextStreamer, type TextStreamerOptions } from '../src/tokenizer/text-stream';
import { MemorySource } from '../src/io/byte-source';
import { writeGGUF } from './helpers/gguf-writer';
import { seededRng } from './helpers/seeded';
import { tinyModelSpec } from './helpers/tiny-models';

async function loadTokenizer(...parts: string[]): Promise<Tokenizer> {
  const source = await openFileSource(fixturePath('models', ...parts));
  try {
    return tokenizerFromGGUF((await readGGUF(source)).metadata);
  } finally {
    await source.close();
  }
}

function stream(tok: Tokenizer, ids: readonly number[], opts?: TextStreamerOptions): string[] {
  const streamer = new TextStreamer(tok, opts);
  const pieces = ids.map((id) => streamer.push(id));
  pieces.push(streamer.flush());
  return pieces;
}

/** No U+FFFD and no lone surrogate: every piece is whole characters. */
function assertWholeCharacters(pieces: string[]): void {
  for (const piece of pieces) {
    assert.ok(!piece.includes('\uFFFD'), `piece ${JSON.stringify(piece)} has a replacement character`);
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(piece), `piece ${JSON.stringify(piece)} splits a surrogate pair`);
  }
}

describe('stories260K', () => {
  let tok: Tokenizer;
  before(async () => { tok = await loadTokenizer('stories260K', 'stories260K.gguf'); });

  test('every llama2.c reference: the streamed pieces concatenate to decode(all ids) and to what run.c printed', async () => {
    const refs: { prompt: string | null; output: string; token_ids: number[] }[] =
      JSON.parse(await readFile(fixturePath('models', 'stories260K', 'refs.json'), 'utf8')).refs;
    for (const ref of refs) {
      const ids = ref.token_ids.slice(1); // after BOS, as run.c prints them
      const pieces = stream(tok, ids);
      assertWholeCharacters(pieces);
      assert.equal(pieces.join(''), tok.decode(ids));
      assert.equal(pieces.join('') + '\n', ref.output);
    }
  });

  test('a character spelled by byte tokens comes out whole, when its last byte arrives', () => {
    const text = 'Lily saw a 🐶 and said 你好 — it’s fun!';
    const ids = tok.encode(text, { addBos: false });
    const pieces = stream(tok, ids);
    assertWholeCharacters(pieces);
    assert.equal(pieces.join(''), text);
    // The dog is four byte tokens <0xF0><0x9F><0x90><0xB6>: nothing for the first three, all of it on the fourth.
    const first = ids.findIndex((id) => tok.tokenText(id) === '<0xF0>');
    assert.deepEqual(ids.slice(first, first + 4).map((id) => tok.tokenText(id)), ['<0xF0>', '<0x9F>', '<0x90>', '<0xB6>']);
    assert.deepEqual(pieces.slice(first, first + 4), ['', '', '', '🐶']);
  });

  test('BOS/EOS are skipped; the prompt as context keeps the first generated space', () => {
    const prompt = tok.encode('The little dog'); // [BOS, ...]
    const generated = tok.encode(' was happy', { addBos: false }).slice(1); // drop the dummy-prefix '▁'
    assert.equal(tok.decode(generated), 'was happy', 'decoded alone the first space is stripped');
    assert.equal(stream(tok, generated, { context: prompt }).join(''), ' was happy');
    assert.equal(stream(tok, [1, ...generated, 2]).join(''), 'was happy');
    assert.equal(stream(tok, [1, ...generated, 2], { skipSpecial: false }).join(''), tok.decode([1, ...generated, 2]));
  });

  test('an invalid byte sequence is not held forever, and flush returns what is left', () => {
    const byte = (b: number) => 3 + b; // <0x00> is id 3 in this vocab
    assert.equal(tok.tokenText(byte(0xe2)), '<0xE2>');
    const streamer = new TextStreamer(tok);
    assert.equal(streamer.push(byte(0xe2)), '');
    assert.equal(streamer.push(byte(0x80)), '');
    assert.equal(streamer.flush(), '\uFFFD', 'an unfinished character at the end is reported, not dropped');
    const pieces = stream(tok, [byte(0xff), 403]); // 0xFF never starts a character
    assert.equal(pieces.join(''), tok.decode([byte(0xff), 403]));
  });
});

/**
 * Random token sequences heavy in UTF-8 lead and continuation bytes (what a random model emits): valid
 * characters, runs of invalid bytes and characters completed many tokens after an invalid run. The pieces must
 * concatenate to the whole decode after the context — the text llama.cpp prints (ggml bytes, WHATWG UTF-8).
 */
function checkRandomByteStreams(tok: Tokenizer, byteId: (b: number) => number, other: number[]): void {
  const rng = seededRng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)]!;
  const bytes = [0xe1, 0xe2, 0xf0, 0xc3, 0x80, 0x86, 0x9f, 0xbf, 0xff, 0x41];
  for (let n = 0; n < 300; n++) {
    const ids = Array.from({ length: 1 + Math.floor(rng() * 30) }, () => (rng() < 0.8 ? byteId(pick(bytes)) : pick(other)));
    const context = Array.from({ length: Math.floor(rng() * 3) }, () => pick(other));
    const pieces = stream(tok, ids, { context });
    const all = tok.decode([...context, ...ids], { skipSpecial: true }), before = tok.decode(context, { skipSpecial: true });
    assert.ok(all.startsWith(before));
    assert.equal(pieces.join(''), all.slice(before.length), `ids ${ids.join(' ')} after ${context.join(' ')}`);
  }
}

describe('invalid and interrupted UTF-8', () => {
  test('stories260K (byte-fallback SentencePiece): streamed text equals the whole decode for random byte runs', async () => {
    const tok = await loadTokenizer('stories260K', 'stories260K.gguf');
    // <0xE1> ×7 <0x86> <0x86>: six invalid bytes, then ᆆ (E1 86 86) completed by the last token.
    const ids = [...Array(7).fill(3 + 0xe1), 3 + 0x86, 3 + 0x86];
    assert.equal(stream(tok, ids).join(''), '\uFFFD'.repeat(6) + 'ᆆ');
    checkRandomByteStreams(tok, (b) => 3 + b, [403, 300, 1, 2, 261]);
  });

  test('byte-level BPE (GPT-2 style): the same', async () => {
    const source = new MemorySource(writeGGUF(tinyModelSpec('gpt2', { dim: 32, heads: 1, ff: 32, layers: 1, contextLength: 8 })));
    const tok = tokenizerFromGGUF((await readGGUF(source)).metadata);
    // The byte tokens come first, in GPT-2's order: printable bytes as themselves, the others from U+0100.
    const order = [...Array(256).keys()].filter((b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff));
    const rest = [...Array(256).keys()].filter((b) => !order.includes(b));
    const idOfByte = (b: number) => (order.includes(b) ? order.indexOf(b) : order.length + rest.indexOf(b));
    assert.equal(tok.decode([idOfByte(0x41), idOfByte(0x20)]), 'A ');
    assert.equal(tok.decode([idOfByte(0xe1), idOfByte(0x86), idOfByte(0x86)]), 'ᆆ');
    checkRandomByteStreams(tok, idOfByte, [tok.encode(' the', { addBos: false })[0]!, idOfByte(0x20), tok.vocabSize - 1]);
  });
});

describe('llama-2-tiny-random (32000 tokens, multilingual gibberish)', () => {
  test("streaming after the prompt reproduces llama.cpp's generated text for every run", async () => {
    const tok = await loadTokenizer('llama-2-tiny-random', 'llama-2-tiny-random.gguf');
    const runs: { prompt_token_ids: number[]; token_ids: number[]; generated_text: string }[] =
      JSON.parse(await readFile(fixturePath('models', 'llama-2-tiny-random', 'llamacpp_refs.json'), 'utf8')).runs;
    for (const run of runs) {
      const generated = run.token_ids.slice(run.prompt_token_ids.length);
      const pieces = stream(tok, generated, { context: run.prompt_token_ids });
      assertWholeCharacters(pieces);
      assert.equal(pieces.join(''), run.generated_text);
    }
  });
});
