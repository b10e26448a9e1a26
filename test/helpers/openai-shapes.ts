// Runtime checks of the OpenAI response shapes (the compile-time side is test/openai-types.test.ts): every
// required field present with the right type, no field the SDK's types do not have. Environment-agnostic
// (also bundled into the Chromium test page). Each returns a list of problems, empty when the value fits.

type Check = (value: unknown, path: string, problems: string[]) => void;

const str: Check = (v, p, out) => { if (typeof v !== 'string') out.push(`${p}: expected a string, got ${JSON.stringify(v)}`); };
const int: Check = (v, p, out) => { if (!Number.isInteger(v) || (v as number) < 0) out.push(`${p}: expected an integer >= 0, got ${JSON.stringify(v)}`); };
const num: Check = (v, p, out) => { if (typeof v !== 'number' || !Number.isFinite(v)) out.push(`${p}: expected a finite number, got ${JSON.stringify(v)}`); };
const literal = (...values: unknown[]): Check => (v, p, out) => { if (!values.includes(v)) out.push(`${p}: expected one of ${JSON.stringify(values)}, got ${JSON.stringify(v)}`); };
const nullable = (c: Check): Check => (v, p, out) => { if (v !== null) c(v, p, out); };
const array = (c: Check): Check => (v, p, out) => {
  if (!Array.isArray(v)) { out.push(`${p}: expected an array, got ${JSON.stringify(v)}`); return; }
  v.forEach((x, i) => c(x, `${p}[${i}]`, out));
};
const record = (c: Check): Check => (v, p, out) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) { out.push(`${p}: expected an object`); return; }
  for (const [k, x] of Object.entries(v)) c(x, `${p}.${k}`, out);
};
/** An object with exactly these fields (optional ones end in '?'). */
const object = (fields: Record<string, Check>): Check => (v, p, out) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) { out.push(`${p}: expected an object, got ${JSON.stringify(v)}`); return; }
  const o = v as Record<string, unknown>;
  const known = new Set<string>();
  for (const [spec, c] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const key = optional ? spec.slice(0, -1) : spec;
    known.add(key);
    if (!(key in o)) { if (!optional) out.push(`${p}.${key}: missing`); continue; }
    if (optional && o[key] === undefined) continue;
    c(o[key], `${p}.${key}`, out);
  }
  for (const key of Object.keys(o)) if (!known.has(key)) out.push(`${p}.${key}: not a field of the OpenAI type`);
};

const FINISH = ['stop', 'length', 'tool_calls', 'content_filter', 'function_call', 'abort'];
const bytes = nullable(array(int));
const tokenLogprob = object({ token: str, bytes, logprob: num, top_logprobs: array(object({ token: str, bytes, logprob: num })) });
const chatLogprobs = nullable(object({ content: nullable(array(tokenLogprob)), refusal: nullable(array(tokenLogprob)) }));
const usage = object({
  completion_tokens: int, prompt_tokens: int, total_tokens: int,
  'completion_tokens_details?': object({ 'accepted_prediction_tokens?': int, 'audio_tokens?': int, 'reasoning_tokens?': int, 'rejected_prediction_tokens?': int }),
  'prompt_tokens_details?': object({ 'audio_tokens?': int, 'cached_tokens?': int }),
});
const usageTotals: Check = (v, p, out) => {
  usage(v, p, out);
  const u = v as { completion_tokens: number; prompt_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens?: number } };
  if (u.total_tokens !== u.prompt_tokens + u.completion_tokens) out.push(`${p}: total_tokens ${u.total_tokens} != prompt + completion`);
  const cached = u.prompt_tokens_details?.cached_tokens;
  if (cached !== undefined && cached > u.prompt_tokens) out.push(`${p}: cached_tokens ${cached} > prompt_tokens`);
};
const common = { id: str, created: int, model: str, 'system_fingerprint?': str };

const chatCompletion = object({
  ...common,
  object: literal('chat.completion'),
  choices: array(object({
    finish_reason: literal(...FINISH),
    index: int,
    logprobs: chatLogprobs,
    message: object({ content: nullable(str), refusal: nullable(str), role: literal('assistant') }),
  })),
  'usage?': usageTotals,
});

const chatChunk = object({
  ...common,
  object: literal('chat.completion.chunk'),
  choices: array(object({
    delta: object({ 'content?': nullable(str), 'refusal?': nullable(str), 'role?': literal('developer', 'system', 'user', 'assistant', 'tool') }),
    finish_reason: nullable(literal(...FINISH)),
    index: int,
    'logprobs?': chatLogprobs,
  })),
  'usage?': nullable(usageTotals),
});

const completionOf = (finish: Check) => object({
  ...common,
  object: literal('text_completion'),
  choices: array(object({
    finish_reason: finish,
    index: int,
    logprobs: nullable(object({ 'text_offset?': array(int), 'token_logprobs?': array(num), 'tokens?': array(str), 'top_logprobs?': array(record(num)) })),
    text: str,
  })),
  'usage?': usageTotals,
});
const completion = completionOf(literal('stop', 'length', 'content_filter', 'abort'));
/** Streamed completions are Completion objects whose finish_reason is null until the last (as OpenAI sends them). */
const completionChunk = completionOf(nullable(literal('stop', 'length', 'content_filter', 'abort')));

function run(check: Check, value: unknown, name: string): string[] {
  const problems: string[] = [];
  check(value, name, problems);
  return problems;
}

export const chatCompletionProblems = (v: unknown) => run(chatCompletion, v, 'ChatCompletion');
export const chatChunkProblems = (v: unknown) => run(chatChunk, v, 'ChatCompletionChunk');
export const completionProblems = (v: unknown) => run(completion, v, 'Completion');
export const completionChunkProblems = (v: unknown) => run(completionChunk, v, 'Completion (streamed)');
