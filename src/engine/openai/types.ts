// The OpenAI SDK's request and response shapes (openai v4–v6, `openai/resources/chat/completions` and
// `openai/resources/completions`), written out so Hearth's types need no dependency, with one widening:
// finish_reason may also be 'abort' (the request's signal ended it). test/openai-types.test.ts checks, at
// compile time, that every response type here is assignable to the SDK's once 'abort' is excluded, and that the
// SDK's request types are accepted by `create`. Hearth extensions to the parameters are marked.

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | 'abort';

export interface CompletionUsage {
  completion_tokens: number;
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens_details?: { accepted_prediction_tokens?: number; audio_tokens?: number; reasoning_tokens?: number; rejected_prediction_tokens?: number };
  /** cached_tokens: prompt tokens whose KV cache was reused from the previous request (not recomputed). */
  prompt_tokens_details?: { audio_tokens?: number; cached_tokens?: number };
  /** Hearth extension, with truncation 'auto' on chat.completions: the oldest messages left out to fit the context. */
  truncated_messages?: number;
  /** Hearth extension, with truncation 'auto' on completions: the oldest prompt tokens left out to fit the context. */
  truncated_tokens?: number;
}

export interface ChatCompletionTokenLogprob {
  token: string;
  bytes: number[] | null;
  logprob: number;
  top_logprobs: { token: string; bytes: number[] | null; logprob: number }[];
}

/** A call the model made: function.arguments is JSON text, valid under the tool's parameters (the grammar forced it). */
export interface ChatCompletionMessageFunctionToolCall {
  id: string;
  type: 'function';
  function: { arguments: string; name: string };
}
/** The SDK's other kind of call (custom tools); Hearth makes none. */
export interface ChatCompletionMessageCustomToolCall {
  id: string;
  type: 'custom';
  custom: { input: string; name: string };
}
export type ChatCompletionMessageToolCall = ChatCompletionMessageFunctionToolCall | ChatCompletionMessageCustomToolCall;

/** A streamed piece of a call: index, id, type and name come once, arguments in pieces. */
export interface ChatCompletionChunkToolCall {
  index: number;
  id?: string;
  type?: 'function';
  function?: { arguments?: string; name?: string };
}

export interface ChatCompletionMessage {
  content: string | null;
  refusal: string | null;
  role: 'assistant';
  /** The calls, when the model called tools (finish_reason 'tool_calls'); content is then the text before them, or null. */
  tool_calls?: ChatCompletionMessageToolCall[];
}

export interface ChatCompletion {
  id: string;
  choices: {
    finish_reason: FinishReason;
    index: number;
    logprobs: { content: ChatCompletionTokenLogprob[] | null; refusal: ChatCompletionTokenLogprob[] | null } | null;
    message: ChatCompletionMessage;
  }[];
  created: number;
  model: string;
  object: 'chat.completion';
  system_fingerprint?: string;
  usage?: CompletionUsage;
}

export interface ChatCompletionChunk {
  id: string;
  choices: {
    delta: { content?: string | null; refusal?: string | null; role?: 'developer' | 'system' | 'user' | 'assistant' | 'tool'; tool_calls?: ChatCompletionChunkToolCall[] };
    finish_reason: FinishReason | null;
    index: number;
    logprobs?: { content: ChatCompletionTokenLogprob[] | null; refusal: ChatCompletionTokenLogprob[] | null } | null;
  }[];
  created: number;
  model: string;
  object: 'chat.completion.chunk';
  system_fingerprint?: string;
  usage?: CompletionUsage | null;
}

export interface Completion {
  id: string;
  choices: {
    finish_reason: 'stop' | 'length' | 'content_filter' | 'abort';
    index: number;
    logprobs: { text_offset?: number[]; token_logprobs?: number[]; tokens?: string[]; top_logprobs?: Record<string, number>[] } | null;
    text: string;
  }[];
  created: number;
  model: string;
  object: 'text_completion';
  system_fingerprint?: string;
  usage?: CompletionUsage;
}

/**
 * A message as the SDK types allow it. Hearth reads roles system, developer (as system), user, assistant and
 * tool, and text content (a string or text parts); other content parts are rejected with InvalidRequestError.
 */
