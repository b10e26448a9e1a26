// Tool calls through each template, against llama.cpp's own expectations (tests/test-chat.cpp, templates in
// test/fixtures/templates): the format detected from the template, the texts llama.cpp parses into calls,
// content-only replies, and reconstruction — an assistant message with a call, rendered by the template, reads
// back as the same call. Tool results render where each template puts them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ChatTemplate } from '../src/tokenizer/chat-template';
import { shapeToolMessages } from '../src/engine/tools/shape';
import type { ChatMessage } from '../src/tokenizer/chat-template';
import { detectToolFormat } from '../src/engine/tools/formats';
import { parseToolOutput } from '../src/engine/tools/parse';
import { fixturePath } from './helpers/fixtures';

/** llama.cpp's special_function_tool and message_assist_call. */
const TOOLS = [{ type: 'function' as const, function: { name: 'special_function', description: "I'm special", parameters: { type: 'object', properties: { arg1: { type: 'integer', description: 'The arg.' } }, required: ['arg1'] } } }];
const CALL = { id: '123456789', type: 'function' as const, function: { name: 'special_function', arguments: '{"arg1": 1}' } };
const NAMES = ['special_function', 'special_function_with_opt'];

const source = (file: string) => readFileSync(fixturePath('templates', file), 'utf8');

/** The template in `file`, and a render of messages with TOOLS shaped for it as the engine shapes them. */
function toolRenderer(file: string) {
  const template = new ChatTemplate(source(file), { bosToken: '<s>', eosToken: '</s>' });
  const render = (messages: ChatMessage[], addGenerationPrompt = false) => {
    const shaped = shapeToolMessages(source(file), messages, TOOLS);
    return template.render(shaped.messages, { tools: shaped.tools, addGenerationPrompt });
  };
  return { template, render };
}

/** Per template: its format, and texts llama.cpp's test-chat.cpp parses into message_assist_call. */
const EXPECTED: Record<string, { format: string; calls: string[] }> = {
  'Qwen-Qwen2.5-7B-Instruct.jinja': { format: 'hermes', calls: ['<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>'] },
  'Qwen-Qwen3-0.6B.jinja': { format: 'hermes', calls: ['<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>'] },
  'NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja': { format: 'hermes', calls: ['<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}</tool_call>'] },
  'NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja': { format: 'hermes', calls: ['<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>'] },
  'meta-llama-Llama-3.1-8B-Instruct.jinja': { format: 'llama3', calls: ['{"name": "special_function", "parameters": {"arg1": 1}}'] },
  'meta-llama-Llama-3.2-3B-Instruct.jinja': { format: 'llama3', calls: ['{"name": "special_function", "parameters": {"arg1": 1}}'] },
  'meta-llama-Llama-3.3-70B-Instruct.jinja': { format: 'llama3', calls: ['{"name": "special_function", "parameters": {"arg1": 1}}'] },
  'mistralai-Mistral-Nemo-Instruct-2407.jinja': { format: 'mistral', calls: ['[TOOL_CALLS][{"name": "special_function", "arguments": {"arg1": 1}, "id": "123456789"}]'] },
  // llama.cpp's copy (Unsloth's edit) lists no tools: the generic format.
  'HuggingFaceTB-SmolLM3-3B.jinja': { format: 'generic', calls: ['{"tool_calls": [{"name": "special_function", "arguments": {"arg1": 1}}]}'] },
  'ibm-granite-granite-3.3-2B-Instruct.jinja': { format: 'granite', calls: ['<|tool_call|>[{"name": "special_function", "arguments": {"arg1": 1}}]'] },
  'ibm-granite-granite-4.0.jinja': { format: 'hermes', calls: ['<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>'] },
  'meetkai-functionary-medium-v3.1.jinja': { format: 'functionary', calls: ['<function=special_function>{"arg1": 1}</function>'] },
  // Lists the system message's `tools` text in <|tool|>…<|/tool|>; calls and results take the generic format.
  'microsoft-Phi-4-mini-instruct.jinja': { format: 'generic', calls: ['{"tool_calls": [{"name": "special_function", "arguments": {"arg1": 1}}]}'] },
  'google-gemma-2-2b-it.jinja': { format: 'generic', calls: ['{"tool_calls": [{"name": "special_function", "arguments": {"arg1": 1}}]}'] },
};

const END = ['<|end|>', '<|im_end|>', '<|eot_id|>', '<|eom_id|>', '</s>', '<|end_of_text|>', '<end_of_turn>'];

