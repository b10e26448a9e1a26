// The decode loop: prefill the prompt (reusing the cached prefix), then pick tokens on the GPU until EOS or an
// end-of-turn token, a stop string, complete JSON (JSON mode), the token limit, the end of the context, or abort.
import { InvalidRequestError } from '../../errors';
import type { LoadedModel } from '../../model/load';
import type { PendingToken, TokenPicker } from '../../model/transformer';
import { TextStreamer } from '../../tokenizer/text-stream';
import type { tokenEntry as TokenEntry } from '../../tokenizer/token-bytes';
import { GpuSampler } from '../../sampler/gpu-sampler';
import type { TokenConstraint } from '../json/constraint';
import { isPlainGreedy, normalizeRequest, type GenerateRequest, type RequestOptions } from '../options';
import { StopStringMatcher } from './stop-strings';
import type { GenerationResult, TokenChunk, TokenLogprob } from '../types';

/** How far a request's output had come with a chunk: its tokens and characters so far (the result's, at the end). */
export interface StreamedSoFar { tokens: number; chars: number }

/** Receives each chunk of output as it is generated. */
export type ChunkCallback = (chunk: TokenChunk, soFar: StreamedSoFar) => void;

export class Session {
  /** Tokens whose keys and values are in the KV cache; index = position. */
  private cached: number[] = [];
  private running = false;
  private sampler?: Promise<GpuSampler>;

  constructor(private readonly loaded: LoadedModel) {}

  reset(): void {
    this.cached = [];
  }

  /** Tokens in the KV cache (the context the next request's prompt is compared with). */
  get cachedTokens(): readonly number[] {
    return this.cached;
  }

  /**
   * Continues `prompt`: text (tokenized here, BOS per options.addBos) or token ids as they are to be fed.
   * Generation ends at any of `stopTokens` (default: the vocabulary's EOS/EOT/EOM). `signal`
   * stops it between prefill submits or decode steps, with finishReason 'abort'.
   */
  async generate(
    prompt: string | readonly number[],
    options: RequestOptions,
    onChunk: ChunkCallback,
    stopTokens: readonly number[] = this.loaded.tokenizer.eosIds,
    signal?: AbortSignal,
  ): Promise<GenerationResult> {
    const { tokenizer } = this.loaded;
    const request = normalizeRequest(options, tokenizer.vocabSize);
    if (this.running) throw new InvalidRequestError('a generation is already running on this engine; cancel it or await its result first');
    const promptTokens = this.promptTokens(prompt, request);
    // JSON mode's grammar code loads on first use: most requests never need it in the worker bundle.
    const format = request.responseFormat;
    const constraint: TokenConstraint | null = format?.type === 'tool_calls'
      ? (await import('../tools/grammar')).createToolConstraint(tokenizer, format.spec, stopTokens)
      : format ? (await import('../json/constraint')).createJsonConstraint(tokenizer, format, stopTokens) : null;
    // Token texts and bytes for logprobs, likewise loaded when first asked for.
    const tokenEntry = request.logprobs === null ? null : (await import('../../tokenizer/token-bytes')).tokenEntry;

    this.running = true;
    const aborted = () => signal?.aborted === true;
    try {
      const sampler = isPlainGreedy(request) ? null : await this.gpuSampler();
      const picker = sampler?.begin(request, promptTokens, constraint !== null);
      const t0 = performance.now();
      const reused = await this.prefillAllButLast(promptTokens, signal === undefined ? undefined : aborted);
      const out = await this.decode({ request, promptTokens, stopTokens, constraint, sampler, picker, tokenEntry, aborted, onChunk, t1: t0 });
      const t2 = performance.now();
      return {
        promptTokens,
        tokens: out.tokens,
        text: out.text,
        finishReason: out.finishReason,
        cachedTokens: reused,
        prefillTokens: promptTokens.length - reused,
        prefillTokensPerSecond: rate(promptTokens.length - reused, out.t1 - t0),
        decodeTokensPerSecond: rate(out.tokens.length - 1, t2 - out.t1),
        ...(request.logprobs === null ? {} : { logprobs: out.logprobs }),
      };
    } finally {
      this.running = false;
    }
  }

