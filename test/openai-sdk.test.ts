// The OpenAI SDK itself, pointed at Hearth through openaiFetch (src/engine/openai/fetch.ts), in Node over Dawn:
// the tool-calling code of OpenAI's function-calling guide runs as written there (only the client is made
// differently) on tiny random-weight models of four tool formats (Hermes/Qwen, Llama 3.1, Mistral, generic),
// every call's arguments validating against its tool's schema; the streamed version gives the same calls as the
// non-streamed one with the same seed; the SDK's runTools helper runs plain and Standard Schema function tools
// (a named tool once; 'required' round after round, streamed);
// errors surface as the SDK's own classes; completions, embeddings and models answer through the same fetch.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { standardFunction } from 'openai/helpers/standard-schema';
import type { ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { createEngine, openaiFetch, type Engine, type OpenAIFetchEngine } from '../src/index';
import { writeGGUF } from './helpers/gguf-writer';
import { fixturePath } from './helpers/fixtures';
import { schemaProblems } from './helpers/json-schema-check';
import { tinyChatModel } from './helpers/tiny-chat-model';
import { tinyEncoderSpec } from './helpers/tiny-embedding-models';

const EXTRA = '{}[]":,-.0123456789_<>/=|()';
/** One template per tool format, with the control tokens its syntax uses. */
const MODELS: { file: string; controls: string[] }[] = [
  { file: 'Qwen-Qwen2.5-7B-Instruct.jinja', controls: ['<|im_end|>', '<|im_start|>', '<tool_call>', '</tool_call>'] },
  { file: 'meta-llama-Llama-3.1-8B-Instruct.jinja', controls: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>', '<|python_tag|>', '<|begin_of_text|>'] },
  { file: 'mistralai-Mistral-Nemo-Instruct-2407.jinja', controls: ['[TOOL_CALLS]', '[INST]', '[/INST]', '[AVAILABLE_TOOLS]', '[/AVAILABLE_TOOLS]', '[TOOL_RESULTS]', '[/TOOL_RESULTS]'] },
  { file: 'google-gemma-2-2b-it.jinja', controls: ['<end_of_turn>', '<start_of_turn>'] },
];

const engines: Engine[] = [];
after(async () => { for (const e of engines) await e.dispose(); });

const byFile = new Map<string, Engine>();
async function chatEngine(file: string, controls: string[]): Promise<Engine> {
  if (byFile.has(file)) return byFile.get(file)!;
  const template = readFileSync(fixturePath('templates', file), 'utf8');
  const engine = await createEngine(tinyChatModel(template, controls, { extraChars: EXTRA, contextLength: 4096 }), { precision: 'f32', contextLength: 4096 });
  engines.push(engine);
  byFile.set(file, engine);
  return engine;
}

/** The one line an app changes to run on Hearth. */
function hearthClient(engine: OpenAIFetchEngine, fetch = openaiFetch(engine)): OpenAI {
  return new OpenAI({ apiKey: 'unused', baseURL: 'https://hearth.local/v1', fetch, dangerouslyAllowBrowser: true });
}

// The guide's tool, with a maxLength on the string: a random-weight model would otherwise write on until max_tokens.
const tools: ChatCompletionTool[] = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get current temperature for a given location.',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string', description: 'City and country e.g. Paris, France', maxLength: 12 } },
      required: ['location'],
      additionalProperties: false,
    },
    strict: true,
  },
}];

const called: { name: string; args: unknown }[] = [];
async function getWeather(location: string): Promise<number> {
  called.push({ name: 'get_weather', args: { location } });
  return 21;
}

function checkArguments(name: string, json: string, what: string): void {
  const tool = tools.find((t) => t.type === 'function' && t.function.name === name);
  assert.ok(tool?.type === 'function', `${what}: ${name} is a tool`);
  assert.deepEqual(schemaProblems(JSON.parse(json), tool.function.parameters!), [], `${what}: ${json}`);
}

/**
 * OpenAI's function-calling guide (Chat Completions, Node), as written there, with the tool_choice under test
 * and a seed; max_tokens bounds the random model's answer.
 */
