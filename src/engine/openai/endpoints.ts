// OpenAI-compatible front door: engine.chat.completions.create and engine.completions.create take the SDK's
// parameters and return its response shapes (src/engine/openai/types.ts), streaming included, on top of the
// engine's own generate/chat streams. Parameters are checked here, before anything is queued.
import { InvalidRequestError } from '../../errors';
import type { ChatMessage } from '../../tokenizer/chat-template';
import { checkParams, openAINames } from './params';
import { normalizeRequest, shown, type OptionNames } from '../options';
import type {
  ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, ChatCompletionMessageParam, ChatCompletionTokenLogprob, Completion,
  CompletionCreateParams, CompletionUsage, FinishReason, RequestOptions, Stream,
} from './types';
import { detectToolFormat, type ToolFormat } from '../tools/formats';
import { shapeToolMessages } from '../tools/shape';
import { ToolDeltas, toolRequest, toolResult, type ToolRequest } from '../tools/openai-tools';
import type { GenerateOptions, GenerationResult, ModelInfo, TokenLogprob, TokenStream } from '../types';

/** What the OpenAI layer needs from an engine. */
export interface OpenAIBackend {
  readonly model: ModelInfo;
  generate(prompt: string | readonly number[], options: GenerateOptions): TokenStream;
  chat(messages: ChatMessage[], options: GenerateOptions): TokenStream;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
/** OpenAI's legacy completions default. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

/** chat.completions.create (the overloads are in api.ts). */
export async function createChatCompletion(backend: OpenAIBackend, params: ChatCompletionCreateParams, options: RequestOptions = {}): Promise<ChatCompletion | Stream<ChatCompletionChunk>> {
  if (typeof params !== 'object' || params === null) throw new InvalidRequestError('create needs a parameters object with messages');
  checkParams('chat.completions', params as unknown as Record<string, unknown>);
  const messages = chatMessages(params.messages);
  if (params.logprobs !== true && params.top_logprobs != null) throw new InvalidRequestError('top_logprobs needs logprobs: true');
  const format = detectToolFormat(backend.model.chatTemplate);
  const tools = toolRequest(params, format);
  if (tools?.spec && params.response_format != null && params.response_format.type !== 'text') {
    throw new InvalidRequestError(`response_format ${shown(params.response_format.type)} with tools is not supported (the reply is either tool calls or text); use tool_choice: 'none' or drop response_format`);
  }
  const controller = new AbortController();
  const gen: GenerateOptions = {
    ...commonOptions(params, params.max_completion_tokens ?? params.max_tokens ?? Infinity),
    logprobs: params.logprobs ?? undefined,
    topLogprobs: params.logprobs ? params.top_logprobs ?? undefined : undefined,
    responseFormat: tools?.spec ? { type: 'tool_calls', spec: tools.spec } : responseFormat(params.response_format),
    signal: linkSignals(controller, params.signal, options.signal),
  };
  const maxName = params.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  checkOptions(gen, backend.model.vocabSize, openAINames(maxName, 'top_logprobs')); // throws before anything is queued
  const shaped = tools || messages.some((m) => m.role === 'tool' || m.tool_calls) ? shapeToolMessages(backend.model.chatTemplate, messages, tools?.tools) : undefined;
  if (shaped) gen.tools = shaped.tools;
  const stream = backend.chat(shaped?.messages ?? messages, gen);
  const meta = { id: `chatcmpl-${randomId()}`, created: Math.floor(Date.now() / 1000), model: backend.model.name };
  const calling = tools?.spec ? { format, request: tools } : undefined;
  if (params.stream) return chatChunks(stream, meta, params.stream_options?.include_usage === true, controller, calling);
  const result = await stream.result;
  const { message, finish } = calling ? toolResult(format, calling.request, result.text, result.finishReason) : { message: { content: result.text }, finish: result.finishReason };
  return {
    ...meta,
    object: 'chat.completion',
    choices: [{
      index: 0,
      message: { role: 'assistant', refusal: null, ...message },
      logprobs: result.logprobs ? { content: result.logprobs.map(chatLogprob), refusal: null } : null,
      finish_reason: finish,
    }],
    usage: usage(result),
  };
}

/** completions.create (the overloads are in api.ts). */
export async function createCompletion(backend: OpenAIBackend, params: CompletionCreateParams, options: RequestOptions = {}): Promise<Completion | Stream<Completion>> {
  if (typeof params !== 'object' || params === null) throw new InvalidRequestError('create needs a parameters object with a prompt');
  checkParams('completions', params as unknown as Record<string, unknown>);
  const prompt = completionPrompt(params.prompt);
  if (params.suffix != null) throw new InvalidRequestError('suffix is not supported (no fill-in-the-middle)');
  if (params.best_of != null && params.best_of !== 1) throw new InvalidRequestError(`best_of must be 1, got ${shown(params.best_of)}`);
  if (params.logprobs != null && !(Number.isInteger(params.logprobs) && params.logprobs >= 0)) {
    throw new InvalidRequestError(`logprobs must be an integer >= 0 (top log-probabilities per token), got ${shown(params.logprobs)}`);
  }
  if (params.echo && params.logprobs != null) throw new InvalidRequestError('echo with logprobs is not supported (prompt tokens get no logprobs)');
  const controller = new AbortController();
  const gen: GenerateOptions = {
    ...commonOptions(params, params.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS),
    logprobs: params.logprobs != null ? true : undefined,
    topLogprobs: params.logprobs ?? undefined,
    signal: linkSignals(controller, params.signal, options.signal),
  };
  checkOptions(gen, backend.model.vocabSize, openAINames('max_tokens', 'logprobs'));
  const stream = backend.generate(prompt, gen);
  const meta = { id: `cmpl-${randomId()}`, created: Math.floor(Date.now() / 1000), model: backend.model.name };
  const echo = params.echo && typeof prompt === 'string' ? prompt : '';
  if (params.stream) return completionChunks(stream, meta, echo, params.stream_options?.include_usage === true, controller);
  const result = await stream.result;
  return {
    ...meta,
    object: 'text_completion',
    choices: [{ index: 0, text: echo + result.text, logprobs: result.logprobs ? legacyLogprobs(result.logprobs, echo.length) : null, finish_reason: legacyFinish(result.finishReason) }],
    usage: usage(result),
  };
}

/** Options both endpoints share, mapped to the engine's. OpenAI samples at temperature 1 by default, seeded at random. */
function commonOptions(p: ChatCompletionCreateParams | CompletionCreateParams, maxTokens: number): GenerateOptions {
  if (p.seed != null && !Number.isSafeInteger(p.seed)) throw new InvalidRequestError(`seed must be an integer, got ${shown(p.seed)}`);
  return {
    maxTokens,
    temperature: p.temperature ?? 1,
    topP: p.top_p ?? undefined,
    topK: p.top_k ?? undefined,
    minP: p.min_p ?? undefined,
    frequencyPenalty: p.frequency_penalty ?? undefined,
    presencePenalty: p.presence_penalty ?? undefined,
    repetitionPenalty: p.repetition_penalty ?? undefined,
    logitBias: (p.logit_bias ?? undefined) as Record<number, number> | undefined,
    stop: p.stop ?? undefined,
    seed: p.seed != null ? ((p.seed % 2 ** 32) + 2 ** 32) % 2 ** 32 : Math.floor(Math.random() * 2 ** 32),
    truncation: p.truncation ?? undefined,
  };
}

function checkOptions(options: GenerateOptions, vocabSize: number, names: OptionNames): void {
  const { signal: _signal, ...request } = options;
  normalizeRequest(request, vocabSize, names);
}

function chatMessages(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw new InvalidRequestError('messages must be a non-empty array of { role, content }');
  return messages.map((m: ChatCompletionMessageParam, i) => {
    if (typeof m !== 'object' || m === null) throw new InvalidRequestError(`messages[${i}] must be an object { role, content }`);
    if (!ROLES.has(m.role)) throw new InvalidRequestError(`messages[${i}].role must be one of system, developer, user, assistant, tool; got ${shown(m.role)}`);
    let content: string;
    if (typeof m.content === 'string') content = m.content;
    else if (m.content == null && m.role === 'assistant') content = '';
    else if (Array.isArray(m.content)) {
      content = m.content.map((part, j) => {
        if (part?.type !== 'text' || typeof part.text !== 'string') throw new InvalidRequestError(`messages[${i}].content[${j}]: only text parts are supported, got type ${JSON.stringify(part?.type)}`);
        return part.text;
      }).join('');
    } else throw new InvalidRequestError(`messages[${i}].content must be a string or an array of text parts`);
    return { role: m.role === 'developer' ? 'system' : m.role, content, ...toolFields(m, i) };
  });
}

/** An assistant message's tool_calls and a tool message's tool_call_id, checked. */
function toolFields(m: ChatCompletionMessageParam, i: number): Partial<ChatMessage> {
  if (m.role === 'tool') {
    if (typeof m.tool_call_id !== 'string') throw new InvalidRequestError(`messages[${i}] (role 'tool') needs tool_call_id, the id of the call it answers`);
    return { tool_call_id: m.tool_call_id, ...(typeof m.name === 'string' ? { name: m.name } : {}) };
  }
  if (m.role !== 'assistant' || m.tool_calls == null) return {};
  if (!Array.isArray(m.tool_calls)) throw new InvalidRequestError(`messages[${i}].tool_calls must be an array, got ${shown(m.tool_calls)}`);
  return {
    tool_calls: m.tool_calls.map((c: unknown, j: number) => {
      const call = c as { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } };
      if (call?.type !== 'function' || typeof call.id !== 'string' || typeof call.function?.name !== 'string' || typeof call.function.arguments !== 'string') {
        throw new InvalidRequestError(`messages[${i}].tool_calls[${j}] must be { id, type: 'function', function: { name, arguments } }, got ${shown(c)}`);
      }
      return { id: call.id, type: 'function' as const, function: { name: call.function.name, arguments: call.function.arguments } };
    }),
  };
}

