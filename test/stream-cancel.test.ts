// Leaving a stream early cancels its request, as the OpenAI SDK's Stream does on `break`: the generation
// ends within a step (finish reason 'abort', a handful of tokens instead of max_tokens) and the next request
// runs next. Counted in tokens, never timed. The models' end-of-text tokens are banned, so without the
// cancel every request here would run to its max_tokens.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, pipeline, type Engine, type GenerateOptions, type TokenStream } from '../src/index';
import { ChatCompletions, Completions } from '../src/engine/openai/api';
import type { OpenAIBackend } from '../src/engine/openai/endpoints';
import { fixturePath } from './helpers/fixtures';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';

const STORIES = fixturePath('models/stories260K/stories260K.gguf');
const MAX = 200;
/** stories260K's EOS; the chat model's control tokens, <unk>, <s> and </s>. */
const NO_EOS = { 2: -100 };
const NO_END_OF_TURN = { 0: -100, 1: -100, 2: -100, 3: -100, 4: -100 };
/** A step or two may complete between the break and the abort reaching the decode loop. */
const FEW = 5;

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

/** The real engine's OpenAI layer, with the engine streams it creates kept for their results. */
function recorded(engine: Engine): { backend: OpenAIBackend; streams: TokenStream[] } {
  const streams: TokenStream[] = [];
  const keep = (s: TokenStream) => { streams.push(s); return s; };
  const backend: OpenAIBackend = {
    get model() { return engine.model; },
    generate: (p, o) => keep(engine.generate(p, o)),
    chat: (m, o) => keep(engine.chat(m, o)),
  };
  return { backend, streams };
}

async function assertCancelled(stream: TokenStream, what: string): Promise<void> {
  const r = await stream.result;
  assert.equal(r.finishReason, 'abort', `${what}: ${r.tokens.length} tokens, finish ${r.finishReason}`);
  assert.ok(r.tokens.length <= FEW, `${what}: ${r.tokens.length} tokens after the break`);
}

test('break out of generate and chat streams cancels them; the next request runs in full', async () => {
  const options: GenerateOptions = { maxTokens: MAX, logitBias: NO_EOS };
  const stream = stories.generate('Once upon a time', options);
  for await (const _ of stream) break;
  await assertCancelled(stream, 'generate');
  const next = await stories.generate('Lily and Tom', { maxTokens: 7, logitBias: NO_EOS }).result;
  assert.deepEqual([next.finishReason, next.tokens.length], ['length', 7]);

  const messages = [{ role: 'user' as const, content: 'Hello there' }];
  const chatStream = chat.chat(messages, { maxTokens: MAX, logitBias: NO_END_OF_TURN });
  let n = 0;
  for await (const _ of chatStream) if (++n === 3) break;
  await assertCancelled(chatStream, 'chat');
});

test('break out of chat.completions and completions streams aborts the request (the SDK\'s behaviour)', async () => {
  const chatSide = recorded(chat);
  const completions = new ChatCompletions(chatSide.backend);
  const messages = [{ role: 'user' as const, content: 'Hello there' }];
  // Right after the role chunk: the engine stream has not been iterated yet.
  const first = await completions.create({ messages, max_tokens: MAX, temperature: 0, logit_bias: NO_END_OF_TURN, stream: true });
  for await (const _ of first) break;
  assert.ok(first.controller.signal.aborted, 'the stream\'s controller is aborted');
  await assertCancelled(chatSide.streams[0]!, 'chat.completions, break after the first chunk');
  // Mid-stream.
  const second = await completions.create({ messages, max_tokens: MAX, temperature: 0, logit_bias: NO_END_OF_TURN, stream: true });
  let n = 0;
  for await (const _ of second) if (++n === 4) break;
  await assertCancelled(chatSide.streams[1]!, 'chat.completions, break after 4 chunks');

  const textSide = recorded(stories);
  const legacy = await new Completions(textSide.backend).create({ prompt: 'Once upon a time', max_tokens: MAX, temperature: 0, logit_bias: NO_EOS, stream: true });
  n = 0;
  for await (const _ of legacy) if (++n === 2) break;
  await assertCancelled(textSide.streams[0]!, 'completions');
  // The engine's own front door cancels too: the next request finds the cache holding only what ran.
  const prompt = 'One day';
  const reference = await stories.generate(prompt, { maxTokens: 40, logitBias: NO_EOS }).result;
  for await (const _ of await stories.completions.create({ prompt, max_tokens: 40, temperature: 0, logit_bias: NO_EOS, stream: true })) break;
  const after = await stories.generate([...reference.promptTokens, ...reference.tokens], { maxTokens: 1 }).result;
  assert.ok(after.cachedTokens <= reference.promptTokens.length + FEW, `the cancelled request fed ${after.cachedTokens - reference.promptTokens.length} tokens`);
});

test('a pipeline streamer that throws aborts the generation, and its error reaches the caller', async () => {
  const generator = await pipeline('text-generation', STORIES, { contextLength: 256, precision: 'f32' });
  try {
    const prompt = 'Once upon a time';
    const reference = await generator.engine.generate(prompt, { maxTokens: 60 }).result;
    assert.ok(reference.tokens.length > 20, 'a continuation long enough to tell a cancelled run from a finished one');
    let puts = 0;
    const streamer = { put() { puts++; throw new Error('the streamer failed'); }, end() {} };
    await assert.rejects(generator(prompt, { max_new_tokens: 60, streamer }), /the streamer failed/);
    assert.equal(puts, 1);
    // The KV cache now holds what the aborted run fed: a repeat of the reference reuses only that much.
    const after = await generator.engine.generate([...reference.promptTokens, ...reference.tokens], { maxTokens: 1 }).result;
    assert.ok(after.cachedTokens <= reference.promptTokens.length + FEW, `the aborted run fed ${after.cachedTokens - reference.promptTokens.length} tokens`);
  } finally {
    await generator.dispose();
  }
});
