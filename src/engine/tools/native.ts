// Tool calling on the engine's own API (engine.chat), for apps that do not go through chat.completions: the
// options that let the model call `tools` (constrained as chat.completions constrains them), and the calls read
// back from a reply's text.
import type { ChatMessage } from '../../tokenizer/chat-template';
import type { ChatCompletionMessageFunctionToolCall } from '../openai-types';
import type { GenerateOptions, ModelInfo } from '../types';
import { detectToolFormat, type ChatTool } from './formats';
import { toolMessage, toolRequest } from './openai-tools';

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/** Options for engine.chat that let `model` call `tools` (checked as chat.completions checks them). */
export function toolOptions(model: ModelInfo, tools: readonly ChatTool[], choice: ToolChoice = 'auto', parallel = true): Pick<GenerateOptions, 'tools' | 'responseFormat'> {
  const request = toolRequest({ tools, tool_choice: choice, parallel_tool_calls: parallel }, detectToolFormat(model.chatTemplate));
  if (!request) return {};
  return { tools: request.tools, ...(request.spec ? { responseFormat: { type: 'tool_calls', spec: request.spec } } : {}) };
}

/** The assistant message of a reply made with toolOptions: its text before the calls, and the calls. */
export function toolReply(model: ModelInfo, tools: readonly ChatTool[], text: string): ChatMessage & { tool_calls?: ChatCompletionMessageFunctionToolCall[] } {
  const format = detectToolFormat(model.chatTemplate);
  const request = toolRequest({ tools }, format)!;
  const m = toolMessage(format, request, text);
  const calls = (m.tool_calls ?? []).flatMap((c) => (c.type === 'function' ? [c] : []));
  return { role: 'assistant', content: m.content ?? '', ...(calls.length ? { tool_calls: calls } : {}) };
}