export interface ChatCompletionMessageParam {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';
  content?: string | null | readonly { type: string; text?: string }[];
  name?: string;
  /** role 'assistant': the calls it made (as a response returned them). */
  tool_calls?: readonly ChatCompletionMessageToolCall[] | null;
  /** role 'tool': the id of the call this message is the result of. */
  tool_call_id?: string;
}

/** A function the model may call (OpenAI's `tools` entries; `parameters` in the JSON-schema subset of response_format). */
export interface ChatCompletionFunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

/** Sampling and output options shared by both endpoints. */
interface CommonParams {
  /** Ignored: the engine runs the model it loaded. */
  model?: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  stop?: string | string[] | null;
  seed?: number | null;
  n?: number | null;
  stream_options?: { include_usage?: boolean; include_obfuscation?: boolean } | null;
  user?: string;
  /** Hearth extension: keep the k most likely tokens. */
  top_k?: number | null;
  /** Hearth extension: keep tokens at least min_p × as likely as the top one. */
  min_p?: number | null;
  /** Hearth extension: transformers' repetition penalty over prompt and output tokens. */
  repetition_penalty?: number | null;
  /** Hearth extension (the SDK passes it as a request option): aborts the request. */
  signal?: AbortSignal;
  /**
   * Hearth extension, as in OpenAI's Responses API: 'auto' leaves out the oldest messages (chat) or prompt
   * tokens (completions) that do not fit the context; 'disabled' (default) fails the request instead. usage
   * then says how much went (truncated_messages, truncated_tokens).
   */
  truncation?: 'auto' | 'disabled' | null;
}

export interface ChatCompletionCreateParamsBase extends CommonParams {
  messages: readonly ChatCompletionMessageParam[];
  max_completion_tokens?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  response_format?:
    | { type: 'text' }
    | { type: 'json_object' }
    | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null } };
  stream?: boolean | null;
  /**
   * Functions the model may call (ChatCompletionFunctionTool; type 'function' only). The calls are written in the
   * model's own template syntax and constrained by a grammar: names among the tools, arguments valid under
   * their `parameters`. tool_choice: 'auto' (default), 'none', 'required' or { type: 'function', function: { name } }.
   */
  tools?: readonly unknown[];
  tool_choice?: unknown;
  /** false: at most one call per turn. */
  parallel_tool_calls?: boolean;
  /**
   * Refused when non-empty: the deprecated functions API (use tools). The parameters below are accepted at the
   * values that describe what Hearth does and refused otherwise (src/engine/openai/params.ts): never silently ignored.
   */
  functions?: readonly unknown[];
  function_call?: unknown;
  audio?: unknown;
  metadata?: unknown;
  modalities?: unknown;
  moderation?: unknown;
  prediction?: unknown;
  prompt_cache_key?: string | null;
  prompt_cache_options?: unknown;
  prompt_cache_retention?: unknown;
  reasoning_effort?: unknown;
  safety_identifier?: string | null;
  service_tier?: unknown;
  store?: boolean | null;
  verbosity?: unknown;
  web_search_options?: unknown;
}
export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase { stream?: false | null }
export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase { stream: true }
export type ChatCompletionCreateParams = ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming;

export interface CompletionCreateParamsBase extends CommonParams {
  /** Text, or token ids as they are to be fed (a one-element array of either also works). */
  prompt: string | readonly string[] | readonly number[] | readonly (readonly number[])[] | null;
  /** Top log-probabilities per token (0..5 in OpenAI; up to 20 here). */
  logprobs?: number | null;
  /** Put the prompt in front of the completion's text. */
  echo?: boolean | null;
  best_of?: number | null;
  suffix?: string | null;
  stream?: boolean | null;
}
export interface CompletionCreateParamsNonStreaming extends CompletionCreateParamsBase { stream?: false | null }
export interface CompletionCreateParamsStreaming extends CompletionCreateParamsBase { stream: true }
export type CompletionCreateParams = CompletionCreateParamsNonStreaming | CompletionCreateParamsStreaming;

/** What the SDK passes as create's second argument. */
export interface RequestOptions { signal?: AbortSignal | null; timeout?: number; headers?: unknown; maxRetries?: number }

/**
 * A streaming response, like the SDK's Stream: iterate it; `controller.abort()` ends it (finish_reason 'abort'),
 * and so does leaving the loop early (break), which aborts the controller as the SDK does.
 */
export interface Stream<T> extends AsyncIterable<T> {
  readonly controller: AbortController;
}
