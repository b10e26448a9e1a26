// One generation on the WebAssembly backend: Hearth tokenizes (same ids as on WebGPU), llama.cpp (wllama's
// server loop) prefills, samples and streams token ids, and Hearth turns the ids into text with the same
// streamer and stop-string rules as src/engine/session.ts, so both backends end and show text alike.
import type { Wllama } from '@wllama/wllama';
import { UnsupportedError } from '../errors';
import type { GenerateRequest } from '../engine/options';
import { StopStringMatcher } from '../engine/worker/stop-strings';
import type { GenerationResult, TokenLogprob } from '../engine/types';
import type { ChunkCallback } from '../engine/worker/session';
import type { Tokenizer } from '../tokenizer';
import { TextStreamer } from '../tokenizer/text-stream';
import { tokenEntry } from '../tokenizer/token-bytes';
import { llamaToolParams } from './tool-grammar';

/** llama-server's per-token probabilities (n_probs > 0): the sampled token and the most likely ones. */
interface LlamaTokenProbs { id: number; logprob: number; top_logprobs?: { id: number; logprob: number }[] }
interface LlamaChunk {
  choices?: { logprobs?: { content?: LlamaTokenProbs[] } | null; finish_reason?: string | null }[];
  timings?: { cache_n?: number; prompt_n?: number; prompt_per_second?: number; predicted_per_second?: number };
}

/**
 * llama-server sampling parameters for `request`. What llama.cpp cannot do as Hearth does is refused by name:
 * an UnsupportedError, never a silently different output.
 */
function llamaSamplingParams(wllama: Wllama, tokenizer: Tokenizer, request: GenerateRequest, contextLength: number): Record<string, unknown> {
  const s = request.sampling;
  // llama.cpp counts the prompt in these (its penalty window); OpenAI's rule, which Hearth follows, counts the output only.
  if (s.frequencyPenalty !== 0) throw new UnsupportedError('frequencyPenalty is not available on the WebAssembly backend (llama.cpp counts the prompt too); use repetitionPenalty, or backend \'webgpu\'');
  if (s.presencePenalty !== 0) throw new UnsupportedError('presencePenalty is not available on the WebAssembly backend (llama.cpp counts the prompt too); use repetitionPenalty, or backend \'webgpu\'');
  const format = request.responseFormat;
  const tools = format?.type === 'tool_calls' ? llamaToolParams(tokenizer, format.spec, (id) => wllama.isTokenEOG(id)) : undefined;
  return {
    temperature: s.temperature,
    top_k: s.topK,
    top_p: s.topP,
    min_p: s.minP,
    typical_p: 1,
    repeat_penalty: s.repetitionPenalty,
    repeat_last_n: contextLength, // the whole context, prompt included: transformers' rule, as on WebGPU
    logit_bias: [...s.logitBias, ...(tools?.banned ?? []).map((id) => [id, false])],
    seed: s.seed,
    // llama.cpp's JSON-schema-to-grammar runs inside the WebAssembly build (llama-server's json_schema parameter).
    ...(format?.type === 'json_object' ? { json_schema: { type: 'object' } } : {}),
    ...(format?.type === 'json_schema' ? { json_schema: format.schema } : {}),
    ...tools?.params,
  };
}

export interface WasmRun {
  promptTokens: number[];
  /** The text llama.cpp tokenizes into promptTokens (llamaPromptText). */
  promptText: string;
  request: GenerateRequest;
  stopTokens: readonly number[];
  contextLength: number;
  /** The tokens llama.cpp's slot holds from the request before (its prompt and output), for cachedTokens. */
  previous: readonly number[];
  skipSpecial: boolean;
  onChunk: ChunkCallback;
  signal: AbortSignal;
}