/** The tool-calling side of a request: the format, and what was asked. */
interface Calling { format: ToolFormat; request: ToolRequest }

function completionPrompt(prompt: CompletionCreateParams['prompt']): string | number[] {
  const one = Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0])) ? prompt[0] : prompt;
  if (typeof one === 'string') return one;
  if (Array.isArray(one) && one.every((x) => typeof x === 'number')) return one as number[];
  throw new InvalidRequestError('prompt must be a string or an array of token ids (one prompt per request)');
}

function responseFormat(f: ChatCompletionCreateParams['response_format']): GenerateOptions['responseFormat'] {
  if (f == null) return undefined;
  if (f.type === 'json_schema') return { type: 'json_schema', schema: f.json_schema.schema! }; // checked by checkParams
  return f as GenerateOptions['responseFormat'];
}

/** The request's own controller, aborted by either signal the caller gave. */
function linkSignals(controller: AbortController, ...signals: (AbortSignal | null | undefined)[]): AbortSignal {
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

function usage(r: GenerationResult): CompletionUsage {
  const prompt = r.promptTokens.length;
  return {
    prompt_tokens: prompt,
    completion_tokens: r.tokens.length,
    total_tokens: prompt + r.tokens.length,
    prompt_tokens_details: { cached_tokens: r.cachedTokens },
    ...(r.truncatedMessages !== undefined ? { truncated_messages: r.truncatedMessages } : {}),
    ...(r.truncatedTokens !== undefined ? { truncated_tokens: r.truncatedTokens } : {}),
  };
}

function chatLogprob(l: TokenLogprob): ChatCompletionTokenLogprob {
  return { token: l.token, bytes: l.bytes, logprob: l.logprob, top_logprobs: l.topLogprobs.map((t) => ({ token: t.token, bytes: t.bytes, logprob: t.logprob })) };
}

function legacyLogprobs(entries: TokenLogprob[], start: number): NonNullable<Completion['choices'][number]['logprobs']> {
  const offsets: number[] = [];
  let at = start;
  for (const e of entries) { offsets.push(at); at += e.token.length; }
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.topLogprobs.map((t) => [t.token, t.logprob]))),
    text_offset: offsets,
  };
}

