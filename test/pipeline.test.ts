// transformers.js-style pipeline in Node: the v3 documentation's text-generation example (messages in,
// messages out, TextStreamer) runs unchanged apart from the import and the model; text in gives the prompt
// plus its continuation; outputs equal the engine's own greedy/sampled generation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRequestError, pipeline, TextStreamer, UnsupportedError, type ProgressInfo } from '../src/index';
import { MemorySource } from '../src/io/byte-source';
import { FileSource } from '../src/io/file-source';
import { readGGUF } from '../src/model/gguf';
import { tokenizerFromGGUF, tokenizerFromSource } from '../src/tokenizer';
import { tokenizerFromHF } from '../src/tokenizer/hf';
import { fixturePath } from './helpers/fixtures';
import { writeGGUF } from './helpers/gguf-writer';
import { hfTokenizerFiles } from './helpers/hf-writer';
import { tinyModelSpec } from './helpers/tiny-models';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';

const STORIES = fixturePath('models/stories260K/stories260K.gguf');

test('the transformers.js v3 chat example: messages in, messages plus the reply out, streamed through TextStreamer', async () => {
  const model = tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>']);
  const events: ProgressInfo[] = [];
  // --- as in the transformers.js README (model and callbacks aside) ---
  const generator = await pipeline('text-generation', model, { dtype: 'q4', progress_callback: (p) => events.push(p) });
  const messages = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Tell me a joke.' },
  ];
  let streamed = '';
  const streamer = new TextStreamer(generator.tokenizer, { skip_prompt: true, callback_function: (text) => { streamed += text; } });
  const output = await generator(messages, { max_new_tokens: 24, do_sample: false, streamer });
  const reply = (output[0]!.generated_text as typeof messages).at(-1)!;
  // ---
  try {
    const direct = await generator.engine.chat(messages, { maxTokens: 24 }).result;
    assert.deepEqual(output, [{ generated_text: [...messages, { role: 'assistant', content: direct.text }] }]);
    assert.equal(reply.content, direct.text);
    assert.equal(streamed, direct.text);
    const statuses = events.map((e) => e.status).filter((s, i, all) => s !== all[i - 1]);
    assert.deepEqual(statuses, ['initiate', 'download', 'progress', 'done', 'ready']);
    assert.deepEqual(events.at(-1), { status: 'ready', task: 'text-generation', model: 'model.gguf' });
    const lastProgress = events.filter((e) => e.status === 'progress').at(-1) as Extract<ProgressInfo, { status: 'progress' }>;
    assert.equal(lastProgress.progress, 100);

    // A subclass that overrides on_finalized_text sees the same pieces, and the end.
    const pieces: string[] = [];
    let ended = false;
    class Collect extends TextStreamer {
      override on_finalized_text(text: string, streamEnd: boolean) { pieces.push(text); if (streamEnd) ended = true; }
    }
    await generator(messages, { max_new_tokens: 24, streamer: new Collect(generator.tokenizer) });
    assert.equal(pieces.join(''), direct.text);
    assert.ok(ended);
    assert.equal(await generator.tokenizer.apply_chat_template(messages, { add_generation_prompt: true }), '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n');
  } finally {
    await generator.dispose();
  }
});