/** Runs one request to its end (stop, length, abort); llama.cpp's slot keeps the prompt's KV prefix for the next. */
export async function runOnWllama(wllama: Wllama, tokenizer: Tokenizer, run: WasmRun): Promise<GenerationResult> {
  const { promptTokens, request, stopTokens, onChunk } = run;
  const room = run.contextLength - promptTokens.length + 1;
  const limit = Math.min(request.maxTokens, room);
  const streamer = new TextStreamer(tokenizer, { context: promptTokens, skipSpecial: run.skipSpecial });
  const stops = new StopStringMatcher(request.stop);
  const tokens: number[] = [];
  const logprobs: TokenLogprob[] = [];
  let text = '';
  let finishReason: GenerationResult['finishReason'] = 'length';
  let stoppedByString = false;
  let timings: LlamaChunk['timings'];
  // Ends llama.cpp's request early: a stop string, a stop token it does not know as end-of-generation, an abort.
  const ended = new AbortController();
  const onAbort = () => ended.abort();
  run.signal.addEventListener('abort', onAbort, { once: true });
  const t0 = performance.now();
  const take = (p: LlamaTokenProbs) => {
    if (ended.signal.aborted || tokens.length >= limit) return;
    if (stopTokens.includes(p.id)) { finishReason = 'stop'; ended.abort(); return; }
    tokens.push(p.id);
    const lp = request.logprobs === null ? undefined : logprobEntry(tokenizer, p, request.logprobs);
    if (lp) logprobs.push(lp);
    const shown = stops.push(streamer.push(p.id));
    text += shown.text;
    onChunk(lp ? { token: p.id, text: shown.text, logprobs: lp } : { token: p.id, text: shown.text }, { tokens: tokens.length, chars: text.length });
    // At `limit` llama.cpp stops by itself (max_tokens) and sends its timings, prompt-cache reuse included.
    if (shown.stopped) { finishReason = 'stop'; stoppedByString = true; ended.abort(); }
  };
  const sampling = llamaSamplingParams(wllama, tokenizer, request, run.contextLength);
  if (limit > 0 && !run.signal.aborted) {
    try {
      await wllama.createCompletion({
        prompt: run.promptText,
        stream: true,
        max_tokens: limit,
        n_probs: Math.max(1, request.logprobs ?? 0), // the ids of the sampled tokens come with their probabilities
        cache_prompt: true,
        ...sampling,
        abortSignal: ended.signal,
        onData: (chunk: LlamaChunk) => {
          if (chunk.timings) timings = chunk.timings;
          const choice = chunk.choices?.[0];
          for (const p of choice?.logprobs?.content ?? []) take(p);
          if (choice?.finish_reason === 'stop' && !ended.signal.aborted) finishReason = 'stop';
        },
      } as never);
    } catch (e) {
      if (!ended.signal.aborted) throw e;
    } finally {
      run.signal.removeEventListener('abort', onAbort);
    }
  }
  if (run.signal.aborted && finishReason === 'length' && tokens.length < limit) finishReason = 'abort';
  if (!stoppedByString) {
    const last = heldText(streamer, stops);
    if (last.stopped) finishReason = 'stop';
    if (last.text) {
      text += last.text;
      onChunk({ token: -1, text: last.text }, { tokens: tokens.length, chars: text.length });
    }
  }
  const cached = cachedPrefix(timings, promptTokens, run.previous);
  return {
    promptTokens,
    tokens,
    text,
    finishReason,
    cachedTokens: cached,
    prefillTokens: promptTokens.length - cached,
    prefillTokensPerSecond: timings?.prompt_per_second ?? 0,
    decodeTokensPerSecond: timings?.predicted_per_second ?? tokens.length / Math.max(1e-3, (performance.now() - t0) / 1000),
    ...(request.logprobs === null ? {} : { logprobs }),
  };
}

/**
 * Prompt tokens llama.cpp took from its cache. It reports its prompt-cache reuse with the last chunk, which a
 * request ended early never gets; its rule is the common prefix with what the slot holds, the last prompt token
 * always recomputed.
 */
function cachedPrefix(timings: LlamaChunk['timings'], promptTokens: readonly number[], previous: readonly number[]): number {
  if (timings?.prompt_n !== undefined && (timings.cache_n ?? 0) + timings.prompt_n !== promptTokens.length) {
    // llamaPromptText checked the text against Hearth's tokenizer; this would be llama.cpp disagreeing with it.
    throw new UnsupportedError(`llama.cpp read this prompt as ${(timings.cache_n ?? 0) + timings.prompt_n} tokens where Hearth reads ${promptTokens.length}; this model's tokenizer differs between the backends: use backend 'webgpu'`);
  }
  return Math.min(timings?.cache_n ?? commonPrefix(previous, promptTokens), promptTokens.length - 1);
}

/** Text held back at the end (an incomplete character, a possible start of a stop string), output now. */
function heldText(streamer: TextStreamer, stops: StopStringMatcher): { text: string; stopped: boolean } {
  const last = stops.push(streamer.flush());
  return { text: last.text + (last.stopped ? '' : stops.flush()), stopped: last.stopped };
}

function logprobEntry(tokenizer: Tokenizer, p: LlamaTokenProbs, top: number): TokenLogprob {
  return {
    id: p.id,
    ...tokenEntry(tokenizer, p.id),
    logprob: p.logprob,
    topLogprobs: (p.top_logprobs ?? []).slice(0, top).map((t) => ({ id: t.id, ...tokenEntry(tokenizer, t.id), logprob: t.logprob })),
  };
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
