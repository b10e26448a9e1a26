// Generation options → one checked, normalized request. Runs on the calling side before anything is sent to
// the worker (so a bad request fails before any work) and again in the core (which also serves Node directly).
import { InvalidRequestError } from '../errors';
import type { GenerateOptions, ResponseFormat } from './types';

export const DEFAULT_MAX_TOKENS = 256;
/** OpenAI's bounds for logit_bias values and top_logprobs. */
export const MAX_LOGIT_BIAS = 100;
export const MAX_TOP_LOGPROBS = 20;
/** More stop strings than this is almost certainly a mistake (OpenAI allows 4). */
export const MAX_STOP_STRINGS = 16;

/** What the token processors and the draw need; every field has its "off" value filled in. */
export interface SamplingParams {
  /** 0 = greedy (argmax of the processed logits). */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 0 = off. */
  minP: number;
  /** 1 = off; > 1 discourages tokens seen in the prompt or the output (CTRL / transformers rule). */
  repetitionPenalty: number;
  /** 0 = off; subtracted once per occurrence in the output (OpenAI rule). */
  frequencyPenalty: number;
  /** 0 = off; subtracted once if the token occurs in the output (OpenAI rule). */
  presencePenalty: number;
  /** (token id, value added to its logit), ids ascending and distinct. */
  logitBias: [number, number][];
  seed: number;
}

/** A generation request as it crosses the worker boundary: plain data, checked. */
export interface GenerateRequest {
  /** Tokens to generate at most; Infinity = until a stop condition or the end of the context. */
  maxTokens: number;
  sampling: SamplingParams;
  /** Texts that end generation; the output stops before the first one (never containing any part of it). */
  stop: string[];
  /** null = no logprobs; n = the chosen token's logprob and the n most likely tokens' (0 ≤ n ≤ 20). */
  logprobs: number | null;
  responseFormat: ResponseFormat | null;
  /** undefined = as the model file says (the tokenizer's own default). */
  addBos: boolean | undefined;
}

/** Options as given to generate/chat (no signal: cancellation is separate). */
export type RequestOptions = Omit<GenerateOptions, 'signal'>;