  /** The ids `prompt` feeds, checked against the vocabulary and the context. */
  private promptTokens(prompt: string | readonly number[], request: GenerateRequest): number[] {
    const { tokenizer, info } = this.loaded;
    const ids = typeof prompt === 'string' ? tokenizer.encode(prompt, { addBos: request.addBos }) : checkedIds(prompt, tokenizer.vocabSize);
    if (ids.length === 0) throw new InvalidRequestError('the prompt is empty and this vocabulary adds no BOS token; give some text');
    if (ids.length > info.contextLength) {
      const fit = request.truncation === 'disabled' ? ", pass truncation: 'auto' to leave out its oldest part," : '';
      throw new InvalidRequestError(`the prompt is ${ids.length} tokens but the context holds ${info.contextLength}; shorten it${fit} or load the model with a larger contextLength`);
    }
    return ids;
  }

  /**
   * The decode steps after the prefill: one token per step until a stop condition; streams each through onChunk.
   * Pipelined where the request allows: step N + 1 is submitted before step N's id is read (it embeds the id
   * step N left on the GPU), so the GPU never idles while the host reads an id. A stop found in step N's id
   * (EOS, a stop string, an abort) discards step N + 1 unread: its K/V lie past `cached`, where the next
   * request's prefill writes before any attention reads them. JSON mode and logprobs wait for each id instead:
   * the grammar's mask for step N + 1 follows from step N's id on the host, and each step's logprobs are read
   * from the one buffer the sampler copies them into.
   */
  private async decode(run: DecodeRun): Promise<Decoded> {
    const { model, tokenizer, info } = this.loaded;
    const { request, promptTokens, stopTokens, constraint, sampler, picker, tokenEntry, aborted, onChunk } = run;
    const out: Decoded = { tokens: [], logprobs: [], text: '', finishReason: 'length', t1: run.t1 };
    // The prompt is decoding context: the first generated token keeps its leading space ("came" + "▁to").
    // Tool calls are read back from the text, so the control tokens of their syntax ('[TOOL_CALLS]') are shown.
    const streamer = new TextStreamer(tokenizer, { context: promptTokens, skipSpecial: request.responseFormat?.type !== 'tool_calls' });
    const stops = new StopStringMatcher(request.stop);
    const pipelined = constraint === null && tokenEntry === null;
    let fed = promptTokens[promptTokens.length - 1]!;
    let ahead: PendingToken | null = null; // step N + 1, submitted while step N's id is read
    while (out.tokens.length < request.maxTokens) {
      if (aborted()) { out.finishReason = 'abort'; break; }
      const pos = this.cached.length;
      if (pos >= info.contextLength) { out.finishReason = 'length'; break; }
      if (constraint) {
        const remaining = Math.min(request.maxTokens - out.tokens.length, info.contextLength - pos);
        const mask = constraint.mask(remaining);
        if (!mask) { out.finishReason = 'stop'; break; } // the JSON is complete
        sampler!.setMask(mask);
      }
      const step = ahead ?? model.submitStep(fed, pos, picker);
      const another = out.tokens.length + 1 < request.maxTokens && pos + 1 < info.contextLength; // not past the limits
      ahead = pipelined && another ? model.submitStep('previous', pos + 1, picker) : null;
      const next = await step.read();
      this.cached.push(fed);
      if (out.tokens.length === 0) out.t1 = performance.now();
      const lp = tokenEntry && request.logprobs !== null ? logprobEntry(this.loaded, tokenEntry, next, await sampler!.readLogprobs(request.logprobs)) : undefined;
      if (stopTokens.includes(next)) { out.finishReason = 'stop'; break; }
      out.tokens.push(next);
      if (lp) out.logprobs.push(lp);
      constraint?.advance(next);
      const shown = stops.push(streamer.push(next));
      out.text += shown.text;
      onChunk(lp ? { token: next, text: shown.text, logprobs: lp } : { token: next, text: shown.text }, { tokens: out.tokens.length, chars: out.text.length });
      if (shown.stopped) { out.finishReason = 'stop'; return out; }
      fed = next;
    }
    // Text held back at the end (an incomplete character, a possible start of a stop string) is output now.
    const last = stops.push(streamer.flush());
    const tail = last.text + (last.stopped ? '' : stops.flush());
    if (last.stopped) out.finishReason = 'stop';
    if (tail) {
      out.text += tail;
      onChunk({ token: -1, text: tail }, { tokens: out.tokens.length, chars: out.text.length });
    }
    return out;
  }

