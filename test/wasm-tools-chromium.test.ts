// Tool calls on the WebAssembly backend (llama.cpp through wllama) in a headless Chromium without WebGPU: the
// grammar the WebGPU path builds for a turn's calls goes to llama.cpp as GBNF (src/wasm/gbnf.ts), so tiny
// random-weight models with the templates of each call syntax write calls whose names are tools and whose
// arguments validate under the tool's parameters, for every seed, under tool_choice 'required' and a named
// function; 'none' gives no call; under 'auto' the model writes text, or a call once it opens one; streamed
// deltas reassemble to the non-streamed message; bad tool definitions give the errors they give on WebGPU.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openEngineApiPage, type EngineApiPage, type TestPage } from './helpers/browser';
import { fixturePath } from './helpers/fixtures';
import { tinyChatModel, tinyChatTokens } from './helpers/tiny-chat-model';
import { ASK, checkCall, reassemble, templateCase, TOOLS } from './helpers/tool-calls';
import { createEngine, type ChatCompletion, type ChatCompletionChunk } from '../src/index';
import type * as Hearth from '../src/index';

declare global {
  interface Window { hearth: typeof Hearth; apiTest: typeof import('./browser/engine-api-page').apiTest }
}

const SEEDS = 3;
/** Every printable ASCII character a token: llama.cpp cannot tokenize what a SentencePiece vocabulary lacks (no byte tokens). */
const EXTRA = String.fromCharCode(...Array.from({ length: 0x7e - 0x20 }, (_, i) => 0x21 + i)) + '\t';
/** One template per call syntax, with the control tokens of test/tool-calls.test.ts (first in the tiny vocabulary). */
const CASES = ['Qwen-Qwen2.5-7B-Instruct.jinja', 'meta-llama-Llama-3.1-8B-Instruct.jinja', 'mistralai-Mistral-Nemo-Instruct-2407.jinja',
  'ibm-granite-granite-3.3-2B-Instruct.jinja', 'meetkai-functionary-medium-v3.1.jinja', 'meetkai-functionary-medium-v3.2.jinja',
  'google-gemma-2-2b-it.jinja'].map(templateCase);
const QWEN = CASES[0]!;
/** Token id of '<tool_call>' in the Qwen case's tiny vocabulary (control tokens come first). */
const TOOL_CALL_TOKEN = QWEN.controls.indexOf('<tool_call>');

let engineApi: EngineApiPage;
let tp: TestPage;

before(async () => {
  engineApi = await openEngineApiPage({ webgpu: false });
  tp = engineApi.tp;
});

after(() => engineApi?.close());

interface Run { message: ChatCompletion['choices'][0]['message']; finish: string; chunks: ChatCompletionChunk[] }

/** Runs `requests` (chat.completions parameters, each non-streamed then streamed) on a wasm engine of the template. */
async function onWasm(file: string, controls: string[], requests: Record<string, unknown>[], userDefined: string[] = []): Promise<Run[]> {
  const template = readFileSync(fixturePath('templates', file), 'utf8');
  return tp.page.evaluate(async ({ template, controls, extra, userDefined, requests }) => {
    const model = window.apiTest.tinyChatModel(template, controls, { extraChars: extra, contextLength: 8192, userDefined });
    const engine = await window.hearth.createEngine(model, { backend: 'wasm', contextLength: 8192 });
    const runs = [];
    try {
      for (const params of requests) {
        const r = (await engine.chat.completions.create({ ...params, stream: false } as never)) as unknown as ChatCompletion;
        const chunks = [];
        for await (const c of await engine.chat.completions.create({ ...params, stream: true } as never)) chunks.push(c);
        runs.push({ message: r.choices[0]!.message, finish: r.choices[0]!.finish_reason, chunks });
      }
    } finally {
      await engine.dispose();
    }
    return runs;
  }, { template, controls, extra: EXTRA, userDefined, requests }).catch((e: unknown) => { throw new Error(`${String(e)}\n${tp.logText()}`); }) as Promise<Run[]>;
}

/** The streamed run reassembles to the non-streamed one (same seed: llama.cpp samples the same tokens). */
function checkStream(run: Run, what: string): void {
  const streamed = reassemble(run.chunks);
  assert.equal(streamed.finish, run.finish, what);
  const calls = (run.message.tool_calls ?? []).map((c) => (c.type === 'function' ? [c.function.name, c.function.arguments] : []));
  assert.deepEqual(streamed.calls.map((c) => [c.name, c.arguments]), calls, `${what}: streamed deltas reassemble to the message's calls`);
  assert.equal(streamed.content || null, run.message.content || null, `${what}: streamed content`);
}