function legacyFinish(r: GenerationResult['finishReason']): Completion['choices'][number]['finish_reason'] {
  return r;
}

/**
 * The chunks of `generate`; a consumer that leaves before the end (`break` calls the iterator's return(),
 * which runs the finally) aborts the request, as the OpenAI SDK's Stream aborts its controller then.
 */
async function* abortedOnExit<T>(controller: AbortController, generate: AsyncGenerator<T>): AsyncGenerator<T> {
  let complete = false;
  try {
    yield* generate;
    complete = true;
  } finally {
    if (!complete) controller.abort();
  }
}

async function* chatChunkGenerator(stream: TokenStream, meta: { id: string; created: number; model: string }, includeUsage: boolean, calling?: Calling): AsyncGenerator<ChatCompletionChunk> {
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null, logprobs: ChatCompletionTokenLogprob[] | null = null): ChatCompletionChunk => ({
    ...meta,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: logprobs ? { content: logprobs, refusal: null } : null }],
    ...(includeUsage ? { usage: null } : {}),
  });
  yield chunk({ role: 'assistant', content: '' }, null);
  const deltas = calling && new ToolDeltas(calling.format, calling.request);
  for await (const c of stream) {
    if (c.text === '' && !c.logprobs) continue;
    const delta = deltas ? deltas.push(c.text) : { content: c.text };
    if (delta.content === undefined && delta.tool_calls === undefined && !c.logprobs) continue;
    yield chunk(delta, null, c.logprobs ? [chatLogprob(c.logprobs)] : null);
  }
  const result = await stream.result;
  const last = deltas?.end(result.finishReason);
  if (last && (last.delta.content !== undefined || last.delta.tool_calls !== undefined)) yield chunk(last.delta, null);
  yield chunk({}, last?.finish ?? result.finishReason);
  if (includeUsage) yield { ...meta, object: 'chat.completion.chunk', choices: [], usage: usage(result) };
}

