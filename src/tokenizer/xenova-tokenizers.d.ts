// Types for the one transformers.js module Hearth imports. The package ships declarations only for its
// root entry, and importing the root would pull in models and ONNX Runtime; this is the part we use.
declare module '@xenova/transformers/src/tokenizers.js' {
  export class PreTrainedTokenizer {
    constructor(tokenizerJSON: object, tokenizerConfig: object);
    encode(text: string, textPair?: string | null, options?: { add_special_tokens?: boolean }): number[];
    decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean | null }): string;
    /** The tokenizer model (BPE here); fields Hearth adjusts after construction. */
    model: {
      vocab: string[];
      tokens_to_ids: Map<string, number>;
      bpe_ranks?: Map<string, number>;
      merges?: string[][];
      cache?: Map<string, string[]>;
    };
  }
}