for (const { file, controls } of CASES) {
  test(`wasm, ${file}: 'required' gives schema-valid calls for every seed; streamed deltas reassemble to them`, { timeout: 300_000 }, async () => {
    const requests = [];
    // One call: llama.cpp cannot close the output within max_tokens as the WebGPU grammar does, and a random
    // model may go on adding parallel calls (they have a test of their own below).
    for (let seed = 0; seed < SEEDS; seed++) requests.push({ messages: ASK, tools: TOOLS, tool_choice: 'required', parallel_tool_calls: false, seed, temperature: 1, max_tokens: 400 });
    const runs = await onWasm(file, controls, requests);
    runs.forEach((run, seed) => {
      assert.equal(run.finish, 'tool_calls', `seed ${seed}: ${JSON.stringify(run.message)}`);
      const calls = run.message.tool_calls ?? [];
      assert.equal(calls.length, 1);
      for (const c of calls) checkCall(c, `seed ${seed}`);
      checkStream(run, `seed ${seed}`);
    });
  });
}

test("wasm, Mistral: parallel calls ([TOOL_CALLS][…, …]) each validate and carry the 9-character ids its template needs", { timeout: 300_000 }, async () => {
  const mistral = templateCase('mistralai');
  const requests = [];
  for (let seed = 0; seed < SEEDS; seed++) requests.push({ messages: ASK, tools: TOOLS, tool_choice: 'required', seed, temperature: 1, max_tokens: 1500 });
  const runs = await onWasm(mistral.file, mistral.controls, requests);
  let most = 0;
  runs.forEach((run, seed) => {
    assert.equal(run.finish, 'tool_calls', `seed ${seed}: ${JSON.stringify(run.message)}`);
    const calls = run.message.tool_calls ?? [];
    most = Math.max(most, calls.length);
    for (const c of calls) { checkCall(c, `seed ${seed}`); assert.match(c.id, /^[A-Za-z0-9]{9}$/); }
    checkStream(run, `seed ${seed}`);
  });
  assert.ok(most > 1, 'some seed made more than one call');
});

test("wasm: a named tool_choice calls that tool with valid arguments; parallel_tool_calls: false one call; 'none' no call", { timeout: 300_000 }, async () => {
  const requests = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    requests.push({ messages: ASK, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'add' } }, parallel_tool_calls: false, seed, temperature: 1, max_tokens: 200 });
    requests.push({ messages: ASK, tools: TOOLS, tool_choice: 'none', seed, temperature: 1, max_tokens: 8, logit_bias: { [TOOL_CALL_TOKEN]: 100 } });
  }
  const runs = await onWasm(QWEN.file, QWEN.controls, requests);
  for (let seed = 0; seed < SEEDS; seed++) {
    const named = runs[2 * seed]!;
    assert.equal(named.finish, 'tool_calls', `seed ${seed}: ${JSON.stringify(named.message)}`);
    assert.equal(named.message.tool_calls!.length, 1, 'parallel_tool_calls: false allows one call');
    const call = named.message.tool_calls![0]!;
    assert.equal(call.type === 'function' && call.function.name, 'add');
    checkCall(call, `seed ${seed}`);
    assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
    checkStream(named, `named, seed ${seed}`);
    // 'none', even with the call opener pushed to the top: no grammar, no call read back.
    const none = runs[2 * seed + 1]!;
    assert.equal(none.message.tool_calls, undefined);
    assert.notEqual(none.finish, 'tool_calls');
    assert.equal(typeof none.message.content, 'string');
    checkStream(none, `none, seed ${seed}`);
  }
});

test("wasm 'auto': the model writes text, or once it opens a call the grammar takes over (valid for every seed)", { timeout: 300_000 }, async () => {
  const requests = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    requests.push({ messages: ASK, tools: TOOLS, seed, temperature: 1, max_tokens: 12, logit_bias: { [TOOL_CALL_TOKEN]: -100 } });
    requests.push({ messages: ASK, tools: TOOLS, seed, temperature: 1, max_tokens: 200, logit_bias: { [TOOL_CALL_TOKEN]: 100 }, parallel_tool_calls: false });
  }
  const runs = await onWasm(QWEN.file, QWEN.controls, requests);
  for (let seed = 0; seed < SEEDS; seed++) {
    const free = runs[2 * seed]!;
    assert.equal(free.message.tool_calls, undefined, 'no call opened: text');
    assert.notEqual(free.finish, 'tool_calls');
    assert.equal(typeof free.message.content, 'string');
    checkStream(free, `free, seed ${seed}`);
    const call = runs[2 * seed + 1]!;
    assert.equal(call.finish, 'tool_calls', JSON.stringify(call.message));
    assert.equal(call.message.tool_calls!.length, 1, 'parallel_tool_calls: false allows one call');
    checkCall(call.message.tool_calls![0]!, `seed ${seed}`);
    checkStream(call, `auto call, seed ${seed}`);
  }
});

test("wasm 'auto' with a trigger that is text ('<tool_call>' an added token, as in Qwen's real vocabulary): the call is constrained from there", { timeout: 300_000 }, async () => {
  const controls = ['<|im_end|>', '<|im_start|>'];
  const userDefined = ['<tool_call>', '</tool_call>'];
  const opener = tinyChatTokens(controls, { extraChars: EXTRA, userDefined }).indexOf('<tool_call>');
  const requests = [];
  for (let seed = 0; seed < SEEDS; seed++) requests.push({ messages: ASK, tools: TOOLS, seed, temperature: 1, max_tokens: 200, logit_bias: { [opener]: 100 }, parallel_tool_calls: false });
  const runs = await onWasm(QWEN.file, controls, requests, userDefined);
  runs.forEach((run, seed) => {
    assert.equal(run.finish, 'tool_calls', JSON.stringify(run.message));
    assert.equal(run.message.tool_calls!.length, 1);
    checkCall(run.message.tool_calls![0]!, `seed ${seed}`);
    checkStream(run, `seed ${seed}`);
  });
});

