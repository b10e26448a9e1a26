// The chat app's example tools (switched on in the settings): the current date and time, and a calculator. A
// reply with tools on is two generations: the model either answers or calls a tool (the call constrained to
// the tool's schema by the engine); the app runs the call, shows it with its result, and the model answers.
import { toolOptions, toolReply, type ChatMessage, type ChatTool, type Engine, type GenerateOptions, type TokenStream } from '../../src/index';

export const EXAMPLE_TOOLS: ChatTool[] = [
  { type: 'function', function: { name: 'current_time', description: 'The current date and time on the user\'s device', parameters: { type: 'object', properties: {}, additionalProperties: false } } },
  {
    type: 'function',
    function: {
      name: 'calculate', description: 'Evaluates an arithmetic expression (+ - * / and parentheses)',
      parameters: { type: 'object', properties: { expression: { type: 'string', description: 'e.g. (2 + 3) * 4', maxLength: 80 } }, required: ['expression'], additionalProperties: false },
    },
  },
];

/** Runs a call of one of EXAMPLE_TOOLS; the result as text (errors too: the model reads them). */
export function runTool(name: string, args: string): string {
  try {
    const a = JSON.parse(args) as { expression?: unknown };
    if (name === 'current_time') return new Date().toString();
    if (name === 'calculate' && typeof a.expression === 'string') return String(calculate(a.expression));
    return `unknown tool ${name}`;
  } catch (e) {
    return `error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** + - * / and parentheses over numbers, by recursive descent (no eval). */
export function calculate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?|[-+*/()]/g) ?? [];
  if (tokens.join('') !== expression.replace(/\s+/g, '')) throw new Error(`cannot read ${JSON.stringify(expression)}`);
  let i = 0;
  const atom = (): number => {
    const t = tokens[i++];
    if (t === '(') { const v = sum(); if (tokens[i++] !== ')') throw new Error('missing )'); return v; }
    if (t === '-') return -atom();
    if (t === undefined || !/^\d/.test(t)) throw new Error(`unexpected ${t ?? 'end'}`);
    return Number(t);
  };
  const product = (): number => { let v = atom(); while (tokens[i] === '*' || tokens[i] === '/') v = tokens[i++] === '*' ? v * atom() : v / atom(); return v; };
  const sum = (): number => { let v = product(); while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + product() : v - product(); return v; };
  const v = sum();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i]}`);
  return v;
}

/**
 * The first generation of a reply with tools on. `next` is set when the model called tools: the messages to
 * answer from (the call and its results added) and the text that shows the calls.
 */
export async function toolStep(engine: Engine, messages: ChatMessage[], options: GenerateOptions, onStream: (s: TokenStream) => Promise<void>): Promise<{ text: string; next?: { messages: ChatMessage[]; shown: string } }> {
  const stream = engine.chat(messages, { ...options, ...toolOptions(engine.model, EXAMPLE_TOOLS) });
  await onStream(stream);
  const result = await stream.result;
  const reply = toolReply(engine.model, EXAMPLE_TOOLS, result.text);
  if (!reply.tool_calls) return { text: result.text };
  const results: ChatMessage[] = reply.tool_calls.map((c) => ({ role: 'tool', tool_call_id: c.id, name: c.function.name, content: runTool(c.function.name, c.function.arguments) }));
  const shown = reply.tool_calls.map((c, k) => `🔧 ${c.function.name}(${c.function.arguments}) → ${results[k]!.content}\n`).join('') + '\n';
  return { text: result.text, next: { messages: [...messages, reply, ...results], shown } };
}