async function functionCallingGuide(openai: OpenAI, tool_choice: ChatCompletionToolChoiceOption, seed: number) {
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather like in Paris today?' }];
  const completion = await openai.chat.completions.create({ model: 'gpt-4.1', messages, tools, tool_choice, seed, max_tokens: 100, store: true });
  messages.push(completion.choices[0]!.message);
  for (const toolCall of completion.choices[0]!.message.tool_calls ?? []) {
    if (toolCall.type !== 'function') continue;
    const args = JSON.parse(toolCall.function.arguments);
    const result = await getWeather(args.location);
    messages.push({ role: 'tool', tool_call_id: toolCall.id, content: result.toString() });
  }
  const completion2 = await openai.chat.completions.create({ model: 'gpt-4.1', messages, tools, seed, max_tokens: 8 });
  return { completion, completion2 };
}

/** The guide's streaming version: tool-call deltas accumulated by index. */
async function streamedToolCalls(openai: OpenAI, tool_choice: ChatCompletionToolChoiceOption, seed: number) {
  const stream = await openai.chat.completions.create({
    model: 'gpt-4.1',
    messages: [{ role: 'user', content: 'What is the weather like in Paris today?' }],
    tools, tool_choice, seed, max_tokens: 100,
    stream: true,
  });
  const finalToolCalls: Record<number, OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall> = {};
  let finish: string | null = null;
  for await (const chunk of stream) {
    const toolCalls = chunk.choices[0]?.delta.tool_calls || [];
    for (const toolCall of toolCalls) {
      const { index } = toolCall;
      if (!finalToolCalls[index]) finalToolCalls[index] = toolCall;
      finalToolCalls[index].function!.arguments += toolCall.function!.arguments!;
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  return { calls: Object.values(finalToolCalls), finish };
}

for (const { file, controls } of MODELS) {
  test(`${file}: the guide's loop and its streaming version, 'required' and a named function, calls valid`, async () => {
    const engine = await chatEngine(file, controls);
    const openai = hearthClient(engine);
    const choices: [ChatCompletionToolChoiceOption, number][] = [['required', 0], [{ type: 'function', function: { name: 'get_weather' } }, 1]];
    for (const [choice, seed] of choices) {
      const what = `${JSON.stringify(choice)} seed ${seed}`;
      called.length = 0;
      const { completion, completion2 } = await functionCallingGuide(openai, choice, seed);
      const message = completion.choices[0]!.message;
      assert.equal(completion.choices[0]!.finish_reason, 'tool_calls', `${what}: ${JSON.stringify(message)}`);
      assert.ok(message.tool_calls && message.tool_calls.length >= 1);
      for (const c of message.tool_calls) if (c.type === 'function') checkArguments(c.function.name, c.function.arguments, what);
      assert.equal(called.length, message.tool_calls.length, 'the guide ran the function for every call');
      const answer = completion2.choices[0]!;
      assert.ok(['stop', 'length', 'tool_calls'].includes(answer.finish_reason), answer.finish_reason);
      for (const c of answer.message.tool_calls ?? []) if (c.type === 'function') checkArguments(c.function.name, c.function.arguments, `${what}, answer`);

      const streamed = await streamedToolCalls(openai, choice, seed);
      assert.equal(streamed.finish, 'tool_calls');
      assert.deepEqual(streamed.calls.map((c) => [c.type, c.function?.name, c.function?.arguments]), message.tool_calls.map((c) => (c.type === 'function' ? ['function', c.function.name, c.function.arguments] : [])), `${what}: streamed as not`);
      for (const c of streamed.calls) assert.ok(c.id, 'each call has its id');
    }
  });
}

/** A Standard Schema (what the SDK's standardFunction takes, as zodFunction takes zod) over the test's validator. */
function standardSchema(schema: Record<string, unknown>) {
  return {
    '~standard': {
      version: 1 as const,
      vendor: 'hearth-test',
      validate: (value: unknown) => {
        const problems = schemaProblems(value, schema);
        return problems.length ? { issues: problems.map((message) => ({ message })) } : { value: value as { location: string } };
      },
      jsonSchema: { input: () => schema },
    },
  };
}

test("runTools: the SDK's tool runner with plain and Standard Schema function tools, streamed and not", async () => {
  const engine = await chatEngine(MODELS[0]!.file, MODELS[0]!.controls);
  const openai = hearthClient(engine);
  const parameters = (tools[0] as { function: { parameters: Record<string, unknown> } }).function.parameters;
  const seen: unknown[] = [];
  const plain = { type: 'function' as const, function: { name: 'get_weather', description: 'Get current temperature for a given location.', parameters, parse: JSON.parse, function: (args: { location: string }) => { seen.push(args); return { temperature: 21 }; } } };
  const runner = openai.chat.completions.runTools({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [plain], tool_choice: { type: 'function', function: { name: 'get_weather' } }, seed: 2, max_tokens: 100 });
  const result = await runner.finalFunctionToolCallResult();
  assert.equal(result, JSON.stringify({ temperature: 21 }));
  assert.equal(seen.length, 1);
  assert.deepEqual(schemaProblems(seen[0], parameters), []);

  const validated = standardFunction({ name: 'get_weather', description: 'Get current temperature for a given location.', parameters: standardSchema(parameters), function: (args) => { seen.push(args); return 21; } });
  const streaming = openai.chat.completions.runTools({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [validated], tool_choice: 'required', seed: 3, max_tokens: 100, stream: true }, { maxChatCompletions: 2 });
  const completions: OpenAI.Chat.Completions.ChatCompletion[] = [];
  streaming.on('chatCompletion', (c) => completions.push(c));
  await streaming.done();
  // 'required' calls every round: call, result, call again, until the runner's limit.
  assert.equal(completions.length, 2);
  for (const c of completions) {
    assert.equal(c.choices[0]!.finish_reason, 'tool_calls');
    for (const call of c.choices[0]!.message.tool_calls ?? []) if (call.type === 'function') checkArguments(call.function.name, call.function.arguments, 'runTools stream');
  }
  assert.ok(seen.length >= 3, 'the runner ran the function for each call');
  for (const args of seen) assert.deepEqual(schemaProblems(args, parameters), [], 'validated by the Standard Schema, then by the test');
});

test("errors: the SDK's own classes, OpenAI's error body, no retries; unknown routes 404", async () => {
  const engine = await chatEngine(MODELS[0]!.file, MODELS[0]!.controls);
  const fetch = openaiFetch(engine);
  let requests = 0;
  const openai = hearthClient(engine, (input, init) => { requests++; return fetch(input, init); });
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hi' }];
  await assert.rejects(openai.chat.completions.create({ model: 'gpt-4.1', messages, temperature: 5 }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.type, 'invalid_request_error');
    assert.match(e.message, /temperature must be a number in \[0, 2\], got 5/);
    return true;
  });
  assert.equal(requests, 1, 'a bad request is not retried');
  const minimum = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object', properties: { n: { type: 'integer', minimum: 3 } } } } }];
  await assert.rejects(openai.chat.completions.create({ model: 'gpt-4.1', messages, tools: minimum, tool_choice: 'required', stream: true }), (e: unknown) => e instanceof OpenAI.BadRequestError && /keyword "minimum" is not supported/.test(e.message));
  await assert.rejects(openai.get('/assistants'), (e: unknown) => e instanceof OpenAI.NotFoundError && /Invalid URL \(GET \/v1\/assistants\)/.test(e.message));
  await assert.rejects(openai.embeddings.create({ model: 'text-embedding-3-small', input: 'Hi' }), (e: unknown) => e instanceof OpenAI.BadRequestError);
});

test('a break out of a stream, or the request signal, cancels the generation', async () => {
  const engine = await chatEngine(MODELS[0]!.file, MODELS[0]!.controls);
  const signals: AbortSignal[] = [];
  const fetch = openaiFetch(engine);
  const openai = hearthClient(engine, (input, init) => { if (init?.signal) signals.push(init.signal); return fetch(input, init); });
  // The end of the turn banned (<|im_end|> and </s>): 1000 tokens, far longer than the test waits.
  const controls = MODELS[0]!.controls;
  const eos = { [controls.indexOf('<|im_end|>')]: -100, [controls.length + 2]: -100 };
  const stream = await openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1000, seed: 1, logit_bias: eos, stream: true });
  let chunks = 0;
  for await (const _ of stream) if (++chunks === 3) break;
  assert.equal(chunks, 3);
  assert.ok(signals.at(-1)!.aborted, 'the break aborted the request');
  const controller = new AbortController();
  const pending = openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1000, seed: 1, logit_bias: eos }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 30);
  await assert.rejects(pending, (e: unknown) => e instanceof OpenAI.APIUserAbortError);
  // The engine is free again at once: the aborted generations ended (their 1000 tokens would take far longer).
  const next = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2, seed: 1 });
  assert.ok(next.usage!.completion_tokens <= 2);
});

