// The OpenAI endpoints' parameters, as strict as OpenAI's: errors name the parameter the caller wrote and
// echo its value as given ("10" stays a string, NaN stays NaN); tool_choice without tools, json_schema
// without a schema, more than 4 stop strings, penalties outside [-2, 2] and unknown parameters are refused;
// the SDK's parameters Hearth cannot honour are refused by name, the ones it can are accepted. (That every
// SDK parameter is one or the other is checked at compile time: test/helpers/openai-sdk-types.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, InvalidRequestError, type ChatCompletion, type Completion, type Engine } from '../src/index';
import { fixturePath } from './helpers/fixtures';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';

let engine: Engine;
let chatEngine: Engine;
before(async () => {
  engine = await createEngine(fixturePath('models/stories260K/stories260K.gguf'), { contextLength: 64, precision: 'f32' });
  chatEngine = await createEngine(tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>']), { contextLength: 64, precision: 'f32' });
});
after(async () => { await engine?.dispose(); await chatEngine?.dispose(); });

const messages = [{ role: 'user' as const, content: 'Hi' }];
const chat = (p: object) => engine.chat.completions.create({ messages, max_tokens: 1, ...p } as never);
const complete = (p: object) => engine.completions.create({ prompt: 'Once', max_tokens: 1, ...p } as never);
/** Rejects with an InvalidRequestError whose message matches `pattern`. */
const refused = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof InvalidRequestError, String(e));
  assert.match(e.message, pattern);
  return true;
};

test('errors name the parameter as the caller wrote it and echo the value as given', async () => {
  await assert.rejects(complete({ max_tokens: '10' }), refused(/^max_tokens must be an integer >= 0 .*, got "10"$/));
  await assert.rejects(chat({ max_completion_tokens: -1 }), refused(/^max_completion_tokens must be .*, got -1$/));
  await assert.rejects(chat({ max_tokens: 2.5 }), refused(/^max_tokens must be .*, got 2\.5$/));
  await assert.rejects(chat({ top_p: NaN }), refused(/^top_p must be .*, got NaN$/));
  await assert.rejects(chat({ top_p: '0.5' }), refused(/^top_p must be .*, got "0\.5"$/));
  await assert.rejects(chat({ temperature: NaN }), refused(/^temperature must be a number in \[0, 2\], got NaN$/));
  await assert.rejects(chat({ seed: '5' }), refused(/^seed must be an integer, got "5"$/));
  await assert.rejects(chat({ logit_bias: { 5: NaN } }), refused(/^logit_bias\[5\] must be .*, got NaN$/));
  await assert.rejects(chat({ logprobs: true, top_logprobs: 21 }), refused(/^top_logprobs must be an integer in \[0, 20\], got 21$/));
  await assert.rejects(complete({ logprobs: 21 }), refused(/^logprobs must be an integer in \[0, 20\], got 21$/));
  await assert.rejects(chat({ stop: [''] }), refused(/^stop must be .*, got \[""\]$/));
  // The engine's own API names its own options.
  await assert.rejects(engine.generate('Hi', { topP: 2 }).result, refused(/^topP must be .*, got 2$/));
  await assert.rejects(engine.generate('Hi', { maxTokens: '3' as never }).result, refused(/^maxTokens must be .*, got "3"$/));
});