for (const [file, expected] of Object.entries(EXPECTED)) {
  test(`${file}: format ${expected.format}; llama.cpp's texts parse to its calls; content-only replies stay content; a rendered call reads back`, () => {
    const format = detectToolFormat(source(file));
    assert.equal(format.name, expected.format);
    for (const text of expected.calls) {
      const parsed = parseToolOutput(format, text, NAMES, true);
      assert.deepEqual(parsed.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['special_function', { arg1: 1 }]], text);
      assert.equal(parsed.content, '');
      const withContent = parseToolOutput(format, `Hello, world!\nWhat's up?${text}`, NAMES, true);
      assert.equal(withContent.content, "Hello, world!\nWhat's up?");
      assert.equal(withContent.calls.length, 1);
    }
    const plain = parseToolOutput(format, "Hello, world!\nWhat's up?", NAMES, true);
    assert.deepEqual(plain, { content: "Hello, world!\nWhat's up?", calls: [], ok: true });

    // Reconstruction: the template's rendering of the call is what the parser reads as that call.
    const { render } = toolRenderer(file);
    const user = { role: 'user', content: 'Hey' };
    const prefix = render([user], true);
    const full = render([user, { role: 'assistant', content: '', tool_calls: [CALL] }]);
    assert.ok(full.startsWith(prefix.trimEnd()), `${file}: the generation prompt is not a prefix of the rendered turn`);
    let turn = full.slice(prefix.trimEnd().length);
    const end = Math.min(...END.map((e) => turn.indexOf(e)).filter((i) => i >= 0));
    if (Number.isFinite(end)) turn = turn.slice(0, end);
    const back = parseToolOutput(format, turn.trim(), NAMES, true);
    assert.deepEqual(back.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['special_function', { arg1: 1 }]], JSON.stringify(turn));

    // The tool's result is rendered, after the call.
    const withResult = render([user, { role: 'assistant', content: '', tool_calls: [CALL] }, { role: 'tool', content: 'HearthResult', tool_call_id: CALL.id, name: 'special_function' }], true);
    assert.ok(withResult.indexOf('HearthResult') > withResult.indexOf('special_function", '), withResult.slice(-300));
  });
}

test("parallel calls (llama.cpp's Reka/Hermes case) and Mistral's list parse in order; a prefix parses as far as it goes", () => {
  const hermes = detectToolFormat(source('Qwen-Qwen2.5-7B-Instruct.jinja'));
  const two = '<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>\n<tool_call>\n{"name": "special_function_with_opt", "arguments": {"arg1": 1, "arg2": 2}}\n</tool_call>';
  assert.deepEqual(parseToolOutput(hermes, two, NAMES, true).calls.map((c) => [c.name, c.arguments]), [['special_function', '{"arg1": 1}'], ['special_function_with_opt', '{"arg1": 1, "arg2": 2}']]);
  // llama.cpp's message_assist_call_cutoff_args: a partial call while streaming.
  const partial = parseToolOutput(hermes, '<tool_call>\n{"name": "special_function", "arguments": {"arg', NAMES, false);
  assert.deepEqual(partial.calls, [{ name: 'special_function', arguments: '{"arg', complete: false }]);
  assert.deepEqual(parseToolOutput(hermes, 'Hi <tool_ca', NAMES, false).content, 'Hi ', 'a possible start of the opener is held back');
  const mistral = detectToolFormat(source('mistralai-Mistral-Nemo-Instruct-2407.jinja'));
  const list = '[TOOL_CALLS][{"name": "special_function", "arguments": {"arg1": 1}, "id": "123456789"}, {"name": "special_function_with_opt", "arguments": {"arg1": 1, "arg2": 2}, "id": "abcdefghi"}]';
  assert.deepEqual(parseToolOutput(mistral, list, NAMES, true).calls.map((c) => c.name), ['special_function', 'special_function_with_opt']);
});

