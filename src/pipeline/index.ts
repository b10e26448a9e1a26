// transformers.js-style front door: `const generator = await pipeline('text-generation', model, { progress_callback })`
// then `await generator(textOrMessages, { max_new_tokens, do_sample, temperature, top_k, top_p,
// repetition_penalty, streamer })` → `[{ generated_text }]`, as the transformers.js v3 documentation shows:
// text in → the prompt and its continuation out (return_full_text), messages in → the messages plus the
// assistant's reply out; an array of inputs gives an array of such results. It runs on a Hearth engine.
import { createEngine, tokenizerOf } from '../engine/page/engine';
import { ENGINE_NAMES, normalizeRequest, shown } from '../engine/options';
import type { ChatTool } from '../engine/tools/formats';
import type { Engine } from '../engine/api';
import type { ChatMessage, GenerateOptions, LoadOptions, LoadProgress, ModelInfo, ModelSource } from '../engine/types';
import { InvalidRequestError, UnsupportedError } from '../errors';
import type { Tokenizer } from '../tokenizer';
import { pushText, type BaseStreamer } from './streamer';
import type { FeatureExtractionPipeline } from './feature-extraction';

export type { FeatureExtractionOptions, FeatureExtractionPipeline, FeatureTensor } from './feature-extraction';

/** transformers.js's progress events (its hub's initiate → download → progress → done per file, then ready). */
export type ProgressInfo =
  | { status: 'initiate' | 'download' | 'done'; name: string; file: string }
  | { status: 'progress'; name: string; file: string; progress: number; loaded: number; total: number }
  | { status: 'ready'; task: string; model: string };

export interface PipelineOptions extends Omit<LoadOptions, 'onProgress'> {
  progress_callback?: (info: ProgressInfo) => void;
  /** transformers.js's device as the backend: 'webgpu' (or 'gpu'), 'wasm' (llama.cpp WebAssembly, browsers only), 'auto' (LoadOptions.backend). */
  device?: string;
  /** transformers.js's weight variant: picks a hub repo's GGUF quantization ('q4' → Q4_K_M, 'q8' → Q8_0, 'fp16' → F16, 'fp32' → F32). */
  dtype?: string;
}

/** transformers.js's generation options that Hearth honours (the rest are rejected, not ignored). */
export interface TextGenerationConfig {
  /** Tokens to generate at most. Without it, max_length (default 20) bounds prompt + output, as in transformers.js. */
  max_new_tokens?: number | null;
  max_length?: number;
  /** false (default) = greedy; true samples with temperature / top_k / top_p. */
  do_sample?: boolean;
  temperature?: number;
  /** Default 50 (transformers.js's), used only when sampling. */
  top_k?: number;
  top_p?: number;
  min_p?: number;
  repetition_penalty?: number;
  /** Return the prompt too (default true for text input). */
  return_full_text?: boolean;
  /** With do_sample, several samples per input (different seeds). */
  num_return_sequences?: number;
  /** TextStreamer (or any object with put/end). */
  streamer?: BaseStreamer;
  /** Texts that end generation (transformers' stop_strings). */
  stop_strings?: string | string[];
  /** Hearth extension: the sampling seed (default 0, so the same call gives the same text). */
  seed?: number;
  /** Hearth extension: cancels generation. */
  signal?: AbortSignal;
  /** Chat input: the tools the model may call, passed to its chat template as `tools` (as apply_chat_template takes them). */
  tools?: ChatTool[];
}

export type TextGenerationSingle = { generated_text: string } | { generated_text: ChatMessage[] };
export type TextGenerationOutput = TextGenerationSingle[];

