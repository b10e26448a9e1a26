// JSON mode: a grammar (schema.ts → grammar.ts) decides, before each step, which tokens keep the output a
// prefix of valid JSON; the GPU sampler masks the rest. Allowed tokens come from walking a trie of the
// vocabulary's token bytes alongside the grammar, so shared prefixes are matched once; masks are cached per
// grammar state. With few tokens left, only tokens after which the JSON can still be closed within the
// remaining budget are allowed, so the output parses even when max_tokens ends it.
import { UnsupportedError } from '../../errors';
import type { Tokenizer } from '../../tokenizer';
import { tokenBytesTable } from '../../tokenizer/token-bytes';
import type { ResponseFormat } from '../types';
import { ACCEPT, GrammarMatcher, type Rule } from './grammar';
import { grammarForJsonObject, grammarForSchema } from './schema';

/** Restricts decoding step by step. */
export interface TokenConstraint {
  /**
   * The tokens allowed next as a bit mask (bit i % 32 of word i / 32), given that at most `remaining` more
   * tokens may follow; null when the output is complete and generation must end.
   */
  mask(remaining: number): Uint32Array | null;
  /** The model picked `token` (one the last mask allowed). */
  advance(token: number): void;
}

/** Builds the grammar for `format` (InvalidRequestError / UnsupportedError for schemas it cannot express). */
export function createJsonConstraint(tokenizer: Tokenizer, format: Exclude<ResponseFormat, { type: 'tool_calls' }>, stopTokens: readonly number[]): TokenConstraint {
  checkVocabulary(tokenizer);
  const rules = format.type === 'json_object' ? grammarForJsonObject() : grammarForSchema(format.schema);
  return new GrammarConstraint(new GrammarMatcher(rules), tokenizer, stopTokens);
}

/** How a grammar's symbols >= 256 map to control tokens, and (lazy grammars) where it starts. */
export interface GrammarOptions {
  /** specials[i]: the control token that is symbol 256 + i. */
  specials?: readonly number[];
  /**
   * Free text until the output contains these symbols; the grammar then applies from their start (the
   * grammar's language must begin with them). Without it the grammar applies from the first token.
   */
  trigger?: readonly number[];
}

export function checkJsonVocabulary(tokenizer: Tokenizer): void {
  checkVocabulary(tokenizer);
}

export function createGrammarConstraint(tokenizer: Tokenizer, rules: Rule[], stopTokens: readonly number[], options: GrammarOptions = {}): TokenConstraint {
  return new GrammarConstraint(new GrammarMatcher(rules), tokenizer, stopTokens, options);
}

/**
 * JSON's punctuation and digits must each be a token of their own: the grammar needs them, and closing the JSON
 * one byte per token is what makes a tight max_tokens still end in valid JSON.
 */
const JSON_BYTES = '{}[]":,-.0123456789';

function checkVocabulary(tokenizer: Tokenizer): void {
  const single = new Set<number>();
  for (const bytes of tokenBytesTable(tokenizer)) if (bytes?.length === 1) single.add(bytes[0]!);
  const missing = [...JSON_BYTES].filter((c) => !single.has(c.charCodeAt(0)));
  if (missing.length > 0) {
    throw new UnsupportedError(`response_format JSON needs a token for each of ${JSON.stringify(JSON_BYTES)}; this model's vocabulary has none for ${JSON.stringify(missing.join(''))}, so it cannot write JSON`);
  }
}

interface TrieNode { children: Map<number, TrieNode>; tokens: number[] }

const tries = new WeakMap<Tokenizer, TrieNode>();

function tokenTrie(tokenizer: Tokenizer): TrieNode {
  let root = tries.get(tokenizer);
  if (root) return root;
  root = { children: new Map(), tokens: [] };
  tokenBytesTable(tokenizer).forEach((bytes, id) => {
    if (!bytes || bytes.length === 0) return;
    let node = root!;
    for (const b of bytes) {
      let next = node.children.get(b);
      if (!next) { next = { children: new Map(), tokens: [] }; node.children.set(b, next); }
      node = next;
    }
    node.tokens.push(id);
  });
  tries.set(tokenizer, root);
  return root;
}

/** A state's allowed tokens, and the most bytes any of them leaves to finish (decides when budgets bind). */
interface CachedMask { mask: Uint32Array; maxFinish: number }
const MAX_CACHED_MASKS = 512;

/** Lazy grammars: 'free' before the trigger, 'off' when the text after the trigger left the grammar. */
type Phase = 'free' | 'constrained' | 'off';
/** How many recent output symbols a lazy grammar searches for its trigger. */
const TRIGGER_WINDOW = 4096;

