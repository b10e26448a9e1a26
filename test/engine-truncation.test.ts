// Context fitting in the engine (truncation: 'auto', src/engine/worker/fit-context.ts): a conversation too long
// for the context loses its oldest whole turns — the fewest that make it fit, the system message and the last
// user message kept, a tool call never parted from its result — and the result says how many messages went;
// without the option the request fails as before. A text prompt loses its oldest tokens, BOS kept. Also the
// template capability engine.model.supportsSystemRole, and the system text folded in where it is false.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEngine, InvalidRequestError, type ChatCompletionMessageParam, type ChatMessage, type Engine } from '../src/index';
import { fixturePath } from './helpers/fixtures';
import { tinyChatModel } from './helpers/tiny-chat-model';

const CONTEXT = 256;
const QWEN_CONTROLS = ['<|im_end|>', '<|im_start|>', '<tool_call>', '</tool_call>', '<tool_response>', '</tool_response>'];
const EXTRA = '{}[]":,-.0123456789_<>/=|()+*';
let engine: Engine;

before(async () => {
  const template = readFileSync(fixturePath('templates', 'Qwen-Qwen2.5-7B-Instruct.jinja'), 'utf8');
  engine = await createEngine(tinyChatModel(template, QWEN_CONTROLS, { extraChars: EXTRA, contextLength: CONTEXT }), { precision: 'f32', contextLength: CONTEXT });
});
after(async () => { await engine?.dispose(); });

const words = (n: number, seed: string) => Array.from({ length: n }, (_, i) => `${seed}${String.fromCharCode(97 + (i % 26))}`).join(' ');

/** system, then `turns` turns of (user, assistant), turn `toolTurn` with a tool call, then the last user message. */
function conversation(turns = 6, toolTurn = 2): ChatMessage[] {
  const m: ChatMessage[] = [{ role: 'system', content: 'You answer briefly.' }];
  for (let t = 0; t < turns; t++) {
    m.push({ role: 'user', content: `question ${words(6, 'q')}` });
    if (t === toolTurn) {
      m.push({ role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'clock', arguments: '{}' } }] });
      m.push({ role: 'tool', tool_call_id: 'c1', name: 'clock', content: 'noon' });
    }
    m.push({ role: 'assistant', content: `answer ${words(6, 'a')}` });
  }
  m.push({ role: 'user', content: 'and now?' });
  return m;
}

/** The prompt ids chat() feeds for `messages` (no truncation, no reply). */
async function promptOf(messages: ChatMessage[]): Promise<number[]> {
  return (await engine.chat(messages, { maxTokens: 0 }).result).promptTokens;
}

test('a conversation longer than the context fails without truncation, with a typed error that names the option', async () => {
  await assert.rejects(engine.chat(conversation(), { maxTokens: 4 }).result, (e: unknown) => e instanceof InvalidRequestError && /context holds 256/.test(e.message) && /truncation: 'auto'/.test(e.message));
});

test("truncation 'auto' leaves out the fewest oldest whole turns that make room for the reply; the prompt is the kept conversation's", async () => {
  const messages = conversation();
  const maxTokens = 16;
  const budget = CONTEXT - Math.min(maxTokens, CONTEXT / 4);
  assert.ok((await engine.tokenize(await engine.applyChatTemplate(messages, { addGenerationPrompt: true }))).length > CONTEXT, 'the test conversation is longer than the context');
  const result = await engine.chat(messages, { maxTokens, truncation: 'auto' }).result;
  const n = result.truncatedMessages!;
  assert.ok(n > 0 && n < messages.length - 2, `some messages left out (${n})`);
  const kept = [messages[0]!, ...messages.slice(1 + n)];
  assert.equal(kept[1]!.role, 'user', 'the kept conversation starts with a whole turn');
  assert.equal(kept.at(-1)!.content, 'and now?', 'the last user message stays');
  assert.ok(!(kept[2]?.role === 'tool'), 'a tool result never loses its call');
  assert.deepEqual(result.promptTokens, await promptOf(kept), 'the prompt is exactly that of the kept messages');
  assert.ok(result.promptTokens.length <= budget, `the prompt leaves room for the reply (${result.promptTokens.length} <= ${budget})`);
  // The fewest: keeping the turn before the first kept one would not fit.
  const previousTurn = messages.slice(1, 1 + n).map((m) => m.role).lastIndexOf('user') + 1;
  const onceMore = [messages[0]!, ...messages.slice(previousTurn)];
  assert.ok(onceMore.length > kept.length);
  const longer = await engine.chat(onceMore, { maxTokens: 0 }).result.then((r) => r.promptTokens.length, () => Infinity);
  assert.ok(longer > budget, `one turn more (${longer} tokens) would not leave room for the reply`);
});

