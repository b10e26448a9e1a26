// The grammar of a turn's tool calls: head + call (sep call)* + tail in the template's syntax (formats.ts), each
// call one of the tools with arguments valid under its `parameters` (schema.ts's JSON-schema subset). Control
// tokens the syntax names ('[TOOL_CALLS]', '<|tool_call|>') are symbols of their own; under tool_choice 'auto'
// the grammar is lazy: free text until the format's trigger is written, constrained from there.
import { InvalidRequestError } from '../../errors';
import type { Tokenizer } from '../../tokenizer';
import { splitSpecialTokens } from '../../tokenizer/chat-template';
import { checkJsonVocabulary, createGrammarConstraint, type TokenConstraint } from '../json/constraint';
import { chars, GrammarBuilder, type Element, type Rule } from '../json/grammar';
import { JsonGrammar } from '../json/schema';
import type { ToolCallSpec } from './formats';

export type { ToolCallSpec };

/** A tool-call grammar: rules over bytes and the control tokens named (symbol 256 + i is specials[i]). */
export interface ToolGrammar {
  rules: Rule[];
  specials: number[];
  /** Under 'auto': the symbols from which the grammar applies (its language begins with them). */
  trigger?: number[];
}

/** The grammar of `spec` on this vocabulary (InvalidRequestError / UnsupportedError for schemas it cannot express). */
export function toolGrammar(tokenizer: Tokenizer, spec: ToolCallSpec): ToolGrammar {
  checkJsonVocabulary(tokenizer);
  const specials: number[] = [];
  const symbols = (text: string): number[] => splitSpecialTokens(tokenizer, text).flatMap((part) => {
    if (typeof part === 'string') return [...new TextEncoder().encode(part)];
    if (!specials.includes(part)) specials.push(part);
    return [256 + specials.indexOf(part)];
  });
  const text = (s: string): Element[] => symbols(s).map((c) => ({ chars: [c, c] }));
  const b = new GrammarBuilder();
  if (spec.calls.length === 0) throw new InvalidRequestError('tools: no tool to call');
  const calls = spec.calls.map((c, i) => {
    const args = new JsonGrammar(c.schema, b, `tools[${i}].function.parameters`).value(c.schema, '#');
    const id = spec.idLength > 0 ? [...text(', "id": "'), ...b.repeat([chars(['a', 'z'], ['A', 'Z'], ['0', '9'])], spec.idLength, spec.idLength)] : [];
    return [...text(c.prefix), ...args, ...id, ...text(c.suffix)];
  });
  const call: Element = b.alt(...calls);
  const more = spec.parallel ? b.repeat([...text(spec.sep), call], 0, Infinity) : [];
  b.define(0, [[...text(spec.head), call, ...more, ...text(spec.tail)]]);
  return { rules: b.rules, specials, ...(spec.mode === 'auto' ? { trigger: symbols(spec.trigger) } : {}) };
}

/** The constraint for `spec` on this vocabulary (InvalidRequestError / UnsupportedError for schemas it cannot express). */
export function createToolConstraint(tokenizer: Tokenizer, spec: ToolCallSpec, stopTokens: readonly number[]): TokenConstraint {
  const { rules, specials, trigger } = toolGrammar(tokenizer, spec);
  return createGrammarConstraint(tokenizer, rules, stopTokens, { specials, trigger });
}