function chatChunks(stream: TokenStream, meta: { id: string; created: number; model: string }, includeUsage: boolean, controller: AbortController, calling?: Calling): Stream<ChatCompletionChunk> {
  const generator = abortedOnExit(controller, chatChunkGenerator(stream, meta, includeUsage, calling));
  return { controller, [Symbol.asyncIterator]: () => generator };
}

async function* completionChunkGenerator(stream: TokenStream, meta: { id: string; created: number; model: string }, echo: string, includeUsage: boolean): AsyncGenerator<Completion> {
  const chunk = (text: string, finish: Completion['choices'][number]['finish_reason'] | null, logprobs: TokenLogprob | null = null, offset = 0): Completion => ({
    ...meta,
    object: 'text_completion',
    choices: [{ index: 0, text, logprobs: logprobs ? legacyLogprobs([logprobs], offset) : null, finish_reason: finish as Completion['choices'][number]['finish_reason'] }],
  });
  let offset = echo.length;
  if (echo) yield chunk(echo, null);
  for await (const c of stream) {
    if (c.text === '' && !c.logprobs) continue;
    yield chunk(c.text, null, c.logprobs ?? null, offset);
    offset += c.text.length;
  }
  const result = await stream.result;
  yield chunk('', legacyFinish(result.finishReason));
  if (includeUsage) yield { ...meta, object: 'text_completion', choices: [], usage: usage(result) };
}

function completionChunks(stream: TokenStream, meta: { id: string; created: number; model: string }, echo: string, includeUsage: boolean, controller: AbortController): Stream<Completion> {
  const generator = abortedOnExit(controller, completionChunkGenerator(stream, meta, echo, includeUsage));
  return { controller, [Symbol.asyncIterator]: () => generator };
}

function randomId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