test('refused as OpenAI refuses them: tool_choice without tools, json_schema without schema, > 4 stops, penalties outside [-2, 2], unknown names', async () => {
  await assert.rejects(chat({ tool_choice: 'auto' }), refused(/^tool_choice is only allowed when tools are specified/));
  await assert.rejects(chat({ tools: [], tool_choice: 'none' }), refused(/^tool_choice is only allowed when tools are specified/));
  await assert.rejects(chat({ function_call: 'auto' }), refused(/^function_call is only allowed when functions are specified/));
  await assert.rejects(chat({ parallel_tool_calls: true }), refused(/^parallel_tool_calls is only allowed when tools are specified/));
  await assert.rejects(chat({ functions: [{ name: 'f' }] }), refused(/^functions \(deprecated\) are not supported: pass them as tools/));
  const f = { type: 'function', function: { name: 'f' } };
  await assert.rejects(chat({ tools: [{ type: 'function', function: { name: 'a b' } }] }), refused(/^tools\[0\]\.function\.name must be 1-64 letters, digits, _ or -, got "a b"$/));
  await assert.rejects(chat({ tools: [{ type: 'custom', custom: { name: 'f' } }] }), refused(/^tools\[0\] must be \{ type: 'function'/));
  await assert.rejects(chat({ tools: [f, f] }), refused(/^tools: two tools are named "f"/));
  await assert.rejects(chat({ tools: [f], tool_choice: { type: 'function', function: { name: 'g' } } }), refused(/^tool_choice names function "g", which is not among tools \(f\)$/));
  await assert.rejects(chat({ tools: [f], tool_choice: 'sometimes' }), refused(/^tool_choice must be 'none', 'auto', 'required' or/));
  await assert.rejects(chat({ tools: [f], parallel_tool_calls: 'no' }), refused(/^parallel_tool_calls must be true or false, got "no"$/));
  await assert.rejects(chat({ tools: [f], response_format: { type: 'json_object' } }), refused(/^response_format "json_object" with tools is not supported/));
  await assert.rejects(chat({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }), refused(/^response_format\.json_schema\.schema is required .*got undefined/));
  await assert.rejects(chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), refused(/^stop takes at most 4 sequences, got 5$/));
  await assert.rejects(complete({ stop: ['a', 'b', 'c', 'd', 'e'] }), refused(/^stop takes at most 4/));
  await assert.rejects(chat({ frequency_penalty: 2.5 }), refused(/^frequency_penalty must be a number in \[-2, 2\], got 2\.5$/));
  await assert.rejects(complete({ presence_penalty: -3 }), refused(/^presence_penalty must be a number in \[-2, 2\], got -3$/));
  await assert.rejects(chat({ temperature: 2.5 }), refused(/^temperature must be a number in \[0, 2\], got 2\.5$/));
  await assert.rejects(chat({ maxTokens: 5 }), refused(/^chat\.completions\.create: unknown parameter 'maxTokens' \(did you mean 'max_tokens'\?\)$/));
  await assert.rejects(chat({ max_new_tokens: 5, foo: 1 }), refused(/unknown parameters 'max_new_tokens', 'foo'$/));
  await assert.rejects(complete({ response_format: { type: 'json_object' } }), refused(/^completions\.create: unknown parameter 'response_format'$/));
  await assert.rejects(complete({ echo: true, logprobs: 1 }), refused(/^echo with logprobs is not supported/));
  await assert.rejects(chat({ stream_options: { include_usage: true } }), refused(/^stream_options is only allowed with stream: true$/));
  await assert.rejects(chat({ stream: true, stream_options: { include_obfuscation: true } }), refused(/include_obfuscation is not supported/));
});

test('the SDK\'s parameters Hearth cannot honour are refused by name; the ones it honours are accepted', async () => {
  const unsupported: [object, RegExp][] = [
    [{ audio: { voice: 'alloy', format: 'mp3' } }, /^audio is not supported/],
    [{ prediction: { type: 'content', content: 'Hello' } }, /^prediction is not supported/],
    [{ reasoning_effort: 'low' }, /^reasoning_effort is not supported/],
    [{ verbosity: 'low' }, /^verbosity is not supported/],
    [{ web_search_options: {} }, /^web_search_options is not supported/],
    [{ moderation: {} }, /^moderation is not supported/],
    [{ prompt_cache_options: {} }, /^prompt_cache_options is not supported/],
    [{ store: 'yes' }, /^store "yes" is not supported \(only true or false\)/],
    [{ service_tier: 'flex' }, /^service_tier "flex" is not supported \(only 'auto'\)/],
    [{ modalities: ['text', 'audio'] }, /^modalities \["text","audio"\] is not supported/],
    [{ prompt_cache_retention: '24h' }, /^prompt_cache_retention "24h" is not supported/],
    [{ n: 2 }, /^n must be 1/],
  ];
  for (const [params, pattern] of unsupported) await assert.rejects(chat(params), refused(pattern), JSON.stringify(params));
  await assert.rejects(complete({ best_of: 3 }), refused(/^best_of must be 1, got 3$/));
  await assert.rejects(complete({ suffix: 'end' }), refused(/^suffix is not supported/));

  const faithful = {
    model: 'anything', user: 'u1', safety_identifier: 's', metadata: { k: 'v' }, prompt_cache_key: 'c', store: false, service_tier: 'auto',
    modalities: ['text'], prompt_cache_retention: 'in_memory', tools: [], audio: null, reasoning_effort: null, n: 1,
    stop: ['a', 'b', 'c', 'd'], frequency_penalty: 2, presence_penalty: -2, temperature: 2, seed: 1,
  };
  const c = await chatEngine.chat.completions.create({ messages, max_tokens: 1, ...faithful } as never) as unknown as ChatCompletion;
  assert.equal(c.object, 'chat.completion');
  const t = await complete({ model: 'x', user: 'u', best_of: 1, echo: false, n: 1, stop: ['a', 'b', 'c', 'd'], temperature: 0 }) as unknown as Completion;
  assert.equal(t.object, 'text_completion');
});
