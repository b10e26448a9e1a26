// Tool calling end to end in Node, through each template llama.cpp tests tool calls with (test/fixtures/templates):
// tiny random-weight models write calls whose names are among the tools and whose arguments validate under the
// tool's parameters, for every seed, under tool_choice 'required' and a named function; streamed deltas
// reassemble to the non-streamed message; a full round trip (call → tool result → answer) renders through the
// template; 'auto' lets the model write text or a call; parallel_tool_calls: false allows one call.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEngine, pipeline, toolChat, UnsupportedError, type ChatCompletionChunk, type Engine } from '../src/index';
import { fixturePath } from './helpers/fixtures';
import { asSdkChatCompletion, asSdkChunk } from './helpers/openai-sdk-types';
import { tinyChatModel } from './helpers/tiny-chat-model';
import { ASK, checkCall, reassemble, templateCase, TEMPLATE_CASES, TOOLS } from './helpers/tool-calls';

const SEEDS = 3;
const EXTRA = '{}[]":,-.0123456789_<>/=|()';

const engines: Engine[] = [];
after(async () => { for (const e of engines) await e.dispose(); });

const byFile = new Map<string, Engine>();
async function engineFor(file: string, controls: string[]): Promise<Engine> {
  if (byFile.has(file)) return byFile.get(file)!;
  const template = readFileSync(fixturePath('templates', file), 'utf8');
  const engine = await createEngine(tinyChatModel(template, controls, { extraChars: EXTRA, contextLength: 8192 }), { precision: 'f32', contextLength: 8192 });
  engines.push(engine);
  byFile.set(file, engine);
  return engine;
}

for (const { file, controls } of TEMPLATE_CASES) {
  test(`${file}: 'required' gives schema-valid calls for every seed; streamed deltas reassemble to them; the round trip renders`, async () => {
    const engine = await engineFor(file, controls);
    for (let seed = 0; seed < SEEDS; seed++) {
      const params = { messages: ASK, tools: TOOLS, tool_choice: 'required' as const, seed, temperature: 1, max_tokens: 120 };
      const r = await engine.chat.completions.create(params);
      assert.notEqual(asSdkChatCompletion(r), 'abort'); // typed as the SDK's ChatCompletion
      const choice = r.choices[0]!;
      assert.equal(choice.finish_reason, 'tool_calls', `seed ${seed}: ${JSON.stringify(choice.message)}`);
      const calls = choice.message.tool_calls ?? [];
      assert.ok(calls.length >= 1);
      for (const c of calls) { assert.equal(c.type, 'function'); if (c.type === 'function') checkCall(c, `seed ${seed}`); }
      const chunks: ChatCompletionChunk[] = [];
      for await (const c of await engine.chat.completions.create({ ...params, stream: true })) { assert.notEqual(asSdkChunk(c), 'abort'); chunks.push(c); }
      const streamed = reassemble(chunks);
      assert.equal(streamed.finish, 'tool_calls');
      assert.deepEqual(streamed.calls.map((c) => [c.name, c.arguments]), calls.map((c) => c.type === 'function' ? [c.function.name, c.function.arguments] : []));
      assert.equal(streamed.content || null, choice.message.content);
      if (seed === 0) {
        const first = calls[0]!;
        // As the OpenAI SDK's examples do: the returned message goes back as it is, then the tool's result.
        const round = [...ASK, choice.message, { role: 'tool' as const, tool_call_id: first.id, content: 'TwentyOneDegrees' }];
        const answer = await engine.chat.completions.create({ messages: round, tools: TOOLS, seed, max_tokens: 8, temperature: 1 });
        assert.ok(['stop', 'length', 'tool_calls'].includes(answer.choices[0]!.finish_reason));
        // The same conversation on engine.chat's side: toolChat shapes it for the template.
        const shaped = toolChat(engine.model, [...ASK, { role: 'assistant', content: '', tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: c.type === 'function' ? c.function : { name: '', arguments: '' } })) }, { role: 'tool', tool_call_id: first.id, content: 'TwentyOneDegrees' }], TOOLS, 'none');
        const prompt = await engine.applyChatTemplate(shaped.messages, { tools: shaped.options.tools, addGenerationPrompt: true });
        assert.match(prompt, /TwentyOneDegrees/);
        if (first.type === 'function') assert.ok(prompt.includes(first.function.name), prompt.slice(-400));
      }
    }
  });
}

const QWEN = TEMPLATE_CASES[0]!;
/** Token id of '<tool_call>' in the Qwen case's tiny vocabulary (control tokens come first). */
const TOOL_CALL_TOKEN = QWEN.controls.indexOf('<tool_call>');

