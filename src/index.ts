// Hearth's public API.
export { createEngine } from './engine/engine';
export type {
  ChatMessage, ChatTemplateOptions, Engine, GenerateOptions, GenerationResult, LoadOptions, LoadProgress, ModelInfo, ModelSource, TokenChunk, TokenStream,
} from './engine/types';
export { HearthError, FormatError, UnsupportedError, DownloadError, ResourceError, InvalidRequestError, isAbortError } from './errors';
