// The chat app's example tools (switched on in the settings): the current date and time, and a calculator. A
// reply with tools on is two generations: the model either answers or calls a tool (the call constrained to
// the tool's schema by the engine); the app runs the call, shows it with its result, and the model answers.
import { toolChat, toolReply, type ChatMessage, type ChatTool, type Engine, type GenerateOptions, type GenerationResult, type TokenStream } from '../../src/index';

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
 * A reply with tools on: the model answers or calls tools (`pipe` streams each generation); after a call the app
 * runs it, `show` gets the text that shows each call and its result, and the model answers from there. The
 * result's text is the calls shown and the answer.
 */
export async function toolTurn(engine: Engine, messages: ChatMessage[], options: GenerateOptions, pipe: (s: TokenStream) => Promise<void>, show: (text: string) => void): Promise<GenerationResult> {
  const chat = toolChat(engine.model, messages, EXAMPLE_TOOLS);
  const first = engine.chat(chat.messages, { ...options, ...chat.options });
  await pipe(first);
  const result = await first.result;
  const reply = toolReply(engine.model, EXAMPLE_TOOLS, result.text);
  if (!reply.tool_calls || result.finishReason === 'abort') return result;
  const results: ChatMessage[] = reply.tool_calls.map((c) => ({ role: 'tool', tool_call_id: c.id, name: c.function.name, content: runTool(c.function.name, c.function.arguments) }));
  const shown = reply.tool_calls.map((c, k) => `🔧 ${c.function.name}(${c.function.arguments}) → ${results[k]!.content}\n`).join('') + '\n';
  // The raw call streamed above; the finished reply shows the calls, their results and the answer.
  show(`\n${shown}`);
  const next = toolChat(engine.model, [...messages, reply, ...results], EXAMPLE_TOOLS, 'none');
  const answer = engine.chat(next.messages, { ...options, ...next.options });
  await pipe(answer);
  const final = await answer.result;
  return { ...final, text: shown + final.text };
}
