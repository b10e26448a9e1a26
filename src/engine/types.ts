// The public shapes of the engine API, shared by the page, the worker and Node.
import type { LoadProgress } from '../io/progress';
import type { ChatMessage, ChatTemplateOptions } from '../tokenizer/chat-template';

export type { LoadProgress, ChatMessage, ChatTemplateOptions };

/**
 * Where a model comes from: a URL (absolute or page-relative), a local path (Node), or the bytes of a GGUF.
 * A .gguf file is read as GGUF; a directory (Node) or a base URL serving `<base>/config.json`, `tokenizer.json`
 * and `model.safetensors` (or `model.safetensors.index.json` and its shards) — the layout of
 * https://huggingface.co/<repo>/resolve/main — is loaded as a Hugging Face safetensors repo.
 */
export type ModelSource = string | URL | ArrayBuffer | Uint8Array;

export interface LoadOptions {
  /** Called as the model downloads, parses, uploads to the GPU and compiles. */
  onProgress?: (p: LoadProgress) => void;
  /** Aborts loading with an AbortError. */
  signal?: AbortSignal;
  /** Positions the KV cache holds; defaults to min(model's context length, 2048). */
  contextLength?: number;
  /**
   * Arithmetic of the weight kernels, chosen once at load: 'auto' (default) = f16 where the adapter has the
   * 'shader-f16' feature (faster on GPUs with native f16; logits differ from f32 by about 1e-3 relative), f32
   * elsewhere. 'f32' gives the reference results on any device; 'f16' where unsupported is a ResourceError.
   */
  precision?: 'auto' | 'f16' | 'f32';
  /**
   * Quantize float (F32/F16/BF16) weight matrices to Q8_0 or Q4_0 as they load, like llama-quantize without an
   * importance matrix, so an f16 model takes about half (q8_0) or a quarter (q4_0) of the GPU memory. Matrices
   * whose rows are not a multiple of 32 become F16. Default: weights stay as stored.
   */
  quantize?: 'q8_0' | 'q4_0';
  /** Browser only: run the engine in a Web Worker (default) or on the calling thread. */
  worker?: boolean;
}

export interface ModelInfo {
  /** `general.name`, or the file name. */
  name: string;
  architecture: string;
  /** Positions the KV cache holds (what a prompt plus its continuation must fit in). */
  contextLength: number;
  vocabSize: number;
  /**
   * The Jinja chat template of an instruction-tuned model (`tokenizer.chat_template`); undefined for a base
   * model, which only continues text (chat() then throws InvalidRequestError).
   */
  chatTemplate?: string;
  /** Weight storage, e.g. 'F32', 'F16'. */
  weightType: string;
  /** Bytes given to createBuffer for weights, KV cache and activations. */
  gpuBytes: number;
  /** Arithmetic of the weight kernels: f16 (partial sums in f32) or f32; see LoadOptions.precision. */
  precision: 'f16' | 'f32';
  /** Adapter description, e.g. 'llvmpipe' or 'SwiftShader'. */
  adapter: string;
}

export interface GenerateOptions {
  /** Most tokens to generate (default 256). */
  maxTokens?: number;
  /** 0 (default) = greedy, argmax on the GPU; > 0 samples with the seeded pcg_hash stream. */
  temperature?: number;
  /** 0 (default) = off. */
  topK?: number;
  /** 1 (default) = off. */
  topP?: number;
  /** Seed for sampling (default 0). */
  seed?: number;
  /** Prepend BOS when the vocabulary asks for it (default true). */
  addBos?: boolean;
  /** Stops generation within one token; the stream ends with finishReason 'abort'. */
  signal?: AbortSignal;
}

/**
 * One generated token and the text it completed ('' while a UTF-8 character is still incomplete).
 * `token` is -1 only for a last chunk that flushes held-back bytes at the end.
 */
export interface TokenChunk { token: number; text: string }

export interface GenerationResult {
  /** Prompt ids as fed to the model, BOS included. */
  promptTokens: number[];
  /** Generated ids (EOS not included). */
  tokens: number[];
  /** The decoded continuation only. */
  text: string;
  finishReason: 'stop' | 'length' | 'abort';
  /** Prompt tokens actually computed (a cached prefix is skipped) and their rate. */
  prefillTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

/** Tokens as they are generated; `result` resolves when generation ends. */
export interface TokenStream extends AsyncIterable<TokenChunk> {
  readonly result: Promise<GenerationResult>;
  /** Same as aborting the request's signal. */
  cancel(): void;
}

export interface Engine {
  readonly model: ModelInfo;
  /**
   * Continues `prompt`. The KV cache keeps the previous context: when a prompt starts with the
   * tokens of the last one, only the new tokens are computed.
   */
  generate(prompt: string, options?: GenerateOptions): TokenStream;
  /**
   * The assistant's reply to `messages`: they are rendered with the model's chat template (generation
   * prompt included), and generation stops at the end of the assistant's turn (EOS, '<|eot_id|>',
   * '<|im_end|>', '<end_of_turn>', ...). The KV cache is reused as the conversation grows. Throws
   * InvalidRequestError when the model has no chat template (a base model: use generate).
   */
  chat(messages: ChatMessage[], options?: GenerateOptions): TokenStream;
  /** The prompt text chat() would feed the model for `messages` (InvalidRequestError without a template). */
  applyChatTemplate(messages: ChatMessage[], options?: ChatTemplateOptions): Promise<string>;
  tokenize(text: string, options?: { addBos?: boolean }): Promise<number[]>;
  detokenize(ids: number[]): Promise<string>;
  /**
   * The model's next-token logits [vocabSize] after `tokens` (ids as fed, BOS included; see tokenize), for
   * scoring text or a sampler of your own. Like generate it reuses the cached prefix, and `tokens` become
   * the cached context.
   */
  logits(tokens: number[]): Promise<Float32Array>;
  /** Forgets the cached context. */
  resetContext(): Promise<void>;
  /** Frees the GPU memory and stops the worker. */
  dispose(): Promise<void>;
}