test('completions, models and embeddings through the same fetch, equal to the engine\'s own answers', async () => {
  const engine = await chatEngine(MODELS[0]!.file, MODELS[0]!.controls);
  const openai = hearthClient(engine);
  const params = { model: 'gpt-3.5-turbo-instruct', prompt: 'Once upon a time', max_tokens: 6, seed: 4, temperature: 1 };
  const viaSdk = await openai.completions.create(params);
  const direct = await engine.completions.create(params);
  assert.equal(viaSdk.choices[0]!.text, direct.choices[0]!.text);
  let streamedText = '';
  for await (const c of await openai.completions.create({ ...params, stream: true })) streamedText += c.choices[0]?.text ?? '';
  assert.equal(streamedText, direct.choices[0]!.text);
  const models = [];
  for await (const m of openai.models.list()) models.push(m.id);
  assert.deepEqual(models, [engine.model.name]);
  assert.equal((await openai.models.retrieve(engine.model.name)).id, engine.model.name);
  await assert.rejects(openai.models.retrieve('gpt-4.1'), (e: unknown) => e instanceof OpenAI.NotFoundError);

  const embedder = await createEngine(writeGGUF(tinyEncoderSpec('bert', { seed: 2 })), { precision: 'f32' });
  engines.push(embedder);
  const input = ['the cat sat on the mat', 'Hello, world!'];
  const sdk = await hearthClient(embedder).embeddings.create({ model: 'text-embedding-3-small', input }); // the SDK asks for base64 and decodes it
  const own = await embedder.embeddings.create({ model: 'text-embedding-3-small', input });
  assert.deepEqual(sdk.data.map((d) => d.embedding), own.data.map((d) => Array.from(Float32Array.from(d.embedding))));
  assert.deepEqual(sdk.usage, own.usage);
});

