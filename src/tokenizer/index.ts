// The tokenizer of a GGUF model, built from its `tokenizer.ggml.*` metadata alone (no network, no hub):
// the vocabulary is turned into a Hugging Face tokenizer.json and run by transformers.js.
// Only its tokenizers module is imported, so bundles do not pull in models or ONNX Runtime.
import { PreTrainedTokenizer } from '@xenova/transformers/src/tokenizers.js';
import type { GGUFValue } from '../model/gguf';
import { bpePreTokenizer, bpeTokenizerJSON } from './bpe';
import { tokenizerFromHF } from './hf';
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerSource } from './types';
import { deriveSpmMerges, spmTokenizerJSON } from './spm';
import { checkTokenId, isSpecialToken, readVocab, type GGUFVocab } from './vocab';
import { WordPieceTokenizer } from './wpm';

export { TextStreamer } from './text-stream';
export { TokenType, type GGUFVocab } from './vocab';

export type { DecodeOptions, EncodeOptions, HFTokenizerFiles, Tokenizer, TokenizerSource } from './types';

/** Builds the tokenizer of a model from its GGUF metadata. Throws UnsupportedError for unknown vocab kinds. */
export function tokenizerFromGGUF(metadata: Map<string, GGUFValue>): Tokenizer {
  return ggufTokenizer(readVocab(metadata));
}

function ggufTokenizer(vocab: GGUFVocab): Tokenizer {
  return vocab.model === 'bert' ? new WordPieceTokenizer(vocab) : new GGUFTokenizer(vocab);
}

/** The tokenizer `source` describes (Tokenizer.source), e.g. on the other side of a worker boundary. */
export function tokenizerFromSource(source: TokenizerSource): Tokenizer {
  return source.kind === 'gguf' ? ggufTokenizer(source.vocab) : tokenizerFromHF(source.files);
}

/** Words cached by the BPE model; above this the cache is dropped so memory stays bounded. */
const MAX_BPE_CACHE_ENTRIES = 10_000;

class GGUFTokenizer implements Tokenizer {
  readonly bosId: number | undefined;
  readonly eosIds: number[];
  readonly vocabSize: number;
  private readonly hf: PreTrainedTokenizer;
  private readonly addBos: boolean;

  constructor(private readonly vocab: GGUFVocab) {
    this.vocabSize = vocab.tokens.length;
    this.bosId = vocab.bosId;
    // llama.cpp's defaults when the file does not say (stories260K does not): SentencePiece adds BOS,
    // byte-level BPE only for the Llama 3 family.
    this.addBos = vocab.addBos ?? (vocab.model === 'llama' || bpePreTokenizer(vocab).addBosDefault);
    this.eosIds = [...new Set([vocab.eosId, vocab.eotId, vocab.eomId].filter((id): id is number => id !== undefined))];

    const config = {
      // transformers.js would otherwise "clean up" ' .' into '.' and the like, which changes the text.
      clean_up_tokenization_spaces: false,
      legacy: true,
      bos_token: vocab.bosId !== undefined ? vocab.tokens[vocab.bosId] : null,
      eos_token: vocab.eosId !== undefined ? vocab.tokens[vocab.eosId] : null,
      unk_token: vocab.unkId !== undefined ? vocab.tokens[vocab.unkId] : null,
      model_max_length: Number.MAX_SAFE_INTEGER,
    };
    if (vocab.model === 'llama') {
      // The merge list goes in empty and the ranks are set afterwards: the derived ranks have ties (equal
      // scores) that a list cannot express, and this skips building a second 60k-entry map. (The BPE model
      // reads only bpe_ranks when encoding.)
      const ranks = deriveSpmMerges(vocab);
      this.hf = new PreTrainedTokenizer(spmTokenizerJSON(vocab, []), config);
      this.hf.model.bpe_ranks = ranks;
    } else {
      this.hf = new PreTrainedTokenizer(bpeTokenizerJSON(vocab), config);
    }
    // The model's id → text table is built from a text → id map, which loses duplicate texts.
    this.hf.model.vocab = vocab.tokens.slice();
  }

  get source(): TokenizerSource {
    return { kind: 'gguf', vocab: this.vocab };
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    // transformers.js would still emit the dummy-prefix token '▁' for empty text; llama.cpp emits nothing.
    const ids = text.length === 0 ? [] : this.hf.encode(text, null, { add_special_tokens: false });
    // transformers.js caches the merges of every word forever. A SentencePiece "word" is the whole text, so
    // that cache only grows; byte-level BPE words repeat, so there it is kept, up to a bound.
    const cache = this.hf.model.cache;
    if (cache && (this.vocab.model === 'llama' || cache.size > MAX_BPE_CACHE_ENTRIES)) cache.clear();
    if ((opts.addBos ?? this.addBos) && this.bosId !== undefined) ids.unshift(this.bosId);
    if ((opts.addEos ?? this.vocab.addEos) && this.vocab.eosId !== undefined) ids.push(this.vocab.eosId);
    return ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    for (const id of ids) this.checkId(id);
    const kept = opts.skipSpecial ? ids.filter((id) => !this.isSpecial(id)) : ids.slice();
    if (this.vocab.model === 'llama') return this.decodeModel(kept);
    // The byte-level decoder would read a control token's text as byte symbols ('<|endoftext|>' happens to
    // survive, DeepSeek's '<｜begin▁of▁sentence｜>' would not), so those are spliced in verbatim.
    let text = '';
    let start = 0;
    for (let i = 0; i <= kept.length; i++) {
      if (i < kept.length && !this.isSpecial(kept[i])) continue;
      text += this.decodeModel(kept.slice(start, i));
      if (i < kept.length) text += this.vocab.tokens[kept[i]];
      start = i + 1;
    }
    return text;
  }

  private decodeModel(ids: number[]): string {
    if (ids.length === 0) return '';
    return this.hf.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  tokenText(id: number): string {
    this.checkId(id);
    return this.vocab.tokens[id];
  }

  isSpecial(id: number): boolean {
    return isSpecialToken(this.vocab, id);
  }

  private checkId(id: number): void {
    checkTokenId(id, this.vocabSize);
  }
}