test("'auto': the model writes text or a call; once it opens a call, the call is constrained (valid for every seed)", async () => {
  const engine = await engineFor(QWEN.file, QWEN.controls);
  for (let seed = 0; seed < SEEDS; seed++) {
    const free = await engine.chat.completions.create({ messages: ASK, tools: TOOLS, seed, temperature: 1, max_tokens: 12, logit_bias: { [TOOL_CALL_TOKEN]: -100 } });
    assert.equal(free.choices[0]!.message.tool_calls, undefined, 'no call opened: text');
    assert.notEqual(free.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(typeof free.choices[0]!.message.content, 'string');
    // The opener pushed to the top: the model writes it at once, and the grammar takes over from there.
    const call = await engine.chat.completions.create({ messages: ASK, tools: TOOLS, seed, temperature: 1, max_tokens: 100, logit_bias: { [TOOL_CALL_TOKEN]: 100 }, parallel_tool_calls: false });
    assert.equal(call.choices[0]!.finish_reason, 'tool_calls', JSON.stringify(call.choices[0]!.message));
    assert.equal(call.choices[0]!.message.tool_calls!.length, 1, 'parallel_tool_calls: false allows one call');
    const c = call.choices[0]!.message.tool_calls![0]!;
    if (c.type === 'function') checkCall(c, `seed ${seed}`);
  }
});

test("a named tool_choice calls that tool; parallel_tool_calls: false one call; 'none' no call", async () => {
  const engine = await engineFor(QWEN.file, QWEN.controls);
  for (let seed = 0; seed < SEEDS; seed++) {
    const r = await engine.chat.completions.create({ messages: ASK, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'add' } }, parallel_tool_calls: false, seed, temperature: 1, max_tokens: 100 });
    const calls = r.choices[0]!.message.tool_calls!;
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.type === 'function' && calls[0]!.function.name, 'add');
    if (calls[0]!.type === 'function') checkCall(calls[0]!, `seed ${seed}`);
    assert.match(calls[0]!.id, /^call_[A-Za-z0-9]{24}$/);
    const none = await engine.chat.completions.create({ messages: ASK, tools: TOOLS, tool_choice: 'none', seed, temperature: 1, max_tokens: 8, logit_bias: { [TOOL_CALL_TOKEN]: -100 } });
    assert.equal(none.choices[0]!.message.tool_calls, undefined);
    assert.notEqual(none.choices[0]!.finish_reason, 'tool_calls');
  }
});

test('parameters the grammar cannot express are refused by name, with where they are', async () => {
  const engine = await engineFor(QWEN.file, QWEN.controls);
  const tools = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object', properties: { n: { type: 'integer', minimum: 3 } } } } }];
  await assert.rejects(engine.chat.completions.create({ messages: ASK, tools, tool_choice: 'required' }), (e: unknown) => e instanceof UnsupportedError && /#\/properties\/n: JSON Schema keyword "minimum" is not supported in tools\[0\]\.function\.parameters/.test(e.message));
});

test('Mistral: call ids are the 9 letters and digits its template needs, and they render back', async () => {
  const mistral = templateCase('mistralai');
  const engine = await engineFor(mistral.file, mistral.controls);
  const r = await engine.chat.completions.create({ messages: ASK, tools: TOOLS, tool_choice: 'required', seed: 0, temperature: 1, max_tokens: 100 });
  const id = r.choices[0]!.message.tool_calls![0]!.id;
  assert.match(id, /^[A-Za-z0-9]{9}$/);
  const prompt = await engine.applyChatTemplate([...ASK, { role: 'assistant', content: '', tool_calls: r.choices[0]!.message.tool_calls as never }, { role: 'tool', tool_call_id: id, content: '21' }], { tools: TOOLS });
  assert.ok(prompt.includes(`"call_id": "${id}"`), prompt.slice(-200));
});

test("pipeline('text-generation') hands tools to the template (as transformers.js does), in generation and in apply_chat_template", async () => {
  const template = readFileSync(fixturePath('templates', QWEN.file), 'utf8');
  const generator = await pipeline('text-generation', tinyChatModel(template, QWEN.controls, { extraChars: EXTRA, contextLength: 4096 }), { precision: 'f32', contextLength: 4096 });
  try {
    const prompt = await generator.tokenizer.apply_chat_template(ASK, { tools: TOOLS, add_generation_prompt: true });
    assert.match(prompt, /<tools>\n\{"type": "function", "function": \{"name": "get_weather"/);
    const without = await generator.tokenizer.apply_chat_template(ASK, { add_generation_prompt: true });
    assert.doesNotMatch(without, /get_weather/);
    // The tools are in the prompt the model continues: its KV cache then holds the tool-listing prompt.
    const withTools = await generator(ASK, { tools: TOOLS, max_new_tokens: 2 });
    assert.equal((withTools[0]!.generated_text as { role: string }[]).length, 2);
    const cached = await generator.engine.chat.completions.create({ messages: ASK, tools: TOOLS, tool_choice: 'none', max_tokens: 1 });
    assert.ok(cached.usage!.prompt_tokens_details!.cached_tokens! >= cached.usage!.prompt_tokens - 1, 'the pipeline had prefilled the same prompt, tools included');
  } finally {
    await generator.dispose();
  }
});

test("cut by max_tokens inside a call: finish_reason 'length' and the call as far as it was written, streamed or not (as OpenAI returns it)", async () => {
  const engine = await engineFor(QWEN.file, QWEN.controls);
  let partial = 0;
  for (let seed = 0; seed < SEEDS; seed++) {
    for (const max_tokens of [30, 45]) {
      const params = { messages: ASK, tools: TOOLS, tool_choice: 'required' as const, seed, temperature: 1, max_tokens };
      const r = await engine.chat.completions.create(params);
      const choice = r.choices[0]!;
      assert.equal(choice.finish_reason, 'length', JSON.stringify(choice.message));
      const calls = (choice.message.tool_calls ?? []).map((c) => (c.type === 'function' ? [c.function.name, c.function.arguments] : []));
      for (const [name, args] of calls) {
        assert.ok(TOOLS.some((t) => t.function.name === name), `${name} is a tool`);
        assert.match(args!, /^(\{|$)/, 'the arguments as far as they were written');
      }
      if (calls.length > 0) partial++;
      const chunks: ChatCompletionChunk[] = [];
      for await (const c of await engine.chat.completions.create({ ...params, stream: true })) chunks.push(c);
      const streamed = reassemble(chunks);
      assert.equal(streamed.finish, 'length');
      assert.deepEqual(streamed.calls.map((c) => [c.name, c.arguments]), calls, 'streamed deltas reassemble to the same partial calls');
      assert.equal(streamed.content || null, calls.length ? choice.message.content : choice.message.content || null);
    }
  }
  assert.ok(partial > 0, 'some generation was cut inside a call, after its name');
});
