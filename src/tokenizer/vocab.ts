// Reads the `tokenizer.ggml.*` metadata of a GGUF file into one checked, typed record.
// Everything downstream (the SentencePiece and byte-level BPE builders) works from this record,
// so the GGUF spelling of keys and the "id or none" conventions live in one place.
import { FormatError, InvalidRequestError, UnsupportedError } from '../errors';
import { type GGUFValue } from '../model/gguf';
import { getOptionalBoolean, getOptionalNumber, getOptionalNumberArray, getOptionalString, getOptionalStringArray, getStringArray } from '../model/gguf-metadata';

/** llama.cpp's token types (`tokenizer.ggml.token_type`). */
export const TokenType = {
  UNDEFINED: 0, NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6,
} as const;

/** Vocabulary kinds Hearth implements: 'llama' = SentencePiece with byte fallback, 'gpt2' = byte-level BPE, 'bert' = WordPiece. */
type VocabModel = 'llama' | 'gpt2' | 'bert';

export interface GGUFVocab {
  model: VocabModel;
  /** `tokenizer.ggml.pre` (pre-tokenizer flavour of 'gpt2' vocabularies: 'llama-bpe', 'qwen2', 'gpt-2', ...). */
  pre: string | undefined;
  tokens: string[];
  /** SentencePiece scores, one per token (merge priority for 'llama'); undefined when absent. */
  scores: Float32Array | undefined;
  /** One TokenType per token; all NORMAL when the file has none. */
  types: Int32Array;
  /** BPE merges "left right", highest priority first ('gpt2' only). */
  merges: string[] | undefined;
  bosId: number | undefined;
  eosId: number | undefined;
  /** End-of-turn / end-of-message tokens, which also end generation when present. */
  eotId: number | undefined;
  eomId: number | undefined;
  unkId: number | undefined;
  padId: number | undefined;
  /** The separator ('bert': [SEP], appended to every input as llama.cpp does). */
  sepId: number | undefined;
  /** WordPiece normalisation ('bert'): `tokenizer.ggml.normalizer.lowercase` and `.strip_accents`, llama.cpp's defaults true. */
  lowercase: boolean;
  stripAccents: boolean;
  /** `tokenizer.ggml.add_bos_token`; undefined when absent (the default depends on the vocabulary kind). */
  addBos: boolean | undefined;
  addEos: boolean;
  /** SentencePiece's "dummy prefix": text is tokenized as if it started with a space. */
  addSpacePrefix: boolean;
}

type Metadata = Map<string, GGUFValue>;

/** Parses and validates the tokenizer metadata. Unknown models throw UnsupportedError. */
/** Control, unknown and unused tokens: what `skipSpecial` leaves out of decoded text. */
export function isSpecialToken(vocab: GGUFVocab, id: number): boolean {
  const type = vocab.types[id];
  return type === TokenType.CONTROL || type === TokenType.UNKNOWN || type === TokenType.UNUSED;
}

export function checkTokenId(id: number, vocabSize: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new InvalidRequestError(`token id ${id} is outside the vocabulary (0..${vocabSize - 1})`);
  }
}

export function readVocab(metadata: Metadata): GGUFVocab {
  const file = { metadata };
  const model = getOptionalString(file, 'tokenizer.ggml.model');
  if (model === undefined) {
    throw new FormatError("this GGUF file has no tokenizer (metadata 'tokenizer.ggml.model' is missing); Hearth needs the vocabulary inside the model file");
  }
  if (model !== 'llama' && model !== 'gpt2' && model !== 'bert') {
    throw new UnsupportedError(`tokenizer model '${model}' is not supported; Hearth handles 'llama' (SentencePiece), 'gpt2' (byte-level BPE) and 'bert' (WordPiece) vocabularies`);
  }
  const tokens = getStringArray(file, 'tokenizer.ggml.tokens');
  const n = tokens.length;
  if (n === 0) throw new FormatError("metadata 'tokenizer.ggml.tokens' is empty");

  const rawScores = getOptionalNumberArray(file, 'tokenizer.ggml.scores');
  if (rawScores !== undefined && rawScores.length !== n) {
    throw new FormatError(`metadata 'tokenizer.ggml.scores' has ${rawScores.length} entries for ${n} tokens`);
  }
  const scores = rawScores === undefined ? undefined
    : rawScores instanceof Float32Array ? rawScores : Float32Array.from(rawScores);

  const rawTypes = getOptionalNumberArray(file, 'tokenizer.ggml.token_type');
  if (rawTypes !== undefined && rawTypes.length !== n) {
    throw new FormatError(`metadata 'tokenizer.ggml.token_type' has ${rawTypes.length} entries for ${n} tokens`);
  }
  const types = rawTypes === undefined ? new Int32Array(n).fill(TokenType.NORMAL)
    : rawTypes instanceof Int32Array ? rawTypes : Int32Array.from(rawTypes);

  const merges = getOptionalStringArray(file, 'tokenizer.ggml.merges');
  if (model === 'gpt2' && merges === undefined) {
    throw new FormatError("a 'gpt2' (BPE) vocabulary needs 'tokenizer.ggml.merges', which this file lacks");
  }
  if (model === 'llama' && scores === undefined) {
    throw new FormatError("a 'llama' (SentencePiece) vocabulary needs 'tokenizer.ggml.scores', which this file lacks");
  }

  const isSpm = model === 'llama';
  // llama.cpp's defaults for ids a file leaves out: SentencePiece <unk>=0, <s>=1, </s>=2; GPT-2 BPE 11 for both.
  const defaultIds: Record<string, number> = isSpm ? { bos_token_id: 1, eos_token_id: 2, unknown_token_id: 0 }
    : model === 'bert' ? { bos_token_id: 101, unknown_token_id: 100, seperator_token_id: 102, padding_token_id: 0 }
    : { bos_token_id: 11, eos_token_id: 11 };
  const lowercase = getOptionalBoolean(file, 'tokenizer.ggml.normalizer.lowercase') ?? true;
  // Ids are stored as uint32; "none" is written as -1 (0xFFFFFFFF).
  const tokenId = (key: string): number | undefined => {
    const id = file.metadata.has(`tokenizer.ggml.${key}`) ? getOptionalNumber(file, `tokenizer.ggml.${key}`) : defaultIds[key];
    return id !== undefined && Number.isInteger(id) && id >= 0 && id < n ? id : undefined;
  };
  return {
    model,
    pre: getOptionalString(file, 'tokenizer.ggml.pre'),
    tokens,
    scores,
    types,
    merges,
    bosId: tokenId('bos_token_id'),
    eosId: tokenId('eos_token_id'),
    eotId: tokenId('eot_token_id'),
    eomId: tokenId('eom_token_id'),
    unkId: tokenId('unknown_token_id'),
    padId: tokenId('padding_token_id'),
    sepId: tokenId('seperator_token_id'), // sic: llama.cpp's key
    lowercase,
    stripAccents: getOptionalBoolean(file, 'tokenizer.ggml.normalizer.strip_accents') ?? lowercase,
    addBos: getOptionalBoolean(file, 'tokenizer.ggml.add_bos_token'),
    addEos: getOptionalBoolean(file, 'tokenizer.ggml.add_eos_token') ?? false,
    addSpacePrefix: getOptionalBoolean(file, 'tokenizer.ggml.add_space_prefix') ?? isSpm,
  };
}