test('wherever the cut falls, the kept conversation starts with a user turn and every tool result keeps its call', async () => {
  let cut = 0;
  for (let turns = 4; turns <= 8; turns++) {
    for (const toolTurn of [0, turns - 3, turns - 1]) {
      const messages = conversation(turns, toolTurn);
      const { truncatedMessages: n, promptTokens } = await engine.chat(messages, { maxTokens: 16, truncation: 'auto' }).result;
      const kept = [messages[0]!, ...messages.slice(1 + n!)];
      const label = `${turns} turns, the tool call in turn ${toolTurn}: ${n} left out`;
      if (n! > 0) cut++;
      assert.equal(kept[1]!.role, 'user', label);
      kept.forEach((m, i) => {
        if (m.role === 'tool') assert.ok(kept.slice(0, i).some((c) => c.tool_calls?.some((call) => call.id === m.tool_call_id)), `${label}: a tool result without its call`);
      });
      assert.deepEqual(promptTokens, await promptOf(kept), label);
    }
  }
  assert.ok(cut >= 6, `most of these conversations are longer than the context (${cut} cut)`);
});

test("a conversation that fits is not truncated: truncatedMessages 0, the same prompt as without the option", async () => {
  const short: ChatMessage[] = [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'hi' }];
  const result = await engine.chat(short, { maxTokens: 2, truncation: 'auto' }).result;
  assert.equal(result.truncatedMessages, 0);
  assert.deepEqual(result.promptTokens, await promptOf(short));
  assert.equal((await engine.chat(short, { maxTokens: 0 }).result).truncatedMessages, undefined, 'reported only when asked for');
});

test("OpenAI chat.completions: truncation 'auto' as a Hearth extension, reported in usage.truncated_messages; a bad value names the parameter", async () => {
  const chat = conversation().filter((m) => !m.tool_calls && m.role !== 'tool');
  const messages = chat as ChatCompletionMessageParam[];
  const completion = await engine.chat.completions.create({ messages, max_tokens: 16, temperature: 0, truncation: 'auto' });
  const direct = await engine.chat(chat, { maxTokens: 16, truncation: 'auto' }).result;
  assert.ok(direct.truncatedMessages! > 0);
  assert.equal(completion.usage?.truncated_messages, direct.truncatedMessages);
  assert.equal(completion.usage?.prompt_tokens, direct.promptTokens.length);
  await assert.rejects(engine.chat.completions.create({ messages, truncation: 'oldest' as 'auto' }), /truncation must be 'auto' or 'disabled', got "oldest"/);
});

test('engine.model.supportsSystemRole: true for a template that takes a system message', () => {
  assert.equal(engine.model.supportsSystemRole, true);
});

test('a template without a system role (Gemma): supportsSystemRole false, and chat() puts the system text before the first user message', async () => {
  const gemma = await createEngine(tinyChatModel(readFileSync(fixturePath('templates', 'google-gemma-2-2b-it.jinja'), 'utf8'), ['<start_of_turn>', '<end_of_turn>']), { precision: 'f32' });
  try {
    assert.equal(gemma.model.supportsSystemRole, false);
    const messages: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }];
    const prompt = await gemma.applyChatTemplate(messages, { addGenerationPrompt: true });
    assert.match(prompt, /<start_of_turn>user\nBe brief\.\nHello<end_of_turn>\n<start_of_turn>model\n$/);
    const result = await gemma.chat(messages, { maxTokens: 1 }).result;
    assert.deepEqual(result.promptTokens, (await gemma.chat([{ role: 'user', content: 'Be brief.\nHello' }], { maxTokens: 0 }).result).promptTokens);
  } finally {
    await gemma.dispose();
  }
});

test("generate with truncation 'auto': the oldest prompt tokens go, BOS stays; without it a typed error", async () => {
  const base = await createEngine(fixturePath('models/stories260K/stories260K.gguf'), { contextLength: 64, precision: 'f32' });
  try {
    const text = 'Once upon a time there was a little girl who liked to play in the park with her dog and her cat every day.'.repeat(3);
    const ids = await base.tokenize(text);
    assert.ok(ids.length > 64);
    await assert.rejects(base.generate(text, { maxTokens: 4 }).result, InvalidRequestError);
    const result = await base.generate(text, { maxTokens: 8, truncation: 'auto' }).result;
    const budget = 64 - 8;
    assert.equal(result.promptTokens.length, budget);
    assert.equal(result.promptTokens[0], ids[0], 'BOS stays');
    assert.deepEqual(result.promptTokens.slice(1), ids.slice(ids.length - (budget - 1)), 'then the newest tokens');
    assert.equal(result.truncatedTokens, ids.length - budget);
    const completion = await base.completions.create({ prompt: text, max_tokens: 8, temperature: 0, truncation: 'auto' });
    assert.equal(completion.usage?.truncated_tokens, ids.length - budget);
    assert.equal(completion.choices[0]!.text, result.text);
  } finally {
    await base.dispose();
  }
});
