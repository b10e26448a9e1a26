// Hearth's public API.
/// <reference types="@webgpu/types" preserve="true" />
export { createEngine } from './engine/page/engine';
export { pipeline } from './pipeline/index';
export type { FeatureExtractionOptions, FeatureExtractionPipeline, FeatureTensor, PipelineOptions, PipelineTokenizer, ProgressInfo, TextGenerationConfig, TextGenerationOutput, TextGenerationPipeline, TextGenerationSingle } from './pipeline/index';
export { TextStreamer } from './pipeline/streamer';
export type { BaseStreamer, TextStreamerOptions } from './pipeline/streamer';
export type {
  ChatMessage, ChatTemplateOptions, GenerateOptions, GenerationResult, LoadOptions, LoadProgress, ModelInfo, ModelSource, ResponseFormat,
  TokenChunk, TokenLogprob, TokenStream,
} from './engine/types';
export type { Engine } from './engine/api';
export type { ChatCompletions, Completions } from './engine/openai/api';
export { openaiFetch, type OpenAIFetch, type OpenAIFetchEngine } from './engine/openai/fetch';
export type { ChatTool, ChatToolCall } from './engine/tools/formats';
export { toolChat, toolReply, type ToolChoice } from './engine/tools/native';
export type * from './engine/openai/types';
export type * from './engine/embedding-types';
// Retrieval over the user's documents (src/retrieval/): createIndex, stores, grounded prompts with citations.
export {
  citedSources, createIndex, DEFAULT_INSTRUCTIONS, directoryStore, documentText, documentTypeOf, groundedMessages, groundedPrompt, indexedDBStore,
  memoryStore, prefixesFor, splitPassages,
} from './retrieval/index';
export type {
  AddOptions, DocumentIndex, DocumentInput, DocumentStore, DocumentType, EmbedFunction, EmbedKind, EmbedderOptions, GroundedPromptOptions,
  IndexedDocument, IndexOptions, IndexProgress, Passage, PassageSpan, SearchHit, SplitOptions, StoredDocument,
} from './retrieval/index';
export { HearthError, FormatError, UnsupportedError, DownloadError, ResourceError, InvalidRequestError, isAbortError } from './errors';

// Loading from the Hugging Face hub: pre-flight check and the model cache. Both load their code on first use,
// so a page that never calls them does not download the model readers.
export type { ModelFetchOptions } from './io/fetch-options';
export type { CheckModelOptions, ModelCheck } from './model/check';
export type { CachedFile, ModelCache } from './io/cache';
export { DEFAULT_QUANTIZATIONS } from './io/hub-defaults';

/** Whether this device can run a model (hub id, URL or path), from its header alone; see src/model/check.ts. */
export async function checkModel(model: string | URL, options?: import('./model/check').CheckModelOptions): Promise<import('./model/check').ModelCheck> {
  return (await import('./model/check')).checkModel(model, options);
}

/**
 * The model cache (browser: the origin-private file system; Node: `cacheDir`, default under the user's cache
 * directory): list(), size(), delete(idOrUrl), clear(). Undefined in a browser without OPFS.
 */
export async function openModelCache(options?: Pick<import('./io/fetch-options').ModelFetchOptions, 'cacheDir' | 'cacheMaxBytes'>): Promise<import('./io/cache').ModelCache | undefined> {
  return (await import('./io/cache')).ModelCache.open(options);
}
