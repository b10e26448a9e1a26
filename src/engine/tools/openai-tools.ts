// OpenAI's tool-calling parameters and results: `tools`, `tool_choice`, `parallel_tool_calls` checked as OpenAI
// checks them, turned into the decoding spec (grammar.ts) for the template's format, and the generated text read
// back into `message.tool_calls` (non-streamed) or tool_call deltas (streamed) that reassemble to the same calls.
import { InvalidRequestError } from '../../errors';
import { shown } from '../options';
import type { ChatCompletionMessageToolCall, ChatCompletionChunkToolCall, FinishReason } from '../openai/types';
import { toolCallSpec, type ChatTool, type ToolCallSpec, type ToolFormat } from './formats';
import { parseToolOutput, type ParsedCall } from './parse';

export interface ToolRequest {
  tools: ChatTool[];
  /** The tools the model may call under the request's tool_choice (none under 'none'). */
  callable: ChatTool[];
  spec: ToolCallSpec | null;
}

/** OpenAI's rule for function names. */
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Checks tools / tool_choice / parallel_tool_calls; null when there are no tools. */
export function toolRequest(p: { tools?: unknown; tool_choice?: unknown; parallel_tool_calls?: unknown }, format: ToolFormat): ToolRequest | null {
  if (!Array.isArray(p.tools) || p.tools.length === 0) return null;
  const tools = p.tools.map((t, i) => checkTool(t, i));
  const names = tools.map((t) => t.function.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new InvalidRequestError(`tools: two tools are named ${JSON.stringify(dup)}; names must be unique`);
  if (p.parallel_tool_calls != null && typeof p.parallel_tool_calls !== 'boolean') throw new InvalidRequestError(`parallel_tool_calls must be true or false, got ${shown(p.parallel_tool_calls)}`);
  const choice = p.tool_choice ?? 'auto';
  let callable: ChatTool[];
  let mode: 'auto' | 'required' = 'required';
  if (choice === 'none') callable = [];
  else if (choice === 'auto') { callable = tools; mode = 'auto'; } else if (choice === 'required') callable = tools;
  else if (typeof choice === 'object' && (choice as { type?: unknown }).type === 'function') {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    const tool = tools.find((t) => t.function.name === name);
    if (!tool) throw new InvalidRequestError(`tool_choice names function ${shown(name)}, which is not among tools (${names.join(', ')})`);
    callable = [tool];
  } else {
    throw new InvalidRequestError(`tool_choice must be 'none', 'auto', 'required' or { type: 'function', function: { name } }, got ${shown(choice)}`);
  }
  const parallel = p.parallel_tool_calls !== false;
  const spec = callable.length === 0 ? null : toolCallSpec(format, callable.map((t) => t.function), mode, parallel);
  return { tools, callable, spec };
}

function checkTool(t: unknown, i: number): ChatTool {
  const tool = t as { type?: unknown; function?: { name?: unknown; description?: unknown; parameters?: unknown; strict?: unknown } } | null;
  if (typeof tool !== 'object' || tool === null || tool.type !== 'function' || typeof tool.function !== 'object' || tool.function === null) {
    throw new InvalidRequestError(`tools[${i}] must be { type: 'function', function: { name, description?, parameters? } }, got ${shown(t)}`);
  }
  const f = tool.function;
  if (typeof f.name !== 'string' || !NAME.test(f.name)) throw new InvalidRequestError(`tools[${i}].function.name must be 1-64 letters, digits, _ or -, got ${shown(f.name)}`);
  if (f.description != null && typeof f.description !== 'string') throw new InvalidRequestError(`tools[${i}].function.description must be a string, got ${shown(f.description)}`);
  if (f.parameters != null && (typeof f.parameters !== 'object' || Array.isArray(f.parameters))) {
    throw new InvalidRequestError(`tools[${i}].function.parameters must be a JSON Schema object, got ${shown(f.parameters)}`);
  }
  if (f.strict != null && typeof f.strict !== 'boolean') throw new InvalidRequestError(`tools[${i}].function.strict must be true or false, got ${shown(f.strict)}`);
  const fn: ChatTool['function'] = { name: f.name };
  if (typeof f.description === 'string') fn.description = f.description;
  if (f.parameters != null) fn.parameters = JSON.parse(JSON.stringify(f.parameters)) as Record<string, unknown>;
  return { type: 'function', function: fn };
}

/** A new call id: OpenAI's 'call_…', or 9 letters and digits where the template needs them (Mistral). */
function newCallId(format: ToolFormat): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(format.idLength > 0 ? format.idLength : 24));
  const id = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
  return format.idLength > 0 ? id : `call_${id}`;
}