test('text in: the prompt and its continuation out; batches, sampling, num_return_sequences, max_length, a put/end streamer', async () => {
  const generator = await pipeline('text-generation', STORIES, { contextLength: 128, precision: 'f32' });
  try {
    const prompt = 'Once upon a time';
    const greedy = await generator.engine.generate(prompt, { maxTokens: 20 }).result;
    assert.deepEqual(await generator(prompt, { max_new_tokens: 20 }), [{ generated_text: prompt + greedy.text }]);
    assert.deepEqual(await generator(prompt, { max_new_tokens: 20, return_full_text: false }), [{ generated_text: greedy.text }]);
    const batch = await generator([prompt, 'The dog'], { max_new_tokens: 20 });
    assert.equal(batch.length, 2);
    assert.deepEqual(batch[0], [{ generated_text: prompt + greedy.text }]);

    const sampleOptions = { max_new_tokens: 20, do_sample: true, temperature: 0.9, top_k: 40, top_p: 0.95, repetition_penalty: 1.2 };
    const sampled = await generator(prompt, sampleOptions);
    const direct = await generator.engine.generate(prompt, { maxTokens: 20, temperature: 0.9, topK: 40, topP: 0.95, repetitionPenalty: 1.2, seed: 0 }).result;
    assert.deepEqual(sampled, [{ generated_text: prompt + direct.text }]);
    const two = await generator(prompt, { ...sampleOptions, num_return_sequences: 2 });
    assert.equal(two.length, 2);
    assert.deepEqual(two[0], sampled[0]);

    // transformers.js's default: max_length 20 bounds prompt + output.
    const bounded = await generator.engine.generate(prompt, { maxTokens: 20 - greedy.promptTokens.length }).result;
    assert.deepEqual(await generator(prompt), [{ generated_text: prompt + bounded.text }]);

    const ids: bigint[] = [];
    let ends = 0;
    await generator(prompt, { max_new_tokens: 20, streamer: { put: (v) => { ids.push(...v[0]!.map(BigInt)); }, end: () => { ends++; } } });
    assert.deepEqual(ids.map(Number), greedy.tokens);
    assert.equal(ends, 1);

    await assert.rejects(generator(prompt, { num_beams: 2 } as never), (e: unknown) => e instanceof InvalidRequestError && /num_beams/.test(e.message));
    await assert.rejects(generator(prompt, { num_return_sequences: 2 }), InvalidRequestError);
    // Errors name transformers.js's options, with the values as given.
    const said = (re: RegExp) => (e: unknown) => e instanceof InvalidRequestError && re.test(e.message);
    await assert.rejects(generator(prompt, { max_new_tokens: -1 }), said(/^max_new_tokens must be an integer >= 0 .*, got -1$/));
    await assert.rejects(generator(prompt, { do_sample: true, top_k: 1.5 }), said(/^top_k must be .*, got 1\.5$/));
    await assert.rejects(generator(prompt, { seed: '5' as never }), said(/^seed must be .*, got "5"$/));
  } finally {
    await generator.dispose();
  }
  await assert.rejects(pipeline('summarization' as never, STORIES), UnsupportedError);
  await assert.rejects(pipeline('text-generation', STORIES, { device: 'wasm' }), (e: unknown) => e instanceof UnsupportedError && /WebGPU/.test(e.message));
});

test('generator.tokenizer encodes and decodes synchronously, as transformers.js\'s; TextStreamer.put works with it', async () => {
  const generator = await pipeline('text-generation', STORIES, { contextLength: 128, precision: 'f32' });
  try {
    const { tokenizer } = generator;
    const prompt = 'Once upon a time';
    const ids = tokenizer.encode(prompt);
    assert.ok(Array.isArray(ids), 'encode returns the ids themselves, not a Promise');
    assert.deepEqual(ids, await generator.engine.tokenize(prompt));
    assert.deepEqual(tokenizer.encode(prompt, { add_special_tokens: false }), ids.slice(1), 'stories260K adds BOS; without special tokens, none');
    const greedy = await generator.engine.generate(prompt, { maxTokens: 12 }).result;
    const text = tokenizer.decode(greedy.tokens);
    assert.equal(typeof text, 'string');
    assert.equal(text.trimStart(), greedy.text.trimStart());
    assert.equal(tokenizer.decode(greedy.tokens.map(BigInt)), text, 'bigint ids, as streamers get them');
    assert.ok(tokenizer.decode(ids).startsWith('<s>'), 'special tokens kept by default, as in transformers.js');
    assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), prompt);
    assert.deepEqual(tokenizer.batch_decode([ids.slice(1), greedy.tokens]), [tokenizer.decode(ids.slice(1)), text]);
    assert.throws(() => tokenizer.decode(Promise.resolve([1]) as never), (e: unknown) => e instanceof InvalidRequestError && /Promise/.test(e.message));
    assert.throws(() => tokenizer.decode(['a'] as never), InvalidRequestError);
    assert.throws(() => tokenizer.encode(42 as never), InvalidRequestError);

    // transformers.js's generate() drives a streamer through put(ids) / end(): that needs this synchronous decode.
    let streamed = '';
    const streamer = new TextStreamer(tokenizer, { callback_function: (t) => { streamed += t; } });
    for (const id of greedy.tokens) streamer.put([[BigInt(id)]]);
    streamer.end();
    assert.equal(streamed, text);
  } finally {
    await generator.dispose();
  }
});

test('a tokenizer rebuilt from its source (as the page side of the worker does) is the same tokenizer', async () => {
  const texts = ['Once upon a time', ' the cat sat, on a mat!\n', 'héllo wörld 你好', ''];
  const stories = (await readGGUF(await FileSource.open(STORIES))).metadata;
  const gpt2 = (await readGGUF(new MemorySource(writeGGUF(tinyModelSpec('gpt2'))))).metadata;
  for (const original of [tokenizerFromGGUF(stories), tokenizerFromGGUF(gpt2), tokenizerFromHF({ name: 'mem', ...hfTokenizerFiles(gpt2) })]) {
    const copy = tokenizerFromSource(structuredClone(original.source));
    for (const text of texts) assert.deepEqual(copy.encode(text), original.encode(text), JSON.stringify(text));
    const ids = original.encode(texts[2]!);
    assert.equal(copy.decode(ids), original.decode(ids));
    assert.deepEqual([copy.bosId, copy.eosIds, copy.vocabSize], [original.bosId, original.eosIds, original.vocabSize]);
  }
});
