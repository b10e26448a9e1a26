// WordPiece (`tokenizer.ggml.model` 'bert') exactly as llama.cpp's llm_tokenizer_wpm runs it on a converted
// vocabulary: the text is split into words at whitespace and around punctuation, ASCII symbols and CJK
// characters (lowercased and accent-stripped as the file says, control characters dropped), and each word,
// with '▁' in front, is cut greedily into the longest vocabulary entries. The converter wrote word-initial
// pieces as '▁piece' and continuations ('##piece') bare. A word that cannot be cut entirely becomes [UNK].
// Matching is on UTF-8 bytes, as llama.cpp's substr is.
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerSource } from './types';
import { checkTokenId, isSpecialToken, TokenType, type GGUFVocab } from './vocab';

/** llama.cpp's whitespace set (unicode_set_whitespace). */
const WHITESPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
const CONTROL = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u;
const ACCENT = /\p{M}/u;
const PUNCTUATION = /\p{P}/u;
const SYMBOL = /\p{S}/u;

/** llm_tokenizer_wpm_session::is_chinese_char (with llama.cpp's 0x2B920 lower bound). */
function isChinese(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x20000 && c <= 0x2a6df) || (c >= 0x2a700 && c <= 0x2b73f)
    || (c >= 0x2b740 && c <= 0x2b81f) || (c >= 0x2b920 && c <= 0x2ceaf) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0x2f800 && c <= 0x2fa1f);
}

/** One code point lowercased to one (unicode_tolower is a simple mapping; 'İ' → 'i', not 'i̇'). */
function lower(c: number): number {
  return String.fromCodePoint(c).toLowerCase().codePointAt(0)!;
}

const encoder = new TextEncoder();
/** A string's UTF-8 bytes as a one-char-per-byte string (map keys and substrings in bytes). */
const bytesOf = (s: string) => String.fromCharCode(...encoder.encode(s));

export class WordPieceTokenizer implements Tokenizer {
  readonly bosId: number | undefined;
  readonly eosIds: number[];
  readonly vocabSize: number;
  private readonly ids = new Map<string, number>();
  private readonly maxTokenBytes: number;

  constructor(private readonly vocab: GGUFVocab) {
    this.vocabSize = vocab.tokens.length;
    this.bosId = vocab.bosId;
    this.eosIds = [vocab.sepId, vocab.eosId].filter((id): id is number => id !== undefined);
    let max = 0;
    for (const [id, text] of vocab.tokens.entries()) {
      const key = bytesOf(text);
      this.ids.set(key, id); // a repeated text maps to its last id, as llama.cpp's token_to_id does
      max = Math.max(max, key.length);
    }
    this.maxTokenBytes = max;
  }

  get source(): TokenizerSource {
    return { kind: 'gguf', vocab: this.vocab };
  }

  /** llm_tokenizer_wpm_session::preprocess. */
  private words(text: string): string[] {
    const { lowercase, stripAccents } = this.vocab;
    const words: string[] = [''];
    for (const ch of stripAccents ? text.normalize('NFD') : text) {
      const c = ch.codePointAt(0)!;
      if (WHITESPACE.has(c)) {
        if (words[words.length - 1]) words.push('');
        continue;
      }
      if (c === 0 || c === 0xfffd || CONTROL.test(ch)) continue;
      if (stripAccents && ACCENT.test(ch)) continue;
      const s = String.fromCodePoint(lowercase ? lower(c) : c);
      if (PUNCTUATION.test(ch) || (c < 0x7f && SYMBOL.test(ch)) || isChinese(c)) {
        if (words[words.length - 1]) words.push('');
        words[words.length - 1] = s;
        words.push('');
      } else {
        words[words.length - 1] += s;
      }
    }
    if (!words[words.length - 1]) words.pop();
    return words;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if ((opts.addBos ?? true) && this.bosId !== undefined) out.push(this.bosId);
    for (const word of this.words(text)) {
      if (!word) continue;
      const w = bytesOf(`▁${word}`);
      const before = out.length;
      for (let i = 0; i < w.length;) {
        let match = -1;
        for (let j = Math.min(w.length, i + this.maxTokenBytes + 1); j > i; j--) {
          const id = this.ids.get(w.slice(i, j));
          if (id !== undefined) { out.push(id); match = j; break; }
        }
        if (match < 0) { out.length = before; break; } // the whole word, or nothing
        i = match;
      }
      if (out.length === before && this.vocab.unkId !== undefined) out.push(this.vocab.unkId);
    }
    const sep = this.vocab.sepId ?? this.vocab.eosId;
    if ((opts.addEos ?? true) && sep !== undefined) out.push(sep);
    return out;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    let text = '';
    for (const id of ids) {
      this.checkId(id);
      if (opts.skipSpecial && this.isSpecial(id)) continue;
      const t = this.vocab.tokens[id]!;
      text += this.vocab.types[id] === TokenType.CONTROL ? t : t.replaceAll('▁', ' ');
    }
    return text.startsWith(' ') ? text.slice(1) : text;
  }

  tokenText(id: number): string {
    this.checkId(id);
    return this.vocab.tokens[id]!;
  }

  isSpecial(id: number): boolean {
    return isSpecialToken(this.vocab, id);
  }

  private checkId(id: number): void {
    checkTokenId(id, this.vocabSize);
  }
}