test('wasm: a full round trip (call, tool result, answer) through the Qwen and Mistral templates', { timeout: 300_000 }, async () => {
  const cases = [QWEN, templateCase('mistralai')].map((c) => ({ ...c, template: readFileSync(fixturePath('templates', c.file), 'utf8') }));
  const got = await tp.page.evaluate(async ({ cases, extra, tools, ask }) => {
    const out = [];
    for (const c of cases) {
      const engine = await window.hearth.createEngine(window.apiTest.tinyChatModel(c.template, c.controls, { extraChars: extra, contextLength: 8192 }), { backend: 'wasm', contextLength: 8192 });
      const first = await engine.chat.completions.create({ messages: ask, tools, tool_choice: 'required', parallel_tool_calls: false, seed: 0, temperature: 1, max_tokens: 400 });
      const message = first.choices[0]!.message;
      const call = message.tool_calls![0]!;
      const round = [...ask, message, { role: 'tool' as const, tool_call_id: call.id, content: 'TwentyOneDegrees' }];
      const answer = await engine.chat.completions.create({ messages: round, tools, seed: 0, temperature: 1, max_tokens: 8 });
      // The same conversation on engine.chat's side (its messages have text content): toolChat shapes it for the template.
      const asChat = [...ask, { role: 'assistant' as const, content: '', tool_calls: message.tool_calls as never }, { role: 'tool' as const, tool_call_id: call.id, content: 'TwentyOneDegrees' }];
      const prompt = await engine.applyChatTemplate(window.hearth.toolChat(engine.model, asChat, tools, 'none').messages, { tools, addGenerationPrompt: true });
      out.push({ call, finish: answer.choices[0]!.finish_reason, usage: answer.usage!, prompt });
      await engine.dispose();
    }
    return out;
  }, { cases, extra: EXTRA, tools: TOOLS, ask: ASK }).catch((e: unknown) => { throw new Error(`${String(e)}\n${tp.logText()}`); });
  for (const [i, r] of got.entries()) {
    checkCall(r.call, cases[i]!.file);
    assert.ok(['stop', 'length', 'tool_calls'].includes(r.finish), r.finish);
    assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
    assert.match(r.prompt, /TwentyOneDegrees/, 'the tool result is in the prompt');
    assert.ok(r.call.type === 'function' && r.prompt.includes(r.call.function.name), 'and the call');
  }
});

test('wasm: invalid tool definitions give the typed errors they give on WebGPU', { timeout: 300_000 }, async () => {
  const bad: Record<string, unknown>[] = [
    { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { n: { type: 'integer', minimum: 3 } } } } }], tool_choice: 'required' },
    { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { s: { type: 'string', pattern: '^a' } } } } }] },
    { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', required: ['x'] } } }], tool_choice: 'required' },
    { tools: [{ type: 'function', function: { name: 'bad name' } }] },
    { tools: [{ type: 'function', function: { name: 'f' } }, { type: 'function', function: { name: 'f' } }] },
    { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } },
    { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'sometimes' },
    { tools: [{ type: 'function', function: { name: 'f' } }], parallel_tool_calls: 'yes' },
    { tools: [{ type: 'retrieval' }] },
  ];
  const template = readFileSync(fixturePath('templates', QWEN.file), 'utf8');
  const errors = await tp.page.evaluate(async ({ template, controls, extra, bad, ask }) => {
    const model = window.apiTest.tinyChatModel(template, controls, { extraChars: extra, contextLength: 8192 });
    const engine = await window.hearth.createEngine(model, { backend: 'wasm', contextLength: 8192 });
    const out = [];
    for (const b of bad) out.push(await engine.chat.completions.create({ messages: ask, max_tokens: 4, ...b } as never).then(() => null, (e: Error) => ({ name: e.name, message: e.message })));
    await engine.dispose();
    return out;
  }, { template, controls: QWEN.controls, extra: EXTRA, bad, ask: ASK }).catch((e: unknown) => { throw new Error(`${String(e)}\n${tp.logText()}`); });
  const webgpu = await createEngine(tinyChatModel(template, QWEN.controls, { extraChars: EXTRA, contextLength: 8192 }), { precision: 'f32', contextLength: 8192 });
  try {
    for (const [i, b] of bad.entries()) {
      const expected = await webgpu.chat.completions.create({ messages: ASK, max_tokens: 4, ...b } as never).then(() => null, (e: Error) => ({ name: e.name, message: e.message }));
      assert.ok(expected, `WebGPU refuses ${JSON.stringify(b)}`);
      assert.deepEqual(errors[i], expected, `the same error on wasm for ${JSON.stringify(b)}`);
    }
  } finally {
    await webgpu.dispose();
  }
});
