// What every tokenizer is (GGUF vocabularies, WordPiece, Hugging Face tokenizer.json): the interface the engine,
// the text streamer and the chat template use, and the plain data that rebuilds one elsewhere.
import type { GGUFVocab } from './vocab';

type Json = Record<string, unknown>;

export interface HFTokenizerFiles {
  tokenizerJSON: Json;
  tokenizerConfig: Json;
  generationConfig?: Json;
  /** config.json (bos_token_id / eos_token_id when the tokenizer files do not name them). */
  modelConfig?: Json;
  /** Rows of the model's embedding: ids past the tokenizer's own are padding tokens, as llama.cpp's converter adds. */
  vocabSize?: number;
  /** For messages. */
  name: string;
}

export interface EncodeOptions {
  /** Put BOS first. Default: what the vocabulary says (`tokenizer.ggml.add_bos_token`). */
  addBos?: boolean;
  /** Put EOS last. Default: `tokenizer.ggml.add_eos_token` (false when absent). */
  addEos?: boolean;
}

export interface DecodeOptions {
  /** Leave out control, unknown and unused tokens (BOS, EOS, <unk>, ...). Default false. */
  skipSpecial?: boolean;
}

/**
 * Plain data that rebuilds a tokenizer elsewhere (structured-cloneable): how the page side of the worker
 * gets a tokenizer of its own for synchronous encode/decode (the pipeline's generator.tokenizer).
 */
export type TokenizerSource = { kind: 'gguf'; vocab: GGUFVocab } | { kind: 'hf'; files: HFTokenizerFiles };

export interface Tokenizer {
  /** Token ids of `text`; text never produces control tokens (a typed "<s>" stays text). */
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  readonly bosId: number | undefined;
  /** Every id that ends generation (EOS, and end-of-turn / end-of-message where the vocabulary has them). */
  readonly eosIds: number[];
  readonly vocabSize: number;
  /** The token as stored in the vocabulary (e.g. '▁the', '<0x0A>', '<s>'). */
  tokenText(id: number): string;
  /** Control, unknown and unused tokens: never produced from text, skipped by decode({ skipSpecial }). */
  isSpecial(id: number): boolean;
  /** What this tokenizer was built from; tokenizerFromSource(source) makes an equal one. */
  readonly source: TokenizerSource;
}
