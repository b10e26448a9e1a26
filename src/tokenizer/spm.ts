// SentencePiece ('llama') vocabularies as a Hugging Face tokenizer.json for transformers.js.
//
// Why BPE and not Unigram: llama.cpp (and llama2.c) tokenize these vocabularies by repeatedly merging the
// adjacent pair whose concatenation is a vocabulary token with the HIGHEST score, leftmost first on ties,
// then spell every leftover symbol that is not a token as <0xXX> byte tokens. That is exactly a BPE model
// with byte fallback whose merge "left right" is ranked by the score of the token left+right. A Unigram
// model searches for the best-scoring segmentation instead and has no byte fallback: different ids.
import { TokenType, type GGUFVocab } from './vocab';

/** The SentencePiece whitespace marker U+2581. */
const SPIECE_SPACE = '\u2581';

/**
 * Derives the merges from the scores: for every normal token and every split point, the split (left,
 * right) is a merge if both halves can exist as symbols during tokenization, i.e. each is a single
 * character (initial symbols) or itself a normal token (a merge result). O(total token length).
 *
 * Returns "left right" → rank, 0 = merged first. Merges that produce tokens of equal score share a rank, so
 * transformers.js breaks the tie by position (leftmost first), as llama.cpp does; a plain merge list (where
 * the rank is the index) could not express that.
 */
export function deriveSpmMerges(vocab: GGUFVocab): Map<string, number> {
  const { tokens, types } = vocab;
  const tokenRank = scoreRanks(vocab);
  const normal = new Set<string>();
  for (let id = 0; id < tokens.length; id++) if (types[id] === TokenType.NORMAL) normal.add(tokens[id]);

  const ranks = new Map<string, number>();
  for (let id = 0; id < tokens.length; id++) {
    if (types[id] !== TokenType.NORMAL) continue;
    const text = tokens[id];
    for (let cut = 1; cut < text.length; cut++) {
      // Split only between code points: symbols start out as whole characters (Array.from in transformers.js).
      if (isLowSurrogate(text.charCodeAt(cut))) continue;
      const left = text.slice(0, cut);
      const right = text.slice(cut);
      // Duplicate token texts: llama.cpp looks up the last id, and Map.set keeps the last one too.
      if (isSymbol(left, normal) && isSymbol(right, normal)) ranks.set(`${left} ${right}`, tokenRank[id]);
    }
  }
  return ranks;
}

/** Dense rank of every token's score, 0 = highest score (merged first). */
function scoreRanks(vocab: GGUFVocab): Int32Array {
  // A NaN score (a broken file) ranks last instead of poisoning the comparisons.
  const scores = vocab.scores!.map((x) => (Number.isNaN(x) ? -Infinity : x));
  const sorted = Float32Array.from(scores).sort(); // ascending, native numeric sort
  let unique = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[unique++] = sorted[i];
  const ranks = new Int32Array(scores.length);
  for (let id = 0; id < scores.length; id++) {
    let lo = 0;
    let hi = unique - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < scores[id]) lo = mid + 1; else hi = mid;
    }
    ranks[id] = unique - 1 - lo;
  }
  return ranks;
}

/** The merges as a tokenizer.json list, best first (ties in file order). */
export function mergeList(ranks: Map<string, number>): string[] {
  const entries = Array.from(ranks);
  entries.sort((a, b) => a[1] - b[1]);
  return entries.map(([merge]) => merge);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function isSymbol(s: string, normal: Set<string>): boolean {
  return isSingleCodePoint(s) || normal.has(s);
}

function isSingleCodePoint(s: string): boolean {
  return s.length === 1 || (s.length === 2 && (s.codePointAt(0) ?? 0) > 0xffff);
}

/**
 * tokenizer.json for a SentencePiece vocabulary: normalizer (dummy prefix, ' ' → ▁), BPE with byte
 * fallback, and the decoder chain of the Llama tokenizer (▁ → ' ', bytes, fuse, strip the dummy prefix).
 * Control tokens are deliberately NOT added tokens: transformers.js would then match '<s>' typed in the
 * prompt text and turn it into BOS, which llama.cpp never does for user text.
 */
export function spmTokenizerJSON(vocab: GGUFVocab, merges: string[]): Record<string, unknown> {
  const normalizers: unknown[] = [];
  if (vocab.addSpacePrefix) normalizers.push({ type: 'Prepend', prepend: SPIECE_SPACE });
  normalizers.push({ type: 'Replace', pattern: { String: ' ' }, content: SPIECE_SPACE });
  return {
    version: '1.0',
    added_tokens: userDefinedTokens(vocab),
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: null,
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPIECE_SPACE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        ...(vocab.addSpacePrefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
      ],
    },
    model: bpeModelJSON(vocab, merges, { byte_fallback: true }),
  };
}

/**
 * User-defined tokens are matched as a whole in the text before tokenizing (llama.cpp does the same,
 * whether or not special tokens are parsed), and text after one gets the dummy prefix again.
 */
export function userDefinedTokens(vocab: GGUFVocab): Record<string, unknown>[] {
  const added: Record<string, unknown>[] = [];
  vocab.types.forEach((type, id) => {
    if (type === TokenType.USER_DEFINED) {
      added.push({ id, content: vocab.tokens[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
    }
  });
  return added;
}

/** token → id; on duplicate texts the last id wins, like llama.cpp's token_to_id. */
/** The `model` section of tokenizer.json for a BPE over the GGUF vocabulary. */
export function bpeModelJSON(vocab: GGUFVocab, merges: string[], options: { byte_fallback: boolean; ignore_merges?: boolean }): Record<string, unknown> {
  return {
    type: 'BPE',
    dropout: null,
    unk_token: vocab.unkId !== undefined ? vocab.tokens[vocab.unkId] : null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    ...options,
    vocab: vocabObject(vocab.tokens),
    merges,
  };
}

function vocabObject(tokens: string[]): Record<string, number> {
  // A null-prototype object, so that a token spelled "__proto__" is an ordinary key.
  const obj: Record<string, number> = Object.create(null);
  tokens.forEach((t, id) => { obj[t] = id; });
  return obj;
}
