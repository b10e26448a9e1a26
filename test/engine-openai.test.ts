// The OpenAI-compatible API in Node: responses in the SDK's shapes (checked at run time here and at compile
// time through test/helpers/openai-sdk-types.ts), streaming equal to the non-streaming result, usage, logprobs
// against log-softmax of engine.logits, stop strings across token boundaries, max_tokens and the context's end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, type ChatCompletionChunk, type Completion, type Engine, type TokenChunk } from '../src/index';
import { asSdkChatCompletion, asSdkChunk, asSdkCompletion } from './helpers/openai-sdk-types';
import { chatChunkProblems, chatCompletionProblems, completionChunkProblems, completionProblems } from './helpers/openai-shapes';
import { fixturePath } from './helpers/fixtures';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';

const STORIES = fixturePath('models/stories260K/stories260K.gguf');

let stories: Engine;
let chat: Engine;
before(async () => {
  stories = await createEngine(STORIES, { contextLength: 256, precision: 'f32' });
  chat = await createEngine(tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>']), { precision: 'f32' });
});
after(async () => {
  await stories?.dispose();
  await chat?.dispose();
});

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of stream) out.push(x);
  return out;
}

function logSoftmax(logits: Float32Array, id: number): number {
  const max = logits.reduce((m, x) => Math.max(m, x), -Infinity);
  const sum = logits.reduce((s, x) => s + Math.exp(x - max), 0);
  return logits[id]! - max - Math.log(sum);
}

