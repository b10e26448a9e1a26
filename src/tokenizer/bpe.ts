// Byte-level BPE ('gpt2') vocabularies (GPT-2, Llama 3, Qwen2, ...) as a tokenizer.json for transformers.js.
// The merges are stored in the file; what is not stored is the pre-tokenizer regex: llama.cpp compiles one
// in per `tokenizer.ggml.pre` name, and so do we (same expressions as llama.cpp's llm_tokenizer_bpe).
import { UnsupportedError } from '../errors';
import { bpeModelJSON, userDefinedTokens } from './spm';
import type { GGUFVocab } from './vocab';

const CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3_REGEX = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const QWEN2_REGEX = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;

interface PreTokenizerFlavour {
  /** Applied one after the other; each splits every piece further, keeping matches and gaps. */
  regexes: string[];
  /** Whole words that are tokens skip the merges (Llama 3). */
  ignoreMerges: boolean;
  /** llama.cpp's add_bos default for this flavour when the file does not say. */
  addBosDefault: boolean;
}

const LLAMA3: PreTokenizerFlavour = { regexes: [LLAMA3_REGEX], ignoreMerges: true, addBosDefault: true };
const GPT2: PreTokenizerFlavour = { regexes: [GPT2_REGEX], ignoreMerges: false, addBosDefault: false };
const QWEN2: PreTokenizerFlavour = { regexes: [QWEN2_REGEX], ignoreMerges: false, addBosDefault: false };
const DEFAULT: PreTokenizerFlavour = {
  regexes: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2_REGEX, '\\p{N}+', '[0-9][0-9][0-9]'],
  ignoreMerges: false,
  addBosDefault: false,
};

/** `tokenizer.ggml.pre` names (as written by llama.cpp's converter) → pre-tokenizer. */
const FLAVOURS: Record<string, PreTokenizerFlavour> = {
  'default': DEFAULT,
  'llama3': LLAMA3, 'llama-v3': LLAMA3, 'llama-bpe': LLAMA3, 'falcon3': LLAMA3, 'dbrx': LLAMA3, 'smaug-bpe': LLAMA3,
  'gpt-2': GPT2, 'gpt2': GPT2, 'phi-2': GPT2, 'mpt': GPT2, 'olmo': GPT2, 'jais': GPT2,
  'qwen2': QWEN2, 'deepseek-r1-qwen': QWEN2, 'stablelm2': QWEN2,
};

export function bpePreTokenizer(vocab: GGUFVocab): PreTokenizerFlavour {
  const flavour = FLAVOURS[vocab.pre ?? 'default'];
  if (flavour === undefined) {
    throw new UnsupportedError(`BPE pre-tokenizer '${vocab.pre}' is not supported; supported: ${Object.keys(FLAVOURS).join(', ')}`);
  }
  return flavour;
}

/**
 * tokenizer.json for a byte-level BPE vocabulary: split by the flavour's regexes (keeping every piece),
 * map bytes to the GPT-2 byte alphabet, merge by the stored merge list, decode bytes back.
 * As for SentencePiece, control tokens are not added tokens, so typed text never becomes one.
 */
export function bpeTokenizerJSON(vocab: GGUFVocab): Record<string, unknown> {
  const flavour = bpePreTokenizer(vocab);
  return {
    version: '1.0',
    added_tokens: userDefinedTokens(vocab),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        ...flavour.regexes.map((regex) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false })),
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: bpeModelJSON(vocab, vocab.merges ?? [], { byte_fallback: false, ignore_merges: flavour.ignoreMerges }),
  };
}
