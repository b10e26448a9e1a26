// What the tool-call tests share (test/tool-calls.test.ts in Node on WebGPU, test/wasm-tools-chromium.test.ts on
// the WebAssembly backend): the tools, the templates with the control tokens their call syntax uses, the check of
// a call against the tools' parameters and the reassembly of streamed deltas.
import assert from 'node:assert/strict';
import type { ChatCompletionChunk } from '../../src/index';
import { schemaProblems } from './json-schema-check';

export const TOOLS = [
  { type: 'function' as const, function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string', description: 'The city', maxLength: 12 }, unit: { type: 'string', description: 'Celsius or Fahrenheit', enum: ['c', 'f'] } }, required: ['city'], additionalProperties: false } } },
  { type: 'function' as const, function: { name: 'add', description: 'Adds two integers', parameters: { type: 'object', properties: { a: { type: 'integer', description: 'First' }, b: { type: 'integer', description: 'Second' } }, required: ['a', 'b'] } } },
];

export const ASK = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];

/** A template (test/fixtures/templates) with the control tokens its syntax uses (a tiny vocabulary holds them as tokens, first). */
export interface TemplateCase { file: string; controls: string[] }

/** Every template llama.cpp tests tool calls with; the Qwen 2.5 one first. */
export const TEMPLATE_CASES: TemplateCase[] = [
  { file: 'Qwen-Qwen2.5-7B-Instruct.jinja', controls: ['<|im_end|>', '<|im_start|>', '<tool_call>', '</tool_call>'] },
  { file: 'Qwen-Qwen3-0.6B.jinja', controls: ['<|im_end|>', '<|im_start|>', '<tool_call>', '</tool_call>', '<think>', '</think>'] },
  { file: 'NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja', controls: ['<|im_end|>', '<|im_start|>'] },
  { file: 'NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja', controls: ['<|im_end|>', '<|im_start|>', '<tool_call>', '</tool_call>'] },
  { file: 'meta-llama-Llama-3.1-8B-Instruct.jinja', controls: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>', '<|python_tag|>', '<|begin_of_text|>'] },
  { file: 'meta-llama-Llama-3.2-3B-Instruct.jinja', controls: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>', '<|python_tag|>', '<|begin_of_text|>'] },
  { file: 'meta-llama-Llama-3.3-70B-Instruct.jinja', controls: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>', '<|python_tag|>', '<|begin_of_text|>'] },
  { file: 'mistralai-Mistral-Nemo-Instruct-2407.jinja', controls: ['[TOOL_CALLS]', '[INST]', '[/INST]', '[AVAILABLE_TOOLS]', '[/AVAILABLE_TOOLS]', '[TOOL_RESULTS]', '[/TOOL_RESULTS]'] },
  { file: 'HuggingFaceTB-SmolLM3-3B.jinja', controls: ['<|im_end|>', '<|im_start|>', '<tool_call>', '</tool_call>'] },
  { file: 'ibm-granite-granite-3.3-2B-Instruct.jinja', controls: ['<|end_of_text|>', '<|start_of_role|>', '<|end_of_role|>', '<|tool_call|>'] },
  { file: 'ibm-granite-granite-4.0.jinja', controls: ['<|end_of_text|>', '<|start_of_role|>', '<|end_of_role|>', '<tool_call>', '</tool_call>'] },
  { file: 'meetkai-functionary-medium-v3.1.jinja', controls: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>', '<|python_tag|>', '<|begin_of_text|>'] },
  { file: 'meetkai-functionary-medium-v3.2.jinja', controls: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|begin_of_text|>'] },
  { file: 'google-gemma-2-2b-it.jinja', controls: ['<end_of_turn>', '<start_of_turn>'] },
  { file: 'microsoft-Phi-4-mini-instruct.jinja', controls: ['<|end|>', '<|system|>', '<|user|>', '<|assistant|>', '<|tool|>', '<|/tool|>', '<|endoftext|>'] },
];

/** The case of a template whose file name starts with `prefix`. */
export function templateCase(prefix: string): TemplateCase {
  const found = TEMPLATE_CASES.find((c) => c.file.startsWith(prefix));
  if (!found) throw new Error(`no tool-call template starts with ${prefix}`);
  return found;
}

/** A call names one of TOOLS and its arguments validate under that tool's parameters. */
export function checkCall(call: { type: string; function?: { name: string; arguments: string } }, what: string): void {
  assert.equal(call.type, 'function', what);
  const tool = TOOLS.find((t) => t.function.name === call.function!.name);
  assert.ok(tool, `${what}: ${call.function!.name} is not a tool`);
  const args = JSON.parse(call.function!.arguments) as unknown;
  assert.deepEqual(schemaProblems(args, tool.function.parameters), [], `${what}: ${call.function!.arguments}`);
}

/** The streamed deltas put together as the SDK's helpers do. */
export function reassemble(chunks: ChatCompletionChunk[]): { content: string; calls: { id: string; name: string; arguments: string }[]; finish: string | null } {
  let content = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  let finish: string | null = null;
  for (const c of chunks) {
    const choice = c.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    for (const d of choice.delta.tool_calls ?? []) {
      if (d.id !== undefined) { assert.equal(calls[d.index], undefined, 'id and name come once'); calls[d.index] = { id: d.id, name: d.function?.name ?? '', arguments: '' }; }
      calls[d.index]!.arguments += d.function?.arguments ?? '';
    }
    finish = choice.finish_reason ?? finish;
  }
  return { content, calls, finish };
}
