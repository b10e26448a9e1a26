// Embeddings API shapes: OpenAI's (`openai/resources/embeddings`, written out so Hearth needs no dependency;
// test/helpers/openai-sdk-embedding-types.ts checks them against the SDK at compile time) and Hearth's own
// `embed` (any pooling, optional normalisation: what transformers.js's feature-extraction pipeline offers).

/** OpenAI's request. `model` is accepted and echoed (the engine runs the model it loaded). */
export interface EmbeddingCreateParams {
  /** A text, several texts, one input as token ids, or several. */
  input: string | string[] | number[] | number[][];
  model?: string;
  /** Matryoshka truncation: the first `dimensions` values, renormalised. Default: all of the model's. */
  dimensions?: number;
  /** 'float' (default): number arrays; 'base64': the little-endian float32 bytes, base64 (smaller to send on). */
  encoding_format?: 'float' | 'base64';
  user?: string;
}

export interface Embedding<E = number[]> {
  embedding: E;
  index: number;
  object: 'embedding';
}

export interface CreateEmbeddingResponse<E = number[]> {
  data: Embedding<E>[];
  model: string;
  object: 'list';
  usage: { prompt_tokens: number; total_tokens: number };
}

/** How token vectors become one: the model's own (`<arch>.pooling_type`), or as named; 'none' keeps every token's. */
export type EmbeddingPooling = 'model' | 'mean' | 'cls' | 'last' | 'none';

export interface EmbedOptions {
  /** Default 'model': the file's pooling_type, else the last token (causal models) or the mean (encoders). */
  pooling?: EmbeddingPooling;
  /** L2-normalise each vector (each token's, with pooling 'none'). Default true. */
  normalize?: boolean;
  /** Keep the first `dimensions` values (renormalised when normalize). Default: all. */
  dimensions?: number;
  /**
   * Text put before every text input: an instruction-tuned embedder's prefix, e.g. nomic's 'search_query: ', or
   * Qwen3-Embedding's for queries, `Instruct: ${task}\nQuery:` (its documents go without). Default none.
   */
  prefix?: string;
}

export interface EmbedResult {
  /** One vector per input, or with pooling 'none' each input's token vectors, row after row [tokens × dims]. */
  vectors: Float32Array[];
  /** Tokens each input became (BOS/CLS and EOS/SEP included). */
  tokenCounts: number[];
  /** Values per vector. */
  dimensions: number;
}

/** engine.embeddings */
export interface Embeddings {
  /** OpenAI's embeddings endpoint: unit-length vectors in input order, with the tokens used. */
  create(params: EmbeddingCreateParams & { encoding_format: 'base64' }): Promise<CreateEmbeddingResponse<string>>;
  create(params: EmbeddingCreateParams): Promise<CreateEmbeddingResponse>;
  /** Hearth's form: Float32Arrays, any pooling, normalisation optional. */
  embed(input: string | string[] | number[][], options?: EmbedOptions): Promise<EmbedResult>;
}
