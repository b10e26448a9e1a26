// Hearth's public API.
export { createEngine } from './engine/engine';
export type {
  ChatMessage, ChatTemplateOptions, Engine, GenerateOptions, GenerationResult, LoadOptions, LoadProgress, ModelInfo, ModelSource, ResponseFormat,
  TokenChunk, TokenLogprob, TokenStream,
} from './engine/types';
export type { ChatCompletions, Completions } from './engine/openai';
export type * from './engine/openai-types';
export { HearthError, FormatError, UnsupportedError, DownloadError, ResourceError, InvalidRequestError, isAbortError } from './errors';
