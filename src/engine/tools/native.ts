// Tool calling on the engine's own API (engine.chat), for apps that do not go through chat.completions: the
// options that let the model call `tools` (constrained as chat.completions constrains them), and the calls read
// back from a reply's text.
import type { ChatMessage } from '../../tokenizer/chat-template';
import type { ChatCompletionMessageFunctionToolCall } from '../openai/types';
import type { GenerateOptions, ModelInfo } from '../types';
import { detectToolFormat, type ChatTool } from './formats';
import { toolMessage, toolRequest } from './openai-tools';
import { shapeToolMessages } from './shape';

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/**
 * The messages and options for engine.chat that let `model` call `tools` (checked as chat.completions checks
 * them): the messages shaped for its template (tool calls and results), the tools for the template, and the
 * constraint on the calls.
 */
export function toolChat(model: ModelInfo, messages: readonly ChatMessage[], tools: readonly ChatTool[], choice: ToolChoice = 'auto', parallel = true): { messages: ChatMessage[]; options: Pick<GenerateOptions, 'tools' | 'responseFormat'> } {
  const request = toolRequest({ tools, tool_choice: choice, parallel_tool_calls: parallel }, detectToolFormat(model.chatTemplate));
  const shaped = shapeToolMessages(model.chatTemplate, messages, request?.tools);
  const responseFormat = request?.spec ? { type: 'tool_calls' as const, spec: request.spec } : undefined;
  return { messages: shaped.messages, options: { ...(shaped.tools ? { tools: shaped.tools } : {}), ...(responseFormat ? { responseFormat } : {}) } };
}

/** The assistant message of a reply made with toolOptions: its text before the calls, and the calls. */
export function toolReply(model: ModelInfo, tools: readonly ChatTool[], text: string): ChatMessage & { tool_calls?: ChatCompletionMessageFunctionToolCall[] } {
  const format = detectToolFormat(model.chatTemplate);
  const request = toolRequest({ tools }, format)!;
  const m = toolMessage(format, request, text);
  const calls = (m.tool_calls ?? []).flatMap((c) => (c.type === 'function' ? [c] : []));
  return { role: 'assistant', content: m.content ?? '', ...(calls.length ? { tool_calls: calls } : {}) };
}
