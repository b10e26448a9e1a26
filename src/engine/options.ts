// Generation options → one checked, normalized request. Runs on the calling side before anything is sent to
// the worker (so a bad request fails before any work) and again in the core (which also serves Node directly).
import { InvalidRequestError } from '../errors';
import type { GenerateOptions, ResponseFormat } from './types';

const DEFAULT_MAX_TOKENS = 256;
/** OpenAI's bounds for logit_bias values and top_logprobs. */
const MAX_LOGIT_BIAS = 100;
export const MAX_TOP_LOGPROBS = 20;
/** More stop strings than this is almost certainly a mistake (OpenAI allows 4). */
const MAX_STOP_STRINGS = 16;

/** What the token processors and the draw need; every field has its "off" value filled in. */
interface SamplingParams {
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
  /** 'auto': the oldest part of a prompt too long for the context is left out (worker/fit-context.ts). */
  truncation: 'auto' | 'disabled';
}

/** Options as given to generate/chat (no signal: cancellation is separate). */
export type RequestOptions = Omit<GenerateOptions, 'signal'>;

/**
 * The name the caller wrote for each option, for error messages: the engine's own (maxTokens, topP, ...) by
 * default; the OpenAI layer passes max_tokens, top_p, ..., the pipeline max_new_tokens, top_k, ...
 */
export type OptionNames = { readonly [K in keyof RequestOptions]-?: string };

export const ENGINE_NAMES: OptionNames = {
  maxTokens: 'maxTokens', temperature: 'temperature', topK: 'topK', topP: 'topP', minP: 'minP',
  repetitionPenalty: 'repetitionPenalty', frequencyPenalty: 'frequencyPenalty', presencePenalty: 'presencePenalty',
  logitBias: 'logitBias', stop: 'stop', seed: 'seed', logprobs: 'logprobs', topLogprobs: 'topLogprobs',
  responseFormat: 'responseFormat', addBos: 'addBos', tools: 'tools', truncation: 'truncation',
};

/**
 * A value as the caller wrote it, for error messages: "10" stays a quoted string and NaN stays NaN (JSON
 * would print null); objects and arrays as JSON.
 */
export function shown(value: unknown): string {
  if (typeof value === 'string' || (typeof value === 'object' && value !== null && !(value instanceof Promise))) {
    try { return JSON.stringify(value); } catch { /* cyclic, bigint inside: fall through */ }
  }
  return value instanceof Promise ? 'a Promise' : String(value);
}

/**
 * Checks `o` and fills in defaults. `vocabSize` bounds logit_bias ids; `names` are the option names the
 * caller used (for messages). Throws InvalidRequestError.
 */
