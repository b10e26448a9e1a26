// JSON mode: a grammar (schema.ts → grammar.ts) decides, before each step, which tokens keep the output a
// prefix of valid JSON; the GPU sampler masks the rest. Allowed tokens come from walking a trie of the
// vocabulary's token bytes alongside the grammar, so shared prefixes are matched once; masks are cached per
// grammar state. With few tokens left, only tokens after which the JSON can still be closed within the
// remaining budget are allowed, so the output parses even when max_tokens ends it.
import { UnsupportedError } from '../../errors';
import type { Tokenizer } from '../../tokenizer';
import { tokenBytesTable } from '../../tokenizer/token-bytes';
import type { ResponseFormat } from '../types';
import { ACCEPT, GrammarMatcher } from './grammar';
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
export function createJsonConstraint(tokenizer: Tokenizer, format: ResponseFormat, stopTokens: readonly number[]): TokenConstraint {
  checkVocabulary(tokenizer);
  const rules = format.type === 'json_object' ? grammarForJsonObject() : grammarForSchema(format.schema);
  return new GrammarConstraint(new GrammarMatcher(rules), tokenizer, stopTokens);
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

class GrammarConstraint implements TokenConstraint {
  private state: number[];
  private readonly words: number;
  private readonly trie: TrieNode;
  private readonly bytes: (Uint8Array | null)[];
  private readonly masks = new Map<string, CachedMask>();

  constructor(private readonly matcher: GrammarMatcher, tokenizer: Tokenizer, private readonly stopTokens: readonly number[]) {
    this.state = matcher.initial();
    this.words = Math.ceil(tokenizer.vocabSize / 32);
    this.trie = tokenTrie(tokenizer);
    this.bytes = tokenBytesTable(tokenizer);
  }

  mask(remaining: number): Uint32Array | null {
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
      if (fitting.some((w) => w !== 0)) mask = fitting;
    }
    if (accepting) {
      mask = mask.slice();
      for (const id of this.stopTokens) mask[id >>> 5]! |= 1 << (id & 31);
    }
    return mask.some((w) => w !== 0) ? mask : null;
  }

  advance(token: number): void {
    const bytes = this.bytes[token];
    if (!bytes) return; // a stop token: generation ends
    for (const b of bytes) this.state = this.matcher.advance(this.state, b);
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
    return { mask, maxFinish };
  }
}