/** Checks `o` and fills in defaults. `vocabSize` bounds logit_bias ids. Throws InvalidRequestError. */
export function normalizeRequest(o: RequestOptions, vocabSize: number): GenerateRequest {
  if (typeof o !== 'object' || o === null) throw new InvalidRequestError(`options must be an object, got ${o === null ? 'null' : typeof o}`);
  const maxTokens = o.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!(maxTokens === Infinity || (Number.isInteger(maxTokens) && maxTokens >= 0))) {
    throw new InvalidRequestError(`maxTokens must be an integer >= 0 (or Infinity: until the context ends), got ${o.maxTokens}`);
  }
  const temperature = number('temperature', o.temperature, 0, (x) => x >= 0, 'a finite number >= 0 (0 = greedy)');
  const topK = number('top_k', o.topK, 0, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0 (0 = off)');
  const topP = number('top_p', o.topP, 1, (x) => x > 0 && x <= 1, 'in (0, 1] (1 = off)');
  const minP = number('min_p', o.minP, 0, (x) => x >= 0 && x <= 1, 'in [0, 1] (0 = off)');
  const repetitionPenalty = number('repetition_penalty', o.repetitionPenalty, 1, (x) => x > 0, 'a finite number > 0 (1 = off)');
  const frequencyPenalty = number('frequency_penalty', o.frequencyPenalty, 0, () => true, 'a finite number (0 = off)');
  const presencePenalty = number('presence_penalty', o.presencePenalty, 0, () => true, 'a finite number (0 = off)');
  const seed = number('seed', o.seed, 0, (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff, 'an integer in [0, 2^32)');
  const logitBias = normalizeLogitBias(o.logitBias, vocabSize);
  const stop = normalizeStop(o.stop);

  let logprobs: number | null = null;
  if (o.logprobs !== undefined && typeof o.logprobs !== 'boolean') throw new InvalidRequestError(`logprobs must be a boolean, got ${JSON.stringify(o.logprobs)}`);
  if (o.topLogprobs !== undefined) {
    if (!(Number.isInteger(o.topLogprobs) && o.topLogprobs >= 0 && o.topLogprobs <= MAX_TOP_LOGPROBS)) {
      throw new InvalidRequestError(`top_logprobs must be an integer in [0, ${MAX_TOP_LOGPROBS}], got ${o.topLogprobs}`);
    }
    if (o.logprobs !== true) throw new InvalidRequestError('top_logprobs needs logprobs: true');
  }
  if (o.logprobs) logprobs = o.topLogprobs ?? 0;

  return {
    maxTokens,
    sampling: { temperature, topK, topP, minP, repetitionPenalty, frequencyPenalty, presencePenalty, logitBias, seed },
    stop,
    logprobs,
    responseFormat: normalizeResponseFormat(o.responseFormat),
    addBos: o.addBos ?? undefined,
  };
}

function number(name: string, value: unknown, fallback: number, ok: (x: number) => boolean, what: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw new InvalidRequestError(`${name} must be ${what}, got ${JSON.stringify(value)}`);
  return value;
}

function normalizeLogitBias(bias: GenerateOptions['logitBias'], vocabSize: number): [number, number][] {
  if (bias === undefined || bias === null) return [];
  if (typeof bias !== 'object' || Array.isArray(bias)) throw new InvalidRequestError('logit_bias must be an object mapping token ids to values in [-100, 100]');
  const entries: [number, number][] = [];
  for (const [key, value] of Object.entries(bias)) {
    const id = Number(key);
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize && String(id) === key)) {
      throw new InvalidRequestError(`logit_bias key ${JSON.stringify(key)} is not a token id of this model (0..${vocabSize - 1})`);
    }
    if (!(typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_LOGIT_BIAS)) {
      throw new InvalidRequestError(`logit_bias[${key}] must be a number in [-${MAX_LOGIT_BIAS}, ${MAX_LOGIT_BIAS}], got ${JSON.stringify(value)}`);
    }
    if (value !== 0) entries.push([id, value]);
  }
  return entries.sort((a, b) => a[0] - b[0]);
}

function normalizeStop(stop: GenerateOptions['stop']): string[] {
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) {
    throw new InvalidRequestError(`stop must be a non-empty string or an array of them, got ${JSON.stringify(stop)}`);
  }
  if (list.length > MAX_STOP_STRINGS) throw new InvalidRequestError(`at most ${MAX_STOP_STRINGS} stop strings are allowed, got ${list.length}`);
  return [...new Set(list)];
}

function normalizeResponseFormat(f: GenerateOptions['responseFormat']): ResponseFormat | null {
  if (f === undefined || f === null) return null;
  if (typeof f !== 'object') throw new InvalidRequestError(`response_format must be an object, got ${JSON.stringify(f)}`);
  if (f.type === 'text') return null;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type === 'json_schema') {
    const schema = f.schema;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new InvalidRequestError('response_format json_schema needs a JSON Schema object (response_format.json_schema.schema)');
    }
    return { type: 'json_schema', schema: JSON.parse(JSON.stringify(schema)) as Record<string, unknown> };
  }
  throw new InvalidRequestError(`response_format.type must be 'text', 'json_object' or 'json_schema', got ${JSON.stringify((f as { type?: unknown }).type)}`);
}

/** True when the draw is plain argmax of the raw logits (the model's own argmax kernel suffices). */
export function isPlainGreedy(r: GenerateRequest): boolean {
  const s = r.sampling;
  return s.temperature === 0 && s.repetitionPenalty === 1 && s.frequencyPenalty === 0 && s.presencePenalty === 0
    && s.logitBias.length === 0 && r.logprobs === null && r.responseFormat === null;
}
