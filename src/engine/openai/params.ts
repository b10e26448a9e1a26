// The OpenAI endpoints' parameter checks, strict as OpenAI's own: every parameter the SDK (openai v6) can
// send is either honoured or refused by name (never silently ignored), unknown names are refused, and each
// error names the parameter as the caller wrote it and echoes the value as given.
import { InvalidRequestError } from '../../errors';
import { shown, type OptionNames } from '../options';

export type Endpoint = 'chat.completions' | 'completions';

/** OpenAI's limits. */
const MAX_STOP = 4;
const MAX_TEMPERATURE = 2;
const MAX_PENALTY = 2;

/**
 * Honoured by both endpoints (top_k, min_p, repetition_penalty, signal and truncation — as in OpenAI's
 * Responses API — are Hearth's additions).
 */
const COMMON = [
  'model', 'max_tokens', 'temperature', 'top_p', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'stop', 'seed', 'n',
  'stream', 'stream_options', 'user', 'top_k', 'min_p', 'repetition_penalty', 'signal', 'truncation',
] as const;

/** Every chat parameter Hearth honours (some only at the values that describe what it does, checked below). */
export const CHAT_PARAMS = [
  ...COMMON, 'messages', 'max_completion_tokens', 'logprobs', 'top_logprobs', 'response_format',
  // Labels for OpenAI's own logs and caches; locally they change nothing, so any value is faithful.
  'safety_identifier', 'metadata', 'prompt_cache_key',
  // Honoured at the values that describe what Hearth does.
  'store', 'service_tier', 'modalities', 'prompt_cache_retention',
  // Tools (checked in tools/openai-tools.ts); the deprecated functions API is accepted empty or absent.
  'tools', 'tool_choice', 'parallel_tool_calls', 'functions', 'function_call',
] as const;

export const COMPLETION_PARAMS = [...COMMON, 'prompt', 'logprobs', 'echo', 'best_of', 'suffix'] as const;

const HONOURED: Record<Endpoint, ReadonlySet<string>> = { 'chat.completions': new Set(CHAT_PARAMS), completions: new Set(COMPLETION_PARAMS) };

/** The SDK's chat parameters Hearth cannot honour: refused whenever set (null counts as not set). */
export const REFUSED_CHAT_PARAMS = {
  audio: 'text output only',
  prediction: 'no predicted outputs',
  reasoning_effort: 'an OpenAI model setting',
  verbosity: 'an OpenAI model setting',
  web_search_options: 'no web search',
  moderation: 'no moderation',
  prompt_cache_options: 'the KV cache is reused by itself',
} as const;
const REFUSED: Readonly<Record<string, string>> = REFUSED_CHAT_PARAMS;