/**
 * The message of a finished generation and its finish_reason: content (null when empty) and the calls, if any,
 * with 'tool_calls'. Cut by max_tokens (`finish` 'length') inside a call, the calls are returned as far as they
 * were written (the last one's arguments unfinished) and finish_reason stays 'length', as OpenAI does.
 */
export function toolResult(format: ToolFormat, request: ToolRequest, text: string, finish: FinishReason): { message: { content: string | null; tool_calls?: ChatCompletionMessageToolCall[] }; finish: FinishReason } {
  const names = request.callable.map((t) => t.function.name);
  let parsed = parseToolOutput(format, text, names, true);
  let reason: FinishReason = parsed.calls.length > 0 ? 'tool_calls' : finish;
  if (parsed.calls.length === 0 && finish === 'length') {
    const partial = parseToolOutput(format, text, names, false);
    if (partial.ok) parsed = { ...partial, calls: partial.calls.filter((c) => c.name !== '') };
  }
  if (parsed.calls.length === 0) return { message: { content: parsed.content }, finish: reason };
  const message = {
    content: parsed.content.trim() === '' ? null : parsed.content,
    tool_calls: parsed.calls.map((c): ChatCompletionMessageToolCall => ({ id: newCallId(format), type: 'function', function: { name: c.name, arguments: c.arguments } })),
  };
  return { message, finish: reason };
}

/** The message of a finished generation (toolResult's, for a generation that was not cut). */
export function toolMessage(format: ToolFormat, request: ToolRequest, text: string): { content: string | null; tool_calls?: ChatCompletionMessageToolCall[] } {
  return toolResult(format, request, text, 'stop').message;
}

/** Streamed: turns the text so far into content and tool_call deltas, each piece once. */
export class ToolDeltas {
  private text = '';
  private content = 0;
  /** Per call index: its id (once named) and how much of its arguments was sent. */
  private readonly sent: { id: string; args: number }[] = [];

  constructor(private readonly format: ToolFormat, private readonly request: ToolRequest) {}

  /** The deltas `piece` completes (final: the generation ended). */
  push(piece: string, final = false): { content?: string; tool_calls?: ChatCompletionChunkToolCall[] } {
    this.text += piece;
    const parsed = parseToolOutput(this.format, this.text, this.request.callable.map((t) => t.function.name), final);
    const out: { content?: string; tool_calls?: ChatCompletionChunkToolCall[] } = {};
    if (parsed.content.length > this.content && (this.sent.length === 0 || final)) {
      out.content = parsed.content.slice(this.content);
      this.content = parsed.content.length;
    }
    const deltas = parsed.calls.flatMap((c, i) => this.callDelta(c, i));
    if (deltas.length > 0) out.tool_calls = deltas;
    return out;
  }

  get hasCalls(): boolean { return this.sent.length > 0; }

  /**
   * The last deltas and the finish_reason, as toolResult gives them: a generation cut by max_tokens inside a
   * call leaves what was streamed of it standing, with 'length'.
   */
  end(finish: FinishReason): { delta: { content?: string; tool_calls?: ChatCompletionChunkToolCall[] }; finish: FinishReason } {
    const names = this.request.callable.map((t) => t.function.name);
    const complete = parseToolOutput(this.format, this.text, names, true).calls.length > 0;
    if (finish === 'length' && !complete && this.hasCalls) return { delta: {}, finish };
    const delta = this.push('', true);
    return { delta, finish: complete ? 'tool_calls' : finish };
  }

  private callDelta(c: ParsedCall, index: number): ChatCompletionChunkToolCall[] {
    if (c.name === '') return [];
    let sent = this.sent[index];
    const out: ChatCompletionChunkToolCall[] = [];
    if (!sent) {
      sent = { id: newCallId(this.format), args: 0 };
      this.sent[index] = sent;
      out.push({ index, id: sent.id, type: 'function', function: { name: c.name, arguments: '' } });
    }
    if (c.arguments.length > sent.args) {
      out.push({ index, function: { arguments: c.arguments.slice(sent.args) } });
      sent.args = c.arguments.length;
    }
    return out;
  }
}
