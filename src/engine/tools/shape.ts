// Messages with tools shaped for a chat template, on the page before they go to the engine (so the worker, which
// the <hearth-chat> embed shares, carries none of this): an assistant message's tool_calls get their arguments as
// objects (as llama.cpp hands them to templates), or are written into its content in the template's syntax where
// the template does not render tool_calls (Granite 3.3); a template that knows no tools gets the generic format
// (formats.ts): the tools described in the system prompt, a tool's result as a user message.
import type { ChatMessage } from '../../tokenizer/chat-template';
import { compactArguments, detectToolFormat, GENERIC_CALL_INSTRUCTIONS, genericToolPrompt, pythonJson, templateTakesSystemTools, templateKnowsTools, writeToolCalls, type ChatTool } from './formats';

/** The messages to render, and the tools to hand the template (none where it knows no tools). */
export function shapeToolMessages(template: string | undefined, messages: readonly ChatMessage[], tools: readonly ChatTool[] | undefined): { messages: ChatMessage[]; tools?: ChatTool[] } {
  const source = template ?? '';
  // Phi-4-mini's template lists the system message's `tools` text and knows no tool calls or results: those
  // take the generic format, the list goes where the model was trained to read it.
  const systemTools = templateTakesSystemTools(source);
  const knowsTools = templateKnowsTools(source) && !systemTools;
  const rendersCalls = knowsTools && source.includes('tool_calls');
  const format = detectToolFormat(source);
  let out = messages.map((m): ChatMessage => {
    if (m.role === 'tool' && !knowsTools) return { role: 'user', content: JSON.stringify({ tool_response: { name: m.name, content: m.content } }) };
    if (!m.tool_calls?.length) return m;
    if (!rendersCalls) {
      const calls = writeToolCalls(format, m.tool_calls);
      return { role: m.role, content: m.content ? `${m.content}\n${calls}` : calls };
    }
    return { ...m, tool_calls: m.tool_calls.map((c) => ({ ...c, function: { name: c.function.name, arguments: format.argumentsAsText ? compactArguments(c.function.arguments) : parsedArguments(c.function.arguments) } })) } as ChatMessage;
  });
  const list = tools?.length ? [...tools] : undefined;
  if (list && systemTools) {
    const listed = pythonJson(list.map((t) => t.function));
    const system = out[0]?.role === 'system' ? out[0] : undefined;
    const content = system ? `${system.content}\n\n${GENERIC_CALL_INSTRUCTIONS}` : GENERIC_CALL_INSTRUCTIONS;
    out = [{ role: 'system', content, tools: listed } as ChatMessage, ...(system ? out.slice(1) : out)];
  } else if (list && !knowsTools) {
    const prompt = genericToolPrompt(list);
    out = out[0]?.role === 'system' ? [{ ...out[0], content: `${out[0].content}\n\n${prompt}` }, ...out.slice(1)] : [{ role: 'system', content: prompt }, ...out];
  }
  return knowsTools && list ? { messages: out, tools: list } : { messages: out };
}

function parsedArguments(args: string): string {
  try {
    return JSON.parse(args) as string; // an object for the template; typed as the message's string
  } catch {
    return args;
  }
}