test("the wire: server-sent events, one `data:` line per engine chunk, then `data: [DONE]`", async () => {
  const engine = await chatEngine(MODELS[0]!.file, MODELS[0]!.controls);
  const params = { model: 'gpt-4.1', messages: [{ role: 'user' as const, content: 'Hi' }], max_tokens: 6, seed: 7, stream: true as const, stream_options: { include_usage: true } };
  const response = await openaiFetch(engine)('https://hearth.local/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type')!, /^text\/event-stream/);
  const events = (await response.text()).split('\n\n');
  assert.equal(events.pop(), '', 'each event ends with a blank line');
  assert.equal(events.pop(), 'data: [DONE]');
  for (const e of events) assert.match(e, /^data: \{.*\}$/);
  const wire = events.map((e) => JSON.parse(e.slice('data: '.length)) as { id?: string; created?: number });
  const own: unknown[] = [];
  for await (const c of await engine.chat.completions.create(params)) own.push(c);
  // Ids and times are each response's own; the second request reuses the first one's KV cache.
  const unstamped = (c: unknown) => JSON.stringify({ ...(c as object), id: '', created: 0 }).replace(/"cached_tokens":\d+/, '"cached_tokens":0');
  assert.deepEqual(wire.map(unstamped), own.map(unstamped));
});