test("Functionary v3.2 (its tuple loop renders): llama.cpp's texts parse — 'all' is content, '>>>name' a call; a rendered call reads back", () => {
  const file = 'meetkai-functionary-medium-v3.2.jinja';
  const format = detectToolFormat(source(file));
  assert.equal(format.name, 'functionary-v3.2');
  // tests/test-chat.cpp: what the model writes after the generation prompt's '>>>'.
  assert.deepEqual(parseToolOutput(format, "all\nHello, world!\nWhat's up?", NAMES, true), { content: "Hello, world!\nWhat's up?", calls: [], ok: true });
  const call = parseToolOutput(format, 'special_function\n{"arg1": 1}', NAMES, true);
  assert.deepEqual(call.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['special_function', { arg1: 1 }]]);
  assert.equal(call.content, '');
  const both = parseToolOutput(format, 'all\nLet me see.>>>special_function\n{"arg1": 1}>>>special_function_with_opt\n{"arg1": 1, "arg2": 2}', NAMES, true);
  assert.equal(both.content, 'Let me see.');
  assert.deepEqual(both.calls.map((c) => c.name), ['special_function', 'special_function_with_opt']);
  assert.deepEqual(parseToolOutput(format, 'al', NAMES, false), { content: '', calls: [], ok: true }, "a possible start of 'all' is held back");

  const { template, render } = toolRenderer(file);
  const user = { role: 'user', content: 'Hey' };
  const prefix = render([user], true);
  assert.ok(prefix.endsWith('<|start_header_id|>assistant<|end_header_id|>\n\n>>>'), "llama.cpp's generation prompt");
  assert.match(prefix, /\/\/ I'm special\ntype special_function = \(_: \{\n\/\/ The arg\.\narg1: number,\n\}\) => any;/);
  // The loop over a list of tuples, `for field, field_name in [("maximum", "Maximum"), …]`, as Python runs it.
  const bounded = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object', properties: { n: { type: 'integer', description: 'N', maximum: 5, minimum: 1 } } } } }];
  assert.match(template.render([user], { tools: bounded, addGenerationPrompt: true }), /\/\/ N\. Maximum=5 Minimum=1\nn\?: number,/);
  const full = render([user, { role: 'assistant', content: '', tool_calls: [CALL] }, { role: 'tool', content: 'HearthResult', tool_call_id: CALL.id, name: 'special_function' }]);
  assert.ok(full.startsWith(prefix));
  const turn = full.slice(prefix.length, full.indexOf('<|eot_id|>', prefix.length));
  assert.equal(turn, 'special_function\n{"arg1": 1}', 'the arguments are rendered as the JSON text the model writes');
  assert.deepEqual(parseToolOutput(format, turn, NAMES, true).calls.map((c) => c.name), ['special_function']);
  assert.ok(full.indexOf('HearthResult') > full.indexOf(turn));
});

test('tools whose parameters lack type or description render as Python and llama.cpp render them (undefined is empty), in every template', () => {
  const bare = [
    { type: 'function' as const, function: { name: 'bare', parameters: { type: 'object', properties: { any: {}, text: { type: 'string' }, noted: { description: 'Noted' } } } } },
    { type: 'function' as const, function: { name: 'no_parameters' } },
  ];
  for (const file of [...Object.keys(EXPECTED), 'meetkai-functionary-medium-v3.2.jinja']) {
    const template = new ChatTemplate(source(file), { bosToken: '<s>', eosToken: '</s>' });
    const shaped = shapeToolMessages(source(file), [{ role: 'user', content: 'Hey' }], bare);
    const prompt = template.render(shaped.messages, { tools: shaped.tools, addGenerationPrompt: true });
    assert.match(prompt, /bare/, file);
    assert.match(prompt, /no_parameters/, file);
  }
  // Hermes 2 Pro writes a signature from the types: an untyped parameter is Any, as in Python.
  const hermes = new ChatTemplate(source('NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja'));
  const prompt = hermes.render([{ role: 'user', content: 'Hey' }], { tools: bare, addGenerationPrompt: true });
  assert.match(prompt, /"description": "bare\(any: Any, text: str, noted: Any\) - \n\n/);
  assert.match(prompt, /noted\(Any\): Noted/);
  assert.match(prompt, /"name": "no_parameters", "description": "no_parameters\(\) - \n\n", "parameters": \{\}/);
});

test("Phi-4-mini: its template renders Hugging Face's output for a system message with tools; Hearth lists the tools there", () => {
  const file = 'microsoft-Phi-4-mini-instruct.jinja';
  const template = new ChatTemplate(source(file), { eosToken: '<|endoftext|>' });
  // microsoft/onnxruntime-genai's test of this template: "From HuggingFace Python output for 'microsoft/Phi-4-mini-instruct'".
  const listed = '[{"name": "calculate_sum", "description": "Calculate the sum of two numbers.", "parameters": {"a": {"type": "int"}, "b": {"type": "int"}}}]';
  const messages = [
    { role: 'system', content: 'System message', tools: listed } as ChatMessage,
    { role: 'user', content: 'Hello, can you call some tools for me?' },
    { role: 'assistant', content: 'Sure, I can calculate the sum for you!' },
  ];
  assert.equal(template.render(messages, { addGenerationPrompt: true }), `<|system|>System message<|tool|>${listed}<|/tool|><|end|><|user|>Hello, can you call some tools for me?<|end|><|assistant|>Sure, I can calculate the sum for you!<|end|><|assistant|>`);
  const shaped = shapeToolMessages(source(file), [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hey' }], TOOLS);
  assert.equal(shaped.tools, undefined, 'the template reads no tools variable');
  const prompt = template.render(shaped.messages, { addGenerationPrompt: true });
  assert.ok(prompt.startsWith('<|system|>Be brief.\n\nTo call tools, reply with only a JSON object'), prompt);
  assert.ok(prompt.includes(`<|tool|>[{"name": "special_function", "description": "I'm special", "parameters": {"type": "object", "properties": {"arg1": {"type": "integer", "description": "The arg."}}, "required": ["arg1"]}}]<|/tool|><|end|><|user|>Hey<|end|><|assistant|>`), prompt);
});
