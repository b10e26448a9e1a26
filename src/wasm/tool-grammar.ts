// Tool calls on the WebAssembly backend: the grammar the WebGPU path builds for a turn's calls
// (src/engine/tools/grammar.ts, the same schema checks and errors) handed to llama.cpp as GBNF, lazy under
// tool_choice 'auto' with the format's trigger. What llama.cpp's grammar does differently is evened out here:
// it matches a control token by its text (inside a JSON string too), so in 'required' mode the control tokens
// the grammar does not name are banned (on WebGPU they have no bytes and are never allowed; those it names can
// only be left to the grammar), and its end-of-generation tokens are left to the grammar, which allows them
// only where the calls are complete.
import { UnsupportedError } from '../errors';
import type { ToolCallSpec } from '../engine/tools/formats';
import { toolGrammar } from '../engine/tools/grammar';
import type { Tokenizer } from '../tokenizer';
import { gbnfGrammar } from './gbnf';

/** llama.cpp's trigger kinds (common_grammar_trigger_type). */
const TRIGGER_TOKEN = 0;
const TRIGGER_PATTERN = 2;

/** llama-server parameters that constrain a completion to `spec`'s calls; `banned` goes into logit_bias. */
export function llamaToolParams(tokenizer: Tokenizer, spec: ToolCallSpec, isEndOfGeneration: (id: number) => boolean): { params: Record<string, unknown>; banned: number[] } {
  const { rules, specials, trigger } = toolGrammar(tokenizer, spec);
  const params: Record<string, unknown> = { grammar: gbnfGrammar(rules, specials) };
  if (trigger) Object.assign(params, { grammar_lazy: true, grammar_triggers: [llamaTrigger(spec, trigger, specials)] });
  const banned: number[] = [];
  if (!trigger) {
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      if (tokenizer.isSpecial(id) && !specials.includes(id) && !isEndOfGeneration(id)) banned.push(id);
    }
  }
  return { params, banned };
}

/**
 * The trigger as llama.cpp takes it. A control token: that token. Text: a pattern that fires only where the
 * output so far ends inside the calls' opening (the trigger, then a prefix of the rest of head + call prefix),
 * so that the text llama.cpp replays into the grammar from the trigger on is always a prefix of it (a token that
 * carries the trigger and text the syntax does not allow there would otherwise fail llama.cpp's grammar).
 */
function llamaTrigger(spec: ToolCallSpec, symbols: readonly number[], specials: readonly number[]): Record<string, unknown> {
  if (symbols.length === 1 && symbols[0]! >= 256) return { type: TRIGGER_TOKEN, value: spec.trigger, token: specials[symbols[0]! - 256] };
  if (symbols.some((s) => s >= 256)) throw new UnsupportedError(`tool calls on the WebAssembly backend: the trigger ${JSON.stringify(spec.trigger)} mixes text and control tokens, which llama.cpp's lazy grammar cannot watch for; use tool_choice 'required' or a named function, or backend 'webgpu'`);
  const rests = spec.calls.map((c) => (spec.head + c.prefix).slice(spec.trigger.length));
  const tails = [...new Set(rests)].filter((r) => r !== '').map(prefixPattern);
  return { type: TRIGGER_PATTERN, value: `${regexEscape(spec.trigger)}${tails.length ? `(?:${tails.join('|')})` : ''}$` };
}

/** A regex matching every prefix of `text` (the empty one included). */
function prefixPattern(text: string): string {
  return [...text].reduceRight((inner, c) => `(?:${regexEscape(c)}${inner})?`, '');
}

/** As llama.cpp's regex_escape (ECMAScript syntax of std::regex). */
function regexEscape(text: string): string {
  return text.replace(/[.^$|()*+?[\]{}\\]/g, '\\$&');
}