class GrammarConstraint implements TokenConstraint {
  private state: number[];
  private readonly words: number;
  private readonly trie: TrieNode;
  private readonly bytes: (Uint8Array | null)[];
  private readonly masks = new Map<string, CachedMask>();
  private readonly specials: readonly number[];
  private readonly trigger: readonly number[] | undefined;
  private phase: Phase;
  /** Lazy grammars: the output's symbols so far (-1 for control tokens the grammar does not name). */
  private recent: number[] = [];
  private free?: Uint32Array;

  constructor(private readonly matcher: GrammarMatcher, private readonly tokenizer: Tokenizer, private readonly stopTokens: readonly number[], options: GrammarOptions = {}) {
    this.state = matcher.initial();
    this.words = Math.ceil(tokenizer.vocabSize / 32);
    this.trie = tokenTrie(tokenizer);
    this.bytes = tokenBytesTable(tokenizer);
    this.specials = options.specials ?? [];
    this.trigger = options.trigger?.length ? options.trigger : undefined;
    this.phase = this.trigger ? 'free' : 'constrained';
  }

  mask(remaining: number): Uint32Array | null {
    if (this.phase !== 'constrained') return this.freeMask();
    const accepting = this.state.includes(ACCEPT);
    if (accepting && this.state.length === 1) return null;
    const key = this.state.join(',');
    let cached = this.masks.get(key);
    if (!cached) {
      cached = this.walk(Infinity);
      if (this.masks.size >= MAX_CACHED_MASKS) this.masks.delete(this.masks.keys().next().value!);
      this.masks.set(key, cached);
    }
    let mask = cached.mask;
    // Tokens left after this one must be able to close the JSON: each remaining byte can be one token.
    if (cached.maxFinish > remaining - 1) {
      const fitting = this.walk(remaining - 1).mask;
      // Nothing fits: the output may end here (stop tokens, below), or it must go on regardless.
      if (accepting || fitting.some((w) => w !== 0)) mask = fitting;
    }
    if (accepting) {
      mask = mask.slice();
      for (const id of this.stopTokens) mask[id >>> 5]! |= 1 << (id & 31);
    }
    return mask.some((w) => w !== 0) ? mask : null;
  }

  advance(token: number): void {
    if (this.phase === 'off') return;
    const special = this.specials.indexOf(token);
    const bytes = this.bytes[token];
    if (this.phase === 'free') { this.watch(special >= 0 ? [256 + special] : bytes ? [...bytes] : [-1]); return; }
    if (special >= 0) { this.state = this.matcher.advance(this.state, 256 + special); return; }
    if (!bytes) return; // a stop token: generation ends
    for (const b of bytes) this.state = this.matcher.advance(this.state, b);
  }

  /** Every token (the phase before the trigger, or after a call that left the grammar). */
  private freeMask(): Uint32Array {
    if (!this.free) {
      this.free = new Uint32Array(this.words);
      for (let id = 0; id < this.tokenizer.vocabSize; id++) this.free[id >>> 5]! |= 1 << (id & 31);
    }
    return this.free;
  }

  /** Lazy grammars: looks for the trigger in the output; from its start on, the grammar applies. */
  private watch(symbols: number[]): void {
    const trigger = this.trigger!;
    this.recent.push(...symbols);
    if (this.recent.length > TRIGGER_WINDOW) this.recent = this.recent.slice(-TRIGGER_WINDOW);
    const from = Math.max(0, this.recent.length - symbols.length - trigger.length + 1);
    for (let at = from; at + trigger.length <= this.recent.length; at++) {
      if (!trigger.every((s, k) => this.recent[at + k] === s)) continue;
      let state = this.matcher.initial();
      for (const s of this.recent.slice(at)) { state = s < 0 ? [] : this.matcher.advance(state, s); if (state.length === 0) break; }
      this.state = state;
      this.phase = state.length > 0 ? 'constrained' : 'off';
      return;
    }
  }

  /** Tokens whose bytes the grammar accepts from the current state, leaving at most `budget` bytes to finish. */
  private walk(budget: number): CachedMask {
    const mask = new Uint32Array(this.words);
    let maxFinish = 0;
    const visit = (node: TrieNode, state: number[]) => {
      if (node.tokens.length > 0) {
        const finish = this.matcher.bytesToFinish(state);
        if (finish <= budget) {
          maxFinish = Math.max(maxFinish, finish);
          for (const id of node.tokens) mask[id >>> 5]! |= 1 << (id & 31);
        }
      }
      for (const [b, child] of node.children) {
        const next = this.matcher.advance(state, b);
        if (next.length > 0) visit(child, next);
      }
    };
    visit(this.trie, this.state);
    this.specials.forEach((id, i) => {
      const next = this.matcher.advance(this.state, 256 + i);
      if (next.length === 0) return;
      const finish = this.matcher.bytesToFinish(next);
      if (finish > budget) return;
      maxFinish = Math.max(maxFinish, finish);
      mask[id >>> 5]! |= 1 << (id & 31);
    });
    return { mask, maxFinish };
  }
}
