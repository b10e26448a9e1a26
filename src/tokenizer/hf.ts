// The tokenizer of a Hugging Face repo: its tokenizer.json run by transformers.js (tokenizers module only),
// with tokenizer_config.json / generation_config.json for BOS, EOS and add_bos. Unlike transformers, special
// (control) tokens are never produced from user text: they are taken out of the added-token matching, so a
// typed '<|im_start|>' stays text, as llama.cpp does; chat prompts find them through encodeChatPrompt.
import { PreTrainedTokenizer } from '@xenova/transformers/src/tokenizers.js';
import { FormatError, InvalidRequestError, UnsupportedError } from '../errors';
import type { DecodeOptions, EncodeOptions, HFTokenizerFiles, Tokenizer, TokenizerSource } from './types';

type Json = Record<string, unknown>;
import { TokenType } from './vocab';

/** Cached BPE words above this are dropped, so memory stays bounded. */
const MAX_CACHE_ENTRIES = 10_000;

export function tokenizerFromHF(files: HFTokenizerFiles): Tokenizer {
  return new HFTokenizer(files);
}

interface AddedToken { id: number; content: string; special: boolean; lstrip?: boolean; rstrip?: boolean }

class HFTokenizer implements Tokenizer {
  readonly bosId: number | undefined;
  readonly eosIds: number[];
  readonly vocabSize: number;
  private readonly hf: PreTrainedTokenizer;
  private readonly tokens: string[];
  private readonly types: Uint8Array;
  private readonly addBos: boolean;
  private readonly addEos: boolean;
  private readonly eosId: number | undefined;

  constructor(private readonly files: HFTokenizerFiles) {
    const json = rewriteInlineFlags(files.tokenizerJSON) as Json;
    const added: AddedToken[] = Array.isArray(json.added_tokens) ? (json.added_tokens as AddedToken[]) : [];
    if (added.some((t) => typeof t !== 'object' || t === null || !Number.isSafeInteger(t.id) || t.id < 0 || typeof t.content !== 'string')) {
      throw new FormatError(`${files.name}: tokenizer.json has malformed added_tokens`);
    }
    const cfg = files.tokenizerConfig;
    const config = {
      // Plain strings only: transformers.js rejects the object forms newer tokenizer_config.json files use.
      bos_token: tokenText(cfg.bos_token), eos_token: tokenText(cfg.eos_token), unk_token: tokenText(cfg.unk_token),
      clean_up_tokenization_spaces: false,
      model_max_length: Number.MAX_SAFE_INTEGER,
    };
    try {
      this.hf = new PreTrainedTokenizer({ ...json, added_tokens: added }, config);
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      const Err = /unknown|not supported|not implemented/i.test(message) ? UnsupportedError : FormatError;
      throw new Err(`${files.name}: tokenizer.json cannot be used: ${message}`, { cause: e });
    }
    // Special tokens leave the added-token matching (the decoder keeps its own list, so they still decode verbatim).
    const hf = this.hf as unknown as { added_tokens: AddedToken[]; added_tokens_regex: RegExp | null };
    hf.added_tokens = hf.added_tokens.filter((t) => !t.special);
    hf.added_tokens_regex = hf.added_tokens.length > 0
      ? new RegExp(hf.added_tokens.map((x) => `${x.lstrip ? '\\s*' : ''}(${escapeRegExp(x.content)})${x.rstrip ? '\\s*' : ''}`).join('|'))
      : null;

    const own = this.hf.model.vocab;
    this.vocabSize = Math.max(own.length, files.vocabSize ?? 0);
    this.tokens = Array.from({ length: this.vocabSize }, (_, id) => own[id] ?? `[PAD${id}]`);
    this.hf.model.vocab = this.tokens;
    this.types = new Uint8Array(this.vocabSize).fill(TokenType.NORMAL);
    for (let id = 0; id < this.vocabSize; id++) if (own[id] === undefined) this.types[id] = TokenType.UNUSED;
    for (const t of added) this.types[t.id] = t.special ? TokenType.CONTROL : TokenType.USER_DEFINED;
    const idOf = (text: string | undefined) => (text === undefined ? undefined : this.hf.model.tokens_to_ids.get(text));
    const unk = idOf(config.unk_token);
    if (unk !== undefined) this.types[unk] = TokenType.UNKNOWN;

    const mc = files.modelConfig ?? {};
    this.bosId = idOf(config.bos_token) ?? validId(mc.bos_token_id, this.vocabSize);
    this.eosId = idOf(config.eos_token) ?? firstId(mc.eos_token_id, this.vocabSize);
    const eos = [this.eosId, ...ids(files.generationConfig?.eos_token_id, this.vocabSize), ...ids(mc.eos_token_id, this.vocabSize)];
    this.eosIds = [...new Set(eos.filter((id): id is number => id !== undefined))];
    const template = templateEnds(json.post_processor);
    this.addBos = typeof cfg.add_bos_token === 'boolean' ? cfg.add_bos_token : template.first !== undefined && template.first === this.text(this.bosId);
    this.addEos = typeof cfg.add_eos_token === 'boolean' ? cfg.add_eos_token : template.last !== undefined && template.last === this.text(this.eosId);
  }