export function normalizeRequest(o: RequestOptions, vocabSize: number, names: OptionNames = ENGINE_NAMES): GenerateRequest {
  if (typeof o !== 'object' || o === null) throw new InvalidRequestError(`options must be an object, got ${shown(o)}`);
  const maxTokens = o.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!(maxTokens === Infinity || (Number.isInteger(maxTokens) && maxTokens >= 0))) {
    throw new InvalidRequestError(`${names.maxTokens} must be an integer >= 0 (or Infinity: until the context ends), got ${shown(o.maxTokens)}`);
  }
  const n = <K extends keyof RequestOptions>(key: K, fallback: number, ok: (x: number) => boolean, what: string) => number(names[key], o[key], fallback, ok, what);
  const temperature = n('temperature', 0, (x) => x >= 0, 'a finite number >= 0 (0 = greedy)');
  const topK = n('topK', 0, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0 (0 = off)');
  const topP = n('topP', 1, (x) => x > 0 && x <= 1, 'in (0, 1] (1 = off)');
  const minP = n('minP', 0, (x) => x >= 0 && x <= 1, 'in [0, 1] (0 = off)');
  const repetitionPenalty = n('repetitionPenalty', 1, (x) => x > 0, 'a finite number > 0 (1 = off)');
  const frequencyPenalty = n('frequencyPenalty', 0, () => true, 'a finite number (0 = off)');
  const presencePenalty = n('presencePenalty', 0, () => true, 'a finite number (0 = off)');
  const seed = n('seed', 0, (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff, 'an integer in [0, 2^32)');
  const logitBias = normalizeLogitBias(o.logitBias, vocabSize, names.logitBias);
  const stop = normalizeStop(o.stop, names.stop);

  let logprobs: number | null = null;
  if (o.logprobs !== undefined && typeof o.logprobs !== 'boolean') throw new InvalidRequestError(`${names.logprobs} must be a boolean, got ${shown(o.logprobs)}`);
  if (o.topLogprobs !== undefined) {
    if (!(Number.isInteger(o.topLogprobs) && o.topLogprobs >= 0 && o.topLogprobs <= MAX_TOP_LOGPROBS)) {
      throw new InvalidRequestError(`${names.topLogprobs} must be an integer in [0, ${MAX_TOP_LOGPROBS}], got ${shown(o.topLogprobs)}`);
    }
    if (o.logprobs !== true) throw new InvalidRequestError(`${names.topLogprobs} needs ${names.logprobs}: true`);
  }
  if (o.logprobs) logprobs = o.topLogprobs ?? 0;
  if (o.addBos !== undefined && typeof o.addBos !== 'boolean') throw new InvalidRequestError(`${names.addBos} must be true or false, got ${shown(o.addBos)}`);
  const truncation = o.truncation ?? 'disabled';
  if (truncation !== 'auto' && truncation !== 'disabled') throw new InvalidRequestError(`${names.truncation} must be 'auto' or 'disabled', got ${shown(o.truncation)}`);

  return {
    maxTokens,
    sampling: { temperature, topK, topP, minP, repetitionPenalty, frequencyPenalty, presencePenalty, logitBias, seed },
    stop,
    logprobs,
    responseFormat: normalizeResponseFormat(o.responseFormat, names.responseFormat),
    addBos: o.addBos,
    truncation,
  };
}

function number(name: string, value: unknown, fallback: number, ok: (x: number) => boolean, what: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw new InvalidRequestError(`${name} must be ${what}, got ${shown(value)}`);
  return value;
}

function normalizeLogitBias(bias: GenerateOptions['logitBias'], vocabSize: number, name: string): [number, number][] {
  if (bias === undefined || bias === null) return [];
  if (typeof bias !== 'object' || Array.isArray(bias)) throw new InvalidRequestError(`${name} must be an object mapping token ids to values in [-100, 100], got ${shown(bias)}`);
  const entries: [number, number][] = [];
  for (const [key, value] of Object.entries(bias)) {
    const id = Number(key);
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize && String(id) === key)) {
      throw new InvalidRequestError(`${name} key ${JSON.stringify(key)} is not a token id of this model (0..${vocabSize - 1})`);
    }
    if (!(typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_LOGIT_BIAS)) {
      throw new InvalidRequestError(`${name}[${key}] must be a number in [-${MAX_LOGIT_BIAS}, ${MAX_LOGIT_BIAS}], got ${shown(value)}`);
    }
    if (value !== 0) entries.push([id, value]);
  }
  return entries.sort((a, b) => a[0] - b[0]);
}

function normalizeStop(stop: GenerateOptions['stop'], name: string): string[] {
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) {
    throw new InvalidRequestError(`${name} must be a non-empty string or an array of them, got ${shown(stop)}`);
  }
  if (list.length > MAX_STOP_STRINGS) throw new InvalidRequestError(`${name}: at most ${MAX_STOP_STRINGS} stop strings are allowed, got ${list.length}`);
  return [...new Set(list)];
}

function normalizeResponseFormat(f: GenerateOptions['responseFormat'], name: string): ResponseFormat | null {
  if (f === undefined || f === null) return null;
  if (typeof f !== 'object') throw new InvalidRequestError(`${name} must be an object, got ${shown(f)}`);
  if (f.type === 'text') return null;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type === 'json_schema') {
    const schema = f.schema;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new InvalidRequestError(`${name} json_schema needs a JSON Schema object (${name}.schema), got ${shown(schema)}`);
    }
    return { type: 'json_schema', schema: JSON.parse(JSON.stringify(schema)) as Record<string, unknown> };
  }
  if (f.type === 'tool_calls') {
    if (typeof f.spec !== 'object' || f.spec === null || !Array.isArray(f.spec.calls)) throw new InvalidRequestError(`${name} tool_calls needs a spec (src/engine/tools/grammar.ts), got ${shown(f.spec)}`);
    return { type: 'tool_calls', spec: f.spec };
  }
  throw new InvalidRequestError(`${name}.type must be 'text', 'json_object' or 'json_schema', got ${shown((f as { type?: unknown }).type)}`);
}

/** True when the draw is plain argmax of the raw logits (the model's own argmax kernel suffices). */
export function isPlainGreedy(r: GenerateRequest): boolean {
  const s = r.sampling;
  return s.temperature === 0 && s.repetitionPenalty === 1 && s.frequencyPenalty === 0 && s.presencePenalty === 0
    && s.logitBias.length === 0 && r.logprobs === null && r.responseFormat === null;
}
