// Chat templates: the Jinja template a model ships in `tokenizer.chat_template` turns a list of messages
// into the one prompt string the model was fine-tuned on. It is rendered by @huggingface/jinja (the
// engine transformers.js uses), then tokenized the way llama.cpp tokenizes chat prompts: the special-token
// texts the template wrote ('<|im_start|>', '<s>') become those tokens, and BOS is not doubled.
import { Template } from '@huggingface/jinja';
import { FormatError, InvalidRequestError } from '../errors';
import type { ChatTool, ChatToolCall } from '../engine/tools/formats';
import { pythonCompatible } from './template-compat';
import type { Tokenizer } from './types';

export type { ChatTool };

/** One turn of a conversation. Templates know 'system', 'user' and 'assistant'; some know more ('tool'). */
export interface ChatMessage {
  role: string;
  content: string;
  /** An assistant turn's tool calls, as OpenAI returns them (arguments a JSON string). */
  tool_calls?: ChatToolCall[];
  /** role 'tool': the id of the call this is the result of. */
  tool_call_id?: string;
  /** role 'tool': the tool's name. */
  name?: string;
}

export interface ChatTemplateOptions {
  /** End with the header that opens the assistant's turn (what generation should continue). Default false. */
  addGenerationPrompt?: boolean;
  /** The tools the model may call, passed to the template as `tools` (as transformers does). */
  tools?: ChatTool[];
}

/** The special-token texts a template may refer to as variables. */
export interface ChatTemplateTokens {
  bosToken?: string;
  eosToken?: string;
  unkToken?: string;
  padToken?: string;
}

/**
 * Texts llama.cpp treats as end-of-generation wherever they are control tokens of the vocabulary, whether
 * or not the file declares them (llama-vocab.cpp, `special_eog_ids`): many conversions leave out
 * `tokenizer.ggml.eot_token_id`, and a chat reply must still stop at '<|im_end|>'.
 */
const END_OF_TURN_TEXTS: readonly string[] = [
  '<|eot_id|>', '<|eom_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>',
  '<EOT>', '_<EOT>', '<|END_OF_TURN_TOKEN|>', '<｜end▁of▁sentence｜>', '<end_of_utterance>', '<|return|>', '<|call|>',
];

// Marker contents for probing what a template does with a message. Letters only: templates `trim` content.
const SYSTEM_PROBE = 'HearthSystemProbe';
const ASSISTANT_PROBE = 'HearthAssistantProbe';

export class ChatTemplate {
  private readonly template: Template;
  /**
   * False when the template rejects a system message or drops it (Gemma raises 'System role not
   * supported'): a system message is then put in front of the first user message instead, as llama.cpp does.
   */
  readonly supportsSystemRole: boolean;

  /** Throws FormatError when `source` is not a template @huggingface/jinja can parse. */
  constructor(readonly source: string, private readonly tokens: ChatTemplateTokens = {}) {
    try {
      this.template = pythonCompatible(new Template(source));
    } catch (e) {
      throw new FormatError(`the model's chat template (tokenizer.chat_template) cannot be parsed: ${messageOf(e)}`, { cause: e });
    }
    let probe = '';
    try {
      probe = this.renderRaw([{ role: 'system', content: SYSTEM_PROBE }, { role: 'user', content: 'Hi' }], true);
    } catch { /* rejected: no system role */ }
    this.supportsSystemRole = probe.includes(SYSTEM_PROBE);
  }

  /**
   * The prompt for `messages`. Throws InvalidRequestError for malformed messages and for conversations
   * the template refuses (its raise_exception, e.g. roles that do not alternate).
   */
  render(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    checkMessages(messages);
    // Tool calls and results go to the template as they are (src/engine/tools/shape.ts shapes them on the page).
    let turns: TemplateMessage[] = messages.map((m) => ({ ...m }));
    const tools = options.tools?.length ? options.tools : undefined;
    const addGenerationPrompt = options.addGenerationPrompt ?? false;
    if (!this.supportsSystemRole && turns[0]?.role === 'system') {
      const [system, next, ...rest] = turns;
      turns = next ? [{ ...next, content: `${system!.content}\n${next.content}` }, ...rest] : [];
    }
    try {
      return this.renderRaw(turns, addGenerationPrompt, tools);
    } catch (e) {
      throw new InvalidRequestError(`the model's chat template rejected these messages: ${messageOf(e)}`, { cause: e });
    }
  }

  /**
   * The text that closes an assistant turn, as this template writes it: what follows the content of an
   * assistant message, up to the next newline ('<|im_end|>', '<|eot_id|>', '<end_of_turn>', ' </s>').
   * Empty when the template closes turns with nothing (or cannot render a user/assistant exchange).
   */
  assistantTurnEnd(): string {
    let text: string;
    try {
      text = this.renderRaw([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: ASSISTANT_PROBE }], false);
    } catch {
      return '';
    }
    const at = text.lastIndexOf(ASSISTANT_PROBE);
    return at < 0 ? '' : text.slice(at + ASSISTANT_PROBE.length).split('\n')[0]!.trim();
  }

  private renderRaw(messages: TemplateMessage[], addGenerationPrompt: boolean, tools?: ChatTool[]): string {
    const t = this.tokens;
    return this.template.render({
      messages,
      ...(tools ? { tools } : {}),
      add_generation_prompt: addGenerationPrompt,
      bos_token: t.bosToken ?? '',
      eos_token: t.eosToken ?? '',
      unk_token: t.unkToken ?? '',
      pad_token: t.padToken ?? t.eosToken ?? '',
    });
  }
}