describe('chat.completions.create', () => {
  const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hello there' }];
  const params = { messages, max_tokens: 12, temperature: 0.8, seed: 5, logprobs: true, top_logprobs: 3 };

  test('a ChatCompletion in the SDK shape; with stream: true the same text in chunks, then finish_reason and usage', async () => {
    const completion = await chat.chat.completions.create(params);
    assert.deepEqual(chatCompletionProblems(completion), []);
    assert.notEqual(asSdkChatCompletion(completion), 'abort');
    const choice = completion.choices[0]!;
    assert.equal(choice.message.role, 'assistant');
    const usage = completion.usage!;
    assert.equal(choice.logprobs!.content!.length, usage.completion_tokens);
    assert.ok(['stop', 'length'].includes(choice.finish_reason));
    if (choice.finish_reason === 'length') assert.equal(usage.completion_tokens, 12);

    const stream = await chat.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = await drain(stream);
    for (const c of chunks) {
      assert.deepEqual(chatChunkProblems(c), []);
      assert.equal(c.id, chunks[0]!.id);
      asSdkChunk(c);
    }
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
    const withChoice = chunks.filter((c) => c.choices.length > 0);
    const text = withChoice.map((c) => c.choices[0]!.delta.content ?? '').join('');
    assert.equal(text, choice.message.content, 'same seed, same text');
    assert.deepEqual(withChoice.map((c) => c.choices[0]!.finish_reason).filter((f) => f !== null), [choice.finish_reason], 'finish_reason only on the last choice chunk');
    const streamedLogprobs = withChoice.flatMap((c) => c.choices[0]!.logprobs?.content ?? []);
    assert.deepEqual(streamedLogprobs, choice.logprobs!.content);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage!.completion_tokens, usage.completion_tokens);
    assert.equal(last.usage!.prompt_tokens, usage.prompt_tokens);
    assert.equal(last.usage!.prompt_tokens_details!.cached_tokens, usage.prompt_tokens - 1, 'the same prompt again: all but the last token came from the cache');
  });

  test('aborting a stream (its controller, or a signal) ends it with finish_reason abort, the one value the SDK lacks', async () => {
    const stream = await chat.chat.completions.create({ messages, max_tokens: 200, temperature: 1, seed: 2, logit_bias: { 0: -100 }, stream: true, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) {
      chunks.push(c);
      if (chunks.length === 4) stream.controller.abort();
    }
    const finishes = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter((f) => f !== null);
    assert.deepEqual(finishes, ['abort']);
    assert.equal(asSdkChunk(chunks.at(-2)!), 'abort');
    assert.ok(chunks.at(-1)!.usage!.completion_tokens <= 5, `aborted after 3 content chunks: ${chunks.at(-1)!.usage!.completion_tokens} tokens`);
    // stories260K with its EOS (id 2) banned: 200 tokens, far longer than the 30 ms before the abort (the
    // tiny chat model may end its turn within them).
    const controller = new AbortController();
    const pending = stories.completions.create({ prompt: 'Once upon a time', max_tokens: 200, temperature: 1, seed: 2, logit_bias: { 2: -100 } }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const aborted = await pending;
    assert.equal(aborted.choices[0]!.finish_reason, 'abort');
    assert.ok(aborted.usage!.completion_tokens < 200, `aborted after ${aborted.usage!.completion_tokens} tokens`);
    assert.deepEqual(completionProblems(aborted), []);
  });

  test('logprobs are log-softmax of the model\'s logits; top_logprobs are the most likely tokens, largest first', async () => {
    const native = await chat.chat(messages, { maxTokens: 4, temperature: 0.8, seed: 5, logprobs: true, topLogprobs: 3 }).result;
    const logits = await chat.logits(native.promptTokens);
    const first = native.logprobs![0]!;
    assert.ok(Math.abs(first.logprob - logSoftmax(logits, native.tokens[0]!)) < 1e-4, `${first.logprob} vs ${logSoftmax(logits, native.tokens[0]!)}`);
    const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
    assert.deepEqual(first.topLogprobs.map((t) => t.id), order.slice(0, 3));
    for (const t of first.topLogprobs) assert.ok(Math.abs(t.logprob - logSoftmax(logits, t.id)) < 1e-4);
    const viaOpenAI = await chat.chat.completions.create({ ...params, max_tokens: 4 });
    assert.deepEqual(viaOpenAI.choices[0]!.logprobs!.content!.map((l) => l.token), native.logprobs!.map((l) => l.token));
    assert.deepEqual(viaOpenAI.choices[0]!.logprobs!.content![0]!.bytes, first.bytes);
  });
});

describe('completions.create', () => {
  test('continues raw text exactly like generate; streams the same text; legacy logprobs; echo; 16 tokens by default', async () => {
    const greedy = await stories.generate('Once upon a time', { maxTokens: 20 }).result;
    const completion = await stories.completions.create({ prompt: 'Once upon a time', max_tokens: 20, temperature: 0, logprobs: 2 });
    assert.deepEqual(completionProblems(completion), []);
    assert.notEqual(asSdkCompletion(completion), 'abort');
    const choice = completion.choices[0]!;
    assert.equal(choice.text, greedy.text);
    assert.equal(choice.finish_reason, 'length');
    assert.deepEqual(completion.usage, { prompt_tokens: greedy.promptTokens.length, completion_tokens: 20, total_tokens: greedy.promptTokens.length + 20, prompt_tokens_details: { cached_tokens: greedy.promptTokens.length - 1 } });
    assert.equal(choice.logprobs!.tokens!.length, 20);
    assert.deepEqual(choice.logprobs!.top_logprobs!.map((t) => Object.keys(t).length <= 2), Array(20).fill(true));
    assert.equal(choice.logprobs!.text_offset![0], 0);

    const chunks: Completion[] = await drain(await stories.completions.create({ prompt: 'Once upon a time', max_tokens: 20, temperature: 0, stream: true }));
    for (const c of chunks) assert.deepEqual(completionChunkProblems(c), []);
    assert.equal(chunks.map((c) => c.choices[0]!.text).join(''), greedy.text);
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');

    const echoed = await stories.completions.create({ prompt: 'Once upon a time', max_tokens: 20, temperature: 0, echo: true });
    assert.equal(echoed.choices[0]!.text, `Once upon a time${greedy.text}`);
    const byDefault = await stories.completions.create({ prompt: 'Once upon a time', temperature: 0 });
    assert.equal(byDefault.usage!.completion_tokens, 16);
    const fromIds = await stories.completions.create({ prompt: greedy.promptTokens, max_tokens: 20, temperature: 0 });
    assert.equal(fromIds.choices[0]!.text, greedy.text);
  });
});

describe('stop conditions', () => {
  let reference: { text: string; pieces: string[]; tokens: number[] };
  before(async () => {
    await stories.resetContext();
    const stream = stories.generate('Once upon a time', { maxTokens: 60 });
    const chunks: TokenChunk[] = await drain(stream);
    const r = await stream.result;
    reference = { text: r.text, pieces: chunks.filter((c) => c.token >= 0).map((c) => c.text), tokens: r.tokens };
  });

  /** Streams with `stop` and returns the chunks' texts and the result. */
  async function withStop(stop: string | string[], maxTokens = 60) {
    const stream = stories.generate('Once upon a time', { maxTokens, stop });
    const chunks: TokenChunk[] = await drain(stream);
    return { streamed: chunks.map((c) => c.text).join(''), result: await stream.result };
  }

  test('a stop string spanning tokens ends generation before it; no part of it is ever streamed', async () => {
    // From inside one token's text to inside a later one's.
    const { pieces, text } = reference;
    const k = pieces.findIndex((p, i) => i > 5 && p.length >= 3 && (pieces[i + 1]?.length ?? 0) >= 1 && (pieces[i + 2]?.length ?? 0) >= 2);
    assert.ok(k > 0, `no usable token boundary in ${JSON.stringify(pieces)}`);
    const stop = pieces[k]!.slice(-2) + pieces[k + 1]! + pieces[k + 2]!.slice(0, 1);
    const cut = text.indexOf(stop);
    const { streamed, result } = await withStop(stop);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.text, text.slice(0, cut));
    assert.equal(streamed, text.slice(0, cut), 'streamed text stops before the stop string');
    assert.deepEqual(result.tokens, reference.tokens.slice(0, result.tokens.length), 'the same tokens up to the one completing the stop string');
    assert.ok(pieces.slice(0, result.tokens.length).join('').includes(stop) && !pieces.slice(0, result.tokens.length - 1).join('').includes(stop));

    // The earliest of several wins; OpenAI's `stop` behaves the same.
    const earlier = text.slice(cut - 6, cut - 2);
    assert.equal((await withStop([stop, earlier])).result.text, text.slice(0, text.indexOf(earlier)));
    const viaOpenAI = await stories.completions.create({ prompt: 'Once upon a time', max_tokens: 60, temperature: 0, stop: [stop] });
    assert.deepEqual([viaOpenAI.choices[0]!.text, viaOpenAI.choices[0]!.finish_reason], [text.slice(0, cut), 'stop']);
  });

  test('text held back as a possible stop string is released at the end when it was not one', async () => {
    const tail = reference.text.slice(-3);
    const { streamed, result } = await withStop(`${tail}\u0000never`);
    assert.deepEqual([result.finishReason, result.text, streamed], ['length', reference.text, reference.text]);
  });

  test('max_tokens ends with length after exactly that many tokens; so does the end of the context', async () => {
    const r = await stories.generate('Once upon a time', { maxTokens: 7 }).result;
    assert.deepEqual([r.finishReason, r.tokens.length], ['length', 7]);
    const small = await createEngine(STORIES, { contextLength: 32, precision: 'f32' });
    try {
      const full = await small.generate('Once upon a time', { maxTokens: Infinity, temperature: 0.9, seed: 3, logitBias: { 2: -100 } }).result;
      assert.equal(full.finishReason, 'length');
      assert.equal(full.promptTokens.length + full.tokens.length, 33, 'every position of the context used (the last token is picked, never fed)');
      const chatLike = await small.completions.create({ prompt: 'Once upon a time', temperature: 0, logit_bias: { 2: -100 } });
      assert.equal(chatLike.usage!.completion_tokens, 16);
    } finally {
      await small.dispose();
    }
  });
});
