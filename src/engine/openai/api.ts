// engine.chat.completions and engine.completions with the SDK's overloads; the layer behind them (parameter
// checks, response shapes) is endpoints.ts. It is called before anything awaits, so requests queue in call order.
import { createChatCompletion, createCompletion, type OpenAIBackend } from './endpoints';
import type {
  ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming,
  Completion, CompletionCreateParams, CompletionCreateParamsNonStreaming, CompletionCreateParamsStreaming, RequestOptions, Stream,
} from './types';

export class ChatCompletions {
  constructor(private readonly backend: OpenAIBackend) {}

  create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): Promise<Stream<ChatCompletionChunk>>;
  create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>;
  create(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | Stream<ChatCompletionChunk>>;
  create(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | Stream<ChatCompletionChunk>> {
    return createChatCompletion(this.backend, params, options);
  }
}

export class Completions {
  constructor(private readonly backend: OpenAIBackend) {}

  create(params: CompletionCreateParamsStreaming, options?: RequestOptions): Promise<Stream<Completion>>;
  create(params: CompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<Completion>;
  create(params: CompletionCreateParams, options?: RequestOptions): Promise<Completion | Stream<Completion>>;
  create(params: CompletionCreateParams, options?: RequestOptions): Promise<Completion | Stream<Completion>> {
    return createCompletion(this.backend, params, options);
  }
}