/** Checks the parameters' names and the OpenAI-only rules; value checks shared with the engine follow in normalizeRequest. */
export function checkParams(endpoint: Endpoint, params: Record<string, unknown>): void {
  const set = Object.entries(params).filter(([, v]) => v !== undefined);
  const unknown = set.map(([k]) => k).filter((k) => !HONOURED[endpoint].has(k) && !(endpoint === 'chat.completions' && k in REFUSED));
  if (unknown.length > 0) {
    const hints = unknown.map((k) => { const snake = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`); return HONOURED[endpoint].has(snake) && snake !== k ? ` (did you mean '${snake}'?)` : ''; });
    throw new InvalidRequestError(`${endpoint}.create: unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k, i) => `'${k}'${hints[i]}`).join(', ')}`);
  }
  for (const [key, value] of set) {
    if (key in REFUSED && value !== null) throw new InvalidRequestError(`${key} is not supported (${REFUSED[key]})`);
  }
  const p = params as Record<string, unknown> & { stream?: unknown; n?: unknown; stop?: unknown; temperature?: unknown };
  if (p.n != null && p.n !== 1) throw new InvalidRequestError(`n must be 1 (one choice per request), got ${shown(p.n)}`);
  if (p.temperature != null) inRange('temperature', p.temperature, 0, MAX_TEMPERATURE);
  for (const key of ['frequency_penalty', 'presence_penalty']) if (params[key] != null) inRange(key, params[key], -MAX_PENALTY, MAX_PENALTY);
  if (Array.isArray(p.stop) && p.stop.length > MAX_STOP) throw new InvalidRequestError(`stop takes at most ${MAX_STOP} sequences, got ${p.stop.length}`);
  if (params.user != null && typeof params.user !== 'string') throw new InvalidRequestError(`user must be a string, got ${shown(params.user)}`);
  checkStreamOptions(params.stream_options, p.stream);
  if (endpoint === 'chat.completions') checkChatOnly(params);
}

function inRange(name: string, value: unknown, lo: number, hi: number): void {
  if (typeof value !== 'number' || !(value >= lo && value <= hi)) throw new InvalidRequestError(`${name} must be a number in [${lo}, ${hi}], got ${shown(value)}`);
}

function checkStreamOptions(o: unknown, stream: unknown): void {
  if (o == null) return;
  if (stream !== true) throw new InvalidRequestError('stream_options is only allowed with stream: true');
  if (typeof o !== 'object' || Array.isArray(o)) throw new InvalidRequestError(`stream_options must be an object, got ${shown(o)}`);
  for (const [key, value] of Object.entries(o)) {
    if (value === undefined) continue;
    if (key === 'include_usage') {
      if (typeof value !== 'boolean') throw new InvalidRequestError(`stream_options.include_usage must be true or false, got ${shown(value)}`);
    } else if (key === 'include_obfuscation') {
      // Padding against network side channels: there is no network between the page and the engine.
      if (value !== false) throw new InvalidRequestError('stream_options.include_obfuscation is not supported (no network)');
    } else {
      throw new InvalidRequestError(`stream_options: unknown option '${key}'`);
    }
  }
}

function checkChatOnly(p: Record<string, unknown>): void {
  for (const [key, choice] of [['tools', 'tool_choice'], ['functions', 'function_call']] as const) {
    const list = p[key];
    if (list != null && !Array.isArray(list)) throw new InvalidRequestError(`${key} must be an array, got ${shown(list)}`);
    if (key === 'functions' && Array.isArray(list) && list.length > 0) throw new InvalidRequestError('functions (deprecated) are not supported: pass them as tools');
    if (p[choice] != null && !(Array.isArray(list) && list.length > 0)) throw new InvalidRequestError(`${choice} is only allowed when ${key} are specified`);
  }
  if (p.parallel_tool_calls != null && !(Array.isArray(p.tools) && p.tools.length > 0)) throw new InvalidRequestError('parallel_tool_calls is only allowed when tools are specified');
  // Accepted at the one value that describes Hearth.
  const only = (key: string, ok: (v: unknown) => boolean, what: string) => {
    if (p[key] != null && !ok(p[key])) throw new InvalidRequestError(`${key} ${shown(p[key])} is not supported (only ${what})`);
  };
  // store asks OpenAI to keep the completion for its dashboard; a local engine has none and keeps nothing, so both
  // values describe it (the SDK's guides pass store: true).
  only('store', (v) => typeof v === 'boolean', 'true or false');
  only('service_tier', (v) => v === 'auto' || v === 'default', "'auto'");
  only('modalities', (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text', "['text']");
  only('prompt_cache_retention', (v) => v === 'in_memory', "'in_memory'");
  const f = p.response_format as { type?: unknown; json_schema?: unknown } | null | undefined;
  if (f != null && typeof f === 'object' && f.type === 'json_schema') {
    const js = f.json_schema as { schema?: unknown } | null | undefined;
    const schema = typeof js === 'object' && js !== null ? js.schema : undefined;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new InvalidRequestError(`response_format.json_schema.schema is required (a JSON Schema object), got ${shown(schema)}`);
    }
  }
}

/** Option names as the OpenAI caller wrote them, for normalizeRequest's messages. */
export function openAINames(maxTokens: string, topLogprobs: string, logprobs = 'logprobs'): OptionNames {
  return {
    maxTokens, temperature: 'temperature', topK: 'top_k', topP: 'top_p', minP: 'min_p', repetitionPenalty: 'repetition_penalty',
    frequencyPenalty: 'frequency_penalty', presencePenalty: 'presence_penalty', logitBias: 'logit_bias', stop: 'stop', seed: 'seed',
    logprobs, topLogprobs, responseFormat: 'response_format', addBos: 'add_bos', tools: 'tools', truncation: 'truncation',
  };
}