export interface TextGenerationPipeline {
  (texts: string | ChatMessage[], options?: TextGenerationConfig): Promise<TextGenerationOutput>;
  (texts: string[] | ChatMessage[][], options?: TextGenerationConfig): Promise<TextGenerationOutput[]>;
  readonly task: 'text-generation';
  /** The loaded model's description. */
  readonly model: ModelInfo;
  /**
   * The model's tokenizer, synchronous as transformers.js's (in browsers a copy on the page, built from the
   * worker's vocabulary when the pipeline is made); TextStreamer accepts it.
   */
  readonly tokenizer: PipelineTokenizer;
  /** The engine underneath, for the OpenAI-style API or anything else. */
  readonly engine: Engine;
  dispose(): Promise<void>;
}

/** Token ids as transformers.js's tokenizer takes them (numbers, or the bigints a streamer gets). */
type TokenIds = readonly (number | bigint)[] | ArrayLike<number | bigint>;

export interface PipelineTokenizer {
  /** Token ids of `text`. add_special_tokens (default true): BOS (and EOS) as the model file says; false: none. */
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  /** The text of `ids`. skip_special_tokens (default false, as transformers.js) leaves out BOS, EOS and other control tokens. */
  decode(ids: TokenIds, options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  /** decode for each row of `batch`. */
  batch_decode(batch: readonly TokenIds[], options?: { skip_special_tokens?: boolean }): string[];
  /** The chat template applied, as text (rendered in the engine's worker, hence asynchronous). */
  apply_chat_template(messages: ChatMessage[], options?: { add_generation_prompt?: boolean; tokenize?: false; tools?: ChatTool[] }): Promise<string>;
}

const DTYPE_QUANTIZATION: Record<string, string[]> = {
  q4: ['Q4_K_M', 'Q4_0'], q4f16: ['Q4_K_M', 'Q4_0'], int4: ['Q4_K_M', 'Q4_0'], bnb4: ['Q4_K_M', 'Q4_0'],
  q8: ['Q8_0'], int8: ['Q8_0'], uint8: ['Q8_0'], fp16: ['F16'], fp32: ['F32'],
};

export async function pipeline(task: 'feature-extraction', model: ModelSource, options?: PipelineOptions): Promise<FeatureExtractionPipeline>;
export async function pipeline(task: 'text-generation', model: ModelSource, options?: PipelineOptions): Promise<TextGenerationPipeline>;
export async function pipeline(task: 'text-generation' | 'feature-extraction', model: ModelSource, options: PipelineOptions = {}): Promise<TextGenerationPipeline | FeatureExtractionPipeline> {
  if (task === 'feature-extraction') {
    const engine = await openEngine(task, model, { ...options, embeddings: true });
    return (await import('./feature-extraction')).featureExtractionPipeline(engine);
  }
  if (task !== 'text-generation') throw new UnsupportedError(`Hearth's pipeline runs 'text-generation' and 'feature-extraction', not ${JSON.stringify(task)}`);
  const engine = await openEngine(task, model, options);

  let tokenizer: PipelineTokenizer;
  try {
    const t = await tokenizerOf(engine);
    // Loaded on demand: the tokenizer code stays out of pages that import Hearth but never make a pipeline.
    tokenizer = pipelineTokenizer(engine, 'encode' in t ? t : (await import('../tokenizer')).tokenizerFromSource(t));
  } catch (e) {
    await engine.dispose();
    throw e;
  }
  const call = (async (texts: string | string[] | ChatMessage[] | ChatMessage[][], config: TextGenerationConfig = {}) => {
    const chatInput = isChat(texts);
    const batched = Array.isArray(texts) && !chatInput;
    const inputs = (batched ? texts : [texts]) as (string | ChatMessage[])[];
    const results: TextGenerationOutput[] = [];
    for (const input of inputs) results.push(await generateOne(engine, tokenizer, input, config));
    return batched ? results : results[0]!;
  }) as TextGenerationPipeline;
  Object.defineProperty(call, 'model', { get: () => engine.model, enumerable: true });
  return Object.assign(call, { task, engine, tokenizer, dispose: () => engine.dispose() });
}

/** transformers.js's tokenizer methods over Hearth's tokenizer. */
function pipelineTokenizer(engine: Engine, t: Tokenizer): PipelineTokenizer {
  const decode = (ids: TokenIds, o: { skip_special_tokens?: boolean } = {}) => t.decode(tokenIds(ids), { skipSpecial: o.skip_special_tokens ?? false });
  return {
    encode: (text, o = {}) => {
      if (typeof text !== 'string') throw new InvalidRequestError(`tokenizer.encode needs a string, got ${shown(text)}`);
      const special = o.add_special_tokens ?? true;
      return t.encode(text, special ? {} : { addBos: false, addEos: false });
    },
    decode,
    batch_decode: (batch, o) => {
      if (!Array.isArray(batch)) throw new InvalidRequestError(`tokenizer.batch_decode needs an array of token id arrays, got ${shown(batch)}`);
      return batch.map((ids) => decode(ids, o));
    },
    apply_chat_template: (messages, o = {}) => engine.applyChatTemplate(messages, { addGenerationPrompt: o.add_generation_prompt ?? false, ...(o.tools ? { tools: o.tools } : {}) }),
  };
}

function tokenIds(ids: TokenIds): number[] {
  const list = typeof ids === 'object' && ids !== null && typeof (ids as ArrayLike<unknown>).length === 'number' ? Array.from(ids as ArrayLike<unknown>) : undefined;
  if (!list || !list.every((x) => (typeof x === 'number' && Number.isInteger(x)) || typeof x === 'bigint')) {
    throw new InvalidRequestError(`tokenizer.decode needs token ids (an array of integers), got ${shown(ids)}`);
  }
  return list.map(Number);
}

function isChat(x: unknown): x is ChatMessage[] {
  return Array.isArray(x) && x.length > 0 && x.every((m) => typeof m === 'object' && m !== null && 'role' in m && 'content' in m);
}

async function generateOne(engine: Engine, tokenizer: PipelineTokenizer, input: string | ChatMessage[], config: TextGenerationConfig): Promise<TextGenerationOutput> {
  const chat = typeof input !== 'string';
  if (chat && !isChat(input)) throw new InvalidRequestError('input must be a string, an array of { role, content } messages, or an array of either');
  const n = config.num_return_sequences ?? 1;
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidRequestError(`num_return_sequences must be an integer >= 1, got ${n}`);
  if (n > 1 && !config.do_sample) throw new InvalidRequestError('num_return_sequences > 1 needs do_sample: true (greedy decoding gives the same sequence every time)');
  const base = await generationOptions(engine, tokenizer, input, config);
  const out: TextGenerationOutput = [];
  for (let k = 0; k < n; k++) {
    const options = { ...base, seed: ((config.seed ?? 0) + k) >>> 0 };
    const stream = chat ? engine.chat(input, options) : engine.generate(input, options);
    const streamer = config.streamer;
    if (streamer) {
      for await (const c of stream) {
        if (pushText in streamer) (streamer as { [pushText](t: string, ids: number[]): void })[pushText](c.text, c.token >= 0 ? [c.token] : []);
        else if (c.token >= 0) streamer.put([[BigInt(c.token)]]);
      }
    }
    const result = await stream.result;
    streamer?.end();
    if (chat) out.push({ generated_text: [...input, { role: 'assistant', content: result.text }] });
    else out.push({ generated_text: (config.return_full_text ?? true) ? input + result.text : result.text });
  }
  return out;
}

async function generationOptions(engine: Engine, tokenizer: PipelineTokenizer, input: string | ChatMessage[], c: TextGenerationConfig): Promise<GenerateOptions> {
  const known = new Set(['max_new_tokens', 'max_length', 'do_sample', 'temperature', 'top_k', 'top_p', 'min_p', 'repetition_penalty', 'return_full_text', 'num_return_sequences', 'streamer', 'stop_strings', 'seed', 'signal', 'tools']);
  for (const key of Object.keys(c)) {
    if (!known.has(key)) throw new InvalidRequestError(`generation option ${JSON.stringify(key)} is not supported by Hearth's pipeline (supported: ${[...known].join(', ')})`);
  }
  let maxTokens = c.max_new_tokens ?? undefined;
  if (maxTokens === undefined) {
    // A chat prompt's template writes its own special tokens (BOS included where it wants one).
    const promptTokens = typeof input === 'string'
      ? tokenizer.encode(input).length
      : tokenizer.encode(await engine.applyChatTemplate(input, { addGenerationPrompt: true, ...(c.tools ? { tools: c.tools } : {}) }), { add_special_tokens: false }).length;
    maxTokens = Math.max(0, (c.max_length ?? 20) - promptTokens);
  }
  const sample = c.do_sample ?? false;
  const options: GenerateOptions = {
    maxTokens,
    temperature: sample ? c.temperature ?? 1 : 0,
    topK: sample ? c.top_k ?? 50 : undefined,
    topP: sample ? c.top_p : undefined,
    minP: sample ? c.min_p : undefined,
    repetitionPenalty: c.repetition_penalty,
    stop: c.stop_strings,
  };
  // Checked here so that errors name transformers.js's options (max_new_tokens, top_k, ...).
  normalizeRequest({ ...options, seed: c.seed }, engine.model.vocabSize, {
    ...ENGINE_NAMES, maxTokens: c.max_new_tokens != null ? 'max_new_tokens' : 'max_length', topK: 'top_k', topP: 'top_p', minP: 'min_p',
    repetitionPenalty: 'repetition_penalty', stop: 'stop_strings',
  });
  return { ...options, signal: c.signal, ...(c.tools ? { tools: c.tools } : {}) };
}

/** Hearth's load progress as transformers.js's events: initiate and download once per file, progress, done. */
function progressAdapter(name: string, callback: (info: ProgressInfo) => void): (p: LoadProgress) => void {
  const started = new Set<string>();
  const finished = new Set<string>();
  return (p) => {
    if (p.phase === 'compile' || p.phase === 'ready') {
      for (const file of started) if (!finished.has(file)) { finished.add(file); callback({ status: 'done', name, file }); }
      return;
    }
    if (!started.has(p.file)) {
      started.add(p.file);
      callback({ status: 'initiate', name, file: p.file });
      callback({ status: 'download', name, file: p.file });
    }
    callback({ status: 'progress', name, file: p.file, progress: p.total > 0 ? (100 * p.loaded) / p.total : 0, loaded: p.loaded, total: p.total });
  };
}

/** The engine a pipeline runs on: transformers.js's device and dtype options checked, its progress events. */
async function openEngine(task: string, model: ModelSource, options: PipelineOptions): Promise<Engine> {
  const { progress_callback, device, dtype, ...load } = options;
  if (device !== undefined && !['webgpu', 'gpu', 'wasm', 'auto'].includes(device)) {
    throw new UnsupportedError(`device ${JSON.stringify(device)} is not available: Hearth runs on WebGPU or on llama.cpp's WebAssembly build (use device: 'webgpu', 'wasm' or 'auto', or leave it out)`);
  }
  // transformers.js's device names the backend: 'wasm' is llama.cpp's WebAssembly build here.
  const backend = device === 'wasm' ? 'wasm' : device === 'webgpu' || device === 'gpu' ? 'webgpu' : load.backend;
  const quantization = dtype === undefined || dtype === 'auto' ? undefined : DTYPE_QUANTIZATION[dtype];
  if (dtype !== undefined && dtype !== 'auto' && !quantization) {
    throw new InvalidRequestError(`dtype ${JSON.stringify(dtype)} is not one Hearth knows: use ${Object.keys(DTYPE_QUANTIZATION).join(', ')} or 'auto'`);
  }
  const name = typeof model === 'string' ? model : model instanceof URL ? model.href : 'model.gguf';
  const engine = await createEngine(model, {
    ...load,
    ...(backend ? { backend } : {}),
    ...(quantization ? { quantization } : {}),
    onProgress: progress_callback ? progressAdapter(name, progress_callback) : undefined,
  });
  progress_callback?.({ status: 'ready', task, model: name });
  return engine;
}