  get source(): TokenizerSource {
    return { kind: 'hf', files: this.files };
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids = text.length === 0 ? [] : this.hf.encode(text, null, { add_special_tokens: false });
    const cache = this.hf.model.cache;
    if (cache && (cache.size > MAX_CACHE_ENTRIES || text.length > 256)) cache.clear();
    if ((opts.addBos ?? this.addBos) && this.bosId !== undefined) ids.unshift(this.bosId);
    if ((opts.addEos ?? this.addEos) && this.eosId !== undefined) ids.push(this.eosId);
    return ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    for (const id of ids) this.checkId(id);
    const kept = opts.skipSpecial ? ids.filter((id) => !this.isSpecial(id)) : ids.slice();
    if (kept.length === 0) return '';
    return this.hf.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  tokenText(id: number): string {
    this.checkId(id);
    return this.tokens[id]!;
  }

  isSpecial(id: number): boolean {
    const type = this.types[id];
    return type === TokenType.CONTROL || type === TokenType.UNKNOWN || type === TokenType.UNUSED;
  }

  private text(id: number | undefined): string | undefined {
    return id === undefined ? undefined : this.tokens[id];
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new InvalidRequestError(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    }
  }
}

/** A token in tokenizer_config.json: a string, or { content } (AddedToken); null/absent = none. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

function validId(v: unknown, n: number): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < n ? v : undefined;
}

function ids(v: unknown, n: number): number[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => validId(x, n)).filter((x): x is number => x !== undefined);
}

function firstId(v: unknown, n: number): number | undefined {
  return ids(v, n)[0];
}

/** The special tokens a TemplateProcessing post-processor puts first and last around a single sequence. */
function templateEnds(post: unknown): { first?: string; last?: string } {
  if (typeof post !== 'object' || post === null) return {};
  const p = post as Json;
  if (p.type === 'Sequence' && Array.isArray(p.processors)) {
    for (const inner of p.processors) {
      const ends = templateEnds(inner);
      if (ends.first !== undefined || ends.last !== undefined) return ends;
    }
    return {};
  }
  if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) return {};
  const special = (item: unknown) => (typeof item === 'object' && item !== null && 'SpecialToken' in item
    ? tokenIdText((item as { SpecialToken: unknown }).SpecialToken) : undefined);
  return { first: special(p.single[0]), last: special(p.single[p.single.length - 1]) };
}

function tokenIdText(t: unknown): string | undefined {
  return typeof t === 'object' && t !== null && typeof (t as Json).id === 'string' ? (t as Json).id as string : undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A copy of the tokenizer.json whose Split regexes have no inline case-insensitive groups `(?i:…)` (Python
 * regex syntax that Node 20's RegExp rejects): each ASCII letter inside becomes both cases.
 */
function rewriteInlineFlags(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(rewriteInlineFlags);
  if (typeof json !== 'object' || json === null) return json;
  const out: Json = {};
  for (const [k, v] of Object.entries(json)) out[k] = k === 'Regex' && typeof v === 'string' ? caseFoldGroups(v) : rewriteInlineFlags(v);
  return out;
}

export function caseFoldGroups(regex: string): string {
  return regex.replace(/\(\?i:((?:\\.|\[(?:\\.|[^\]\\])*\]|[^()\\[])*)\)/g, (_, inner: string) => `(?:${foldLetters(inner)})`);
}

function foldLetters(s: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') { out += c + (s[i + 1] ?? ''); i++; continue; }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    const end = s[i + 2];
    if (inClass && /[a-zA-Z]/.test(c) && s[i + 1] === '-' && end !== undefined && /[a-zA-Z]/.test(end)) {
      out += `${c.toLowerCase()}-${end.toLowerCase()}${c.toUpperCase()}-${end.toUpperCase()}`; // a range: both cases
      i += 2;
    } else if (/[a-zA-Z]/.test(c)) {
      const both = c.toLowerCase() + c.toUpperCase();
      out += inClass ? both : `[${both}]`;
    } else {
      out += c;
    }
  }
  return out;
}
