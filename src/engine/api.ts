// The Engine interface: what createEngine returns (page/engine.ts implements it). Its OpenAI-shaped members
// come from openai/, its request and result shapes from types.ts.
import type { ChatMessage, ChatTemplateOptions } from '../tokenizer/chat-template';
import type { Embeddings } from './embedding-types';
import type { ChatCompletions, Completions } from './openai/api';
import type { GenerateOptions, LoadOptions, ModelInfo, ModelSource, TokenStream } from './types';

export interface Engine {
  /** The loaded model (InvalidRequestError after unload(), until reload()). */
  readonly model: ModelInfo;
  /**
   * Continues `prompt` (text, or token ids as they are to be fed). Requests queue and run one at a time, in
   * the order they were made. The KV cache keeps the previous context: when a prompt starts with its tokens,
   * only the new tokens are computed (GenerationResult.cachedTokens says how many were reused).
   */
  generate(prompt: string | readonly number[], options?: GenerateOptions): TokenStream;
  /**
   * `engine.chat(messages, options)`: the assistant's reply to `messages`: they are rendered with the model's chat
   * template (generation prompt included), and generation stops at the end of the assistant's turn (EOS,
   * '<|eot_id|>', '<|im_end|>', '<end_of_turn>', ...). The KV cache is reused as the conversation grows.
   * InvalidRequestError when the model has no chat template (a base model: use generate).
   * `engine.chat.completions.create(params)`: the same, OpenAI-shaped (ChatCompletion, or with stream: true
   * an async iterable of ChatCompletionChunk).
   */
  readonly chat: ((messages: ChatMessage[], options?: GenerateOptions) => TokenStream) & { readonly completions: ChatCompletions };
  /** OpenAI's legacy completions endpoint: `engine.completions.create({ prompt, ... })` continues raw text. */
  readonly completions: Completions;
  /** OpenAI's embeddings endpoint (`engine.embeddings.create({ input })`) and Hearth's `embed`; needs a model loaded for embeddings. */
  readonly embeddings: Embeddings;
  /** The prompt text chat() would feed the model for `messages` (InvalidRequestError without a template). */
  applyChatTemplate(messages: ChatMessage[], options?: ChatTemplateOptions): Promise<string>;
  /** Token ids of `text`, BOS first as the model file says (or as options.addBos says). */
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
  /** Frees the model's GPU memory; the engine (and its worker) stays, and reload() loads a model again. */
  unload(): Promise<void>;
  /**
   * Loads `model` (default: the model loaded last, e.g. after unload() or a lost GPU device) in place of the
   * current one, after the requests already queued.
   */
  reload(model?: ModelSource, options?: LoadOptions): Promise<ModelInfo>;
  /** Frees the GPU memory and stops the worker. */
  dispose(): Promise<void>;
}
