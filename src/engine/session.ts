// The decode loop: prefill the prompt (reusing the cached prefix), then pick tokens until EOS,
// the token limit, the end of the context, or cancellation.
import { InvalidRequestError } from '../errors';
import type { LoadedModel } from '../model/load';
import { TextStreamer } from '../tokenizer/text-stream';
import { sampleToken, validateSampling, type SamplingOptions } from './sampler';
import type { GenerateOptions, GenerationResult, TokenChunk } from './types';

export const DEFAULT_MAX_TOKENS = 256;

/** Generation options as they cross the worker boundary (no AbortSignal: cancellation is a call). */
export type GenerateRequest = Omit<GenerateOptions, 'signal'>;

export class Session {
  /** Tokens whose keys and values are in the KV cache; index = position. */
  private cached: number[] = [];
  private cancelled = false;
  private running = false;

  constructor(private readonly loaded: LoadedModel) {}

  /** Stops the running generation before its next token. */
  cancel(): void {
    if (this.running) this.cancelled = true;
  }

  reset(): void {
    this.cached = [];
  }

  /**
   * Continues `prompt`: text (tokenized here, BOS per request.addBos) or token ids as they are to be fed.
   * Generation ends at any of `stopTokens` (default: the vocabulary's EOS/EOT/EOM).
   */
  async generate(
    prompt: string | readonly number[],
    request: GenerateRequest,
    onChunk: (chunk: TokenChunk) => void,
    stopTokens: readonly number[] = this.loaded.tokenizer.eosIds,
  ): Promise<GenerationResult> {
    const { model, tokenizer, info } = this.loaded;
    const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new InvalidRequestError(`maxTokens must be an integer >= 0, got ${request.maxTokens}`);
    validateSampling(request);
    const sampling: SamplingOptions = { temperature: request.temperature ?? 0, topK: request.topK ?? 0, topP: request.topP ?? 1, seed: request.seed ?? 0 };
    const greedy = sampling.temperature === 0;
    if (this.running) throw new InvalidRequestError('a generation is already running on this engine; cancel it or await its result first');

    const promptTokens = typeof prompt === 'string' ? tokenizer.encode(prompt, { addBos: request.addBos ?? true }) : checkedIds(prompt, tokenizer.vocabSize);
    if (promptTokens.length === 0) throw new InvalidRequestError('the prompt is empty and this vocabulary adds no BOS token; give some text');
    if (promptTokens.length > info.contextLength) {
      throw new InvalidRequestError(`the prompt is ${promptTokens.length} tokens but the context holds ${info.contextLength}; shorten it or load the model with a larger contextLength`);
    }

    this.running = true;
    this.cancelled = false;
    try {
      const output = greedy ? 'token' : 'logits';
      const pick = (out: number | Float32Array, n: number) => (typeof out === 'number' ? out : sampleToken(out, sampling, n));
      const t0 = performance.now();
      const reused = this.prefillAllButLast(promptTokens);
      const tokens: number[] = [];
      // The prompt is decoding context: the first generated token keeps its leading space ("came" + "▁to").
      const streamer = new TextStreamer(tokenizer, { context: promptTokens });
      let text = '';
      let finishReason: GenerationResult['finishReason'] = 'length';
      let t1 = t0;
      let fed = promptTokens[promptTokens.length - 1]!;

      while (tokens.length < maxTokens) {
        if (this.cancelled) { finishReason = 'abort'; break; }
        const pos = this.cached.length;
        if (pos >= info.contextLength) { finishReason = 'length'; break; }
        const out = output === 'token' ? await model.step(fed, pos, 'token') : await model.step(fed, pos, 'logits');
        this.cached.push(fed);
        if (tokens.length === 0) t1 = performance.now();
        const next = pick(out, tokens.length);
        if (stopTokens.includes(next)) { finishReason = 'stop'; break; }
        tokens.push(next);
        const piece = streamer.push(next);
        text += piece;
        onChunk({ token: next, text: piece });
        fed = next;
      }
      const tail = streamer.flush();
      if (tail) {
        text += tail;
        onChunk({ token: -1, text: tail });
      }
      const t2 = performance.now();
      const prefillTokens = promptTokens.length - reused;
      return {
        promptTokens,
        tokens,
        text,
        finishReason,
        prefillTokens,
        prefillTokensPerSecond: rate(prefillTokens, t1 - t0),
        decodeTokensPerSecond: rate(tokens.length - 1, t2 - t1),
      };
    } finally {
      this.running = false;
      this.cancelled = false;
    }
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
      this.prefillAllButLast(ids);
      const logits = await model.step(ids[ids.length - 1]!, ids.length - 1, 'logits');
      this.cached.push(ids[ids.length - 1]!);
      return logits;
    } finally {
      this.running = false;
    }
  }

  /**
   * Puts every id but the last into the KV cache with batched prefill passes (matrix-matrix products:
   * cheaper per token), reusing the cached prefix. The last id is always recomputed by the caller's step:
   * its output picks the next token. Returns how many cached ids were reused.
   */
  private prefillAllButLast(ids: readonly number[]): number {
    let reused = 0;
    while (reused < ids.length - 1 && reused < this.cached.length && this.cached[reused] === ids[reused]) reused++;
    this.cached.length = reused;
    const fed = ids.slice(reused, ids.length - 1);
    this.loaded.model.prefill(fed, reused);
    this.cached.push(...fed);
    return reused;
  }
}

function checkedIds(ids: readonly number[], vocabSize: number): number[] {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new InvalidRequestError(`prompt token ${id} is outside the vocabulary (0..${vocabSize - 1})`);
  }
  return ids.slice();
}

function rate(count: number, ms: number): number {
  return count > 0 && ms > 0 ? (count * 1000) / ms : 0;
}