/** A message as handed to the template (tool calls' arguments as objects). */
type TemplateMessage = { role: string; content: string } & Record<string, unknown>;

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidRequestError('messages must be a non-empty array of { role, content }');
  }
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || m.role === '' || typeof m.content !== 'string') {
      throw new InvalidRequestError(`messages[${i}] must be { role: string, content: string }, got ${JSON.stringify(m)}`);
    }
  });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** How control-token texts are found in a rendered prompt; built once per tokenizer (a vocabulary scan). */
interface SpecialTokenIndex {
  /** Every control/unknown token text, longest first, so '<|im_start|>' wins over a shorter prefix. */
  pattern: RegExp | undefined;
  idOf: Map<string, number>;
}

const indexes = new WeakMap<Tokenizer, SpecialTokenIndex>();

function specialTokenIndex(tokenizer: Tokenizer): SpecialTokenIndex {
  let index = indexes.get(tokenizer);
  if (!index) {
    const idOf = new Map<string, number>();
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      if (!tokenizer.isSpecial(id)) continue;
      const text = tokenizer.tokenText(id);
      if (text !== '' && !idOf.has(text)) idOf.set(text, id);
    }
    const texts = [...idOf.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    index = { pattern: texts.length ? new RegExp(texts.join('|'), 'g') : undefined, idOf };
    indexes.set(tokenizer, index);
  }
  return index;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `text` split into plain text and the control tokens it writes (by id). */
export function splitSpecialTokens(tokenizer: Tokenizer, text: string): (string | number)[] {
  const { pattern, idOf } = specialTokenIndex(tokenizer);
  const out: (string | number)[] = [];
  let last = 0;
  if (pattern) {
    for (const m of text.matchAll(pattern)) {
      if (m.index > last) out.push(text.slice(last, m.index));
      out.push(idOf.get(m[0])!);
      last = m.index + m[0].length;
    }
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** The control token `text` starts with (the longest one), if any. */
function leadingSpecialToken(tokenizer: Tokenizer, text: string): number | undefined {
  const { pattern, idOf } = specialTokenIndex(tokenizer);
  const m = pattern && new RegExp(pattern.source, 'y').exec(text);
  return m ? idOf.get(m[0]) : undefined;
}

/** The id of a control token given by its text, or undefined when the vocabulary has no such control token. */
function specialTokenId(tokenizer: Tokenizer, text: string): number | undefined {
  return specialTokenIndex(tokenizer).idOf.get(text);
}

/**
 * Token ids of a rendered chat prompt, as llama.cpp makes them (parse_special): control-token texts
 * become their tokens and the text between them is tokenized as usual (SentencePiece's dummy prefix
 * applies after each control token, as in llama.cpp). BOS goes first when the vocabulary adds BOS and the
 * template did not already write it, so a prompt never starts with two. `addBos: false` adds none (a BOS
 * the text itself writes stays).
 */
export function encodeChatPrompt(tokenizer: Tokenizer, text: string, options: { addBos?: boolean } = {}): number[] {
  const { pattern, idOf } = specialTokenIndex(tokenizer);
  const ids: number[] = [];
  const encodeText = (s: string) => { if (s) ids.push(...tokenizer.encode(s, { addBos: false, addEos: false })); };
  let last = 0;
  if (pattern) {
    for (const m of text.matchAll(pattern)) {
      encodeText(text.slice(last, m.index));
      ids.push(idOf.get(m[0])!);
      last = m.index + m[0].length;
    }
  }
  encodeText(text.slice(last));
  // encode('') is [BOS] exactly when BOS is to be added (by default: tokenizer.ggml.add_bos_token).
  const [bos] = tokenizer.encode('', { addBos: options.addBos, addEos: false });
  if (bos !== undefined && ids[0] !== bos) ids.unshift(bos);
  return ids;
}

/**
 * Every id that ends an assistant reply under `template`: the vocabulary's EOS/EOT/EOM, the control token
 * the template closes assistant turns with, and the control tokens llama.cpp knows as end-of-turn markers.
 */
export function chatStopTokens(tokenizer: Tokenizer, template: ChatTemplate): number[] {
  const stops = new Set(tokenizer.eosIds);
  const turnEnd = leadingSpecialToken(tokenizer, template.assistantTurnEnd());
  if (turnEnd !== undefined) stops.add(turnEnd);
  for (const text of END_OF_TURN_TEXTS) {
    const id = specialTokenId(tokenizer, text);
    if (id !== undefined) stops.add(id);
  }
  return [...stops];
}
