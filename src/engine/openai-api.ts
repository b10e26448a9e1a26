// engine.chat.completions and engine.completions with the SDK's overloads. The layer behind them (openai.ts: the
// parameter checks and response shapes) loads on the first call, so a page that never calls them (the widget)
// does not download it.
import type { OpenAIBackend } from './openai';
import type {
  ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming,
  Completion, CompletionCreateParams, CompletionCreateParamsNonStreaming, CompletionCreateParamsStreaming, RequestOptions, Stream,
} from './openai-types';

export class ChatCompletions {
  constructor(private readonly backend: OpenAIBackend) {}

  create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): Promise<Stream<ChatCompletionChunk>>;
  create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>;
  create(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | Stream<ChatCompletionChunk>>;
  async create(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | Stream<ChatCompletionChunk>> {
    return (await import('./openai')).createChatCompletion(this.backend, params, options);
  }
}

export class Completions {
  constructor(private readonly backend: OpenAIBackend) {}

  create(params: CompletionCreateParamsStreaming, options?: RequestOptions): Promise<Stream<Completion>>;
  create(params: CompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<Completion>;
  create(params: CompletionCreateParams, options?: RequestOptions): Promise<Completion | Stream<Completion>>;
  async create(params: CompletionCreateParams, options?: RequestOptions): Promise<Completion | Stream<Completion>> {
    return (await import('./openai')).createCompletion(this.backend, params, options);
  }
}