  /**
   * The next-token logits [vocabSize] after `tokens` (ids as fed, BOS included), for scoring or a sampler
   * of one's own. The cached prefix is reused and `tokens` become the cached context.
   */
  async logits(tokens: readonly number[]): Promise<Float32Array> {
    const { model, tokenizer, info } = this.loaded;
    const ids = checkedIds(tokens, tokenizer.vocabSize);
    if (ids.length === 0) throw new InvalidRequestError('logits needs at least one token');
    if (ids.length > info.contextLength) {
      throw new InvalidRequestError(`${ids.length} tokens do not fit the context of ${info.contextLength}; load the model with a larger contextLength`);
    }
    if (this.running) throw new InvalidRequestError('a generation is already running on this engine; cancel it or await its result first');
    this.running = true;
    try {
      await this.prefillAllButLast(ids);
      const logits = await model.step(ids[ids.length - 1]!, ids.length - 1, 'logits');
      this.cached.push(ids[ids.length - 1]!);
      return logits;
    } finally {
      this.running = false;
    }
  }

  /** Frees the sampler's GPU buffers (the model's are the loader's). */
  async dispose(): Promise<void> {
    const sampler = this.sampler;
    this.sampler = undefined;
    (await sampler?.catch(() => undefined))?.destroy();
  }

  /** The GPU sampler, made on the first request that samples (buffers and pipelines once per model). */
  private gpuSampler(): Promise<GpuSampler> {
    if (!this.sampler) {
      this.sampler = GpuSampler.create(this.loaded.model.device, this.loaded.model);
      this.sampler.catch(() => { this.sampler = undefined; });
    }
    return this.sampler;
  }

  /**
   * Puts every id but the last into the KV cache with batched prefill passes (matrix-matrix products:
   * cheaper per token), reusing the cached prefix. The last id is always recomputed by the caller's step:
   * its output picks the next token. With `aborted`, the prefill's submits (model.prefillSubmits: layer groups
   * of passes) go at most two at a time, the next queued while one runs, and an abort ends the prefill when the
   * running one is done: nothing more is submitted, and the cache holds the tokens every layer of which was
   * submitted. Returns the reused count.
   */
  private async prefillAllButLast(ids: readonly number[], aborted?: () => boolean): Promise<number> {
    const { model } = this.loaded;
    let reused = 0;
    while (reused < ids.length - 1 && reused < this.cached.length && this.cached[reused] === ids[reused]) reused++;
    this.cached.length = reused;
    const fed = ids.slice(reused, ids.length - 1);
    if (!aborted) {
      model.prefill(fed, reused);
      this.cached.push(...fed);
      return reused;
    }
    if (aborted()) return reused;
    let running: Promise<void> | null = null; // done when the submit before the latest is
    for (const done of model.prefillSubmits(fed, reused)) {
      this.cached.push(...fed.slice(this.cached.length - reused, done));
      if (done === fed.length) break; // the last submit is followed by the first step anyway
      const submitted = model.whenIdle();
      if (running) await running;
      running = submitted;
      if (aborted()) break;
    }
    return reused;
  }
}

/** What one request's decode steps work with. */
interface DecodeRun {
  request: GenerateRequest;
  promptTokens: readonly number[];
  stopTokens: readonly number[];
  constraint: TokenConstraint | null;
  sampler: GpuSampler | null;
  /** What a decode step runs in place of argmax (the GPU sampler); undefined: argmax. */
  picker: TokenPicker | undefined;
  tokenEntry: typeof TokenEntry | null;
  aborted: () => boolean;
  onChunk: ChunkCallback;
  /** When the prefill was queued (the first step's end replaces it). */
  t1: number;
}

/** What the decode steps produced; t1: when the first step ended (prefill time before, decode time after). */
interface Decoded { tokens: number[]; logprobs: TokenLogprob[]; text: string; finishReason: GenerationResult['finishReason']; t1: number }

function logprobEntry(loaded: LoadedModel, tokenEntry: typeof TokenEntry, id: number, step: { logprob: number; top: [number, number][] }): TokenLogprob {
  const { tokenizer } = loaded;
  return {
    id,
    ...tokenEntry(tokenizer, id),
    logprob: step.logprob,
    topLogprobs: step.top.map(([topId, logprob]) => ({ id: topId, ...tokenEntry(tokenizer, topId), logprob })),
  };
}

export function checkedIds(ids: readonly number[], vocabSize: number): number[] {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new InvalidRequestError(`prompt token ${id} is outside the vocabulary (0..${vocabSize - 1})`);
  }
  return ids.slice();
}

function rate(count: number, ms: number): number {
  return count > 0 && ms > 0 ? (count * 1000) / ms : 0;
}
