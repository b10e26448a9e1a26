// The page-facing engine: `createEngine` starts the worker (or, in Node, a core on this thread) and turns the
// core's callbacks into streams and OpenAI-shaped responses. This is the only place that knows a worker exists.
import * as Comlink from 'comlink';
import { abortError, InvalidRequestError } from '../../errors';
import { requestPersistentStorage } from '../../io/persist';
import { fetchOptionsOf } from '../../io/fetch-options';
import { resolveAgainstPage } from '../../io/model-id';
import { installTypedErrors } from '../comlink-errors';
import { ChunkQueue, failed } from './chunk-queue';
import { startWorker } from './start-worker';
import { checkBackendOption } from '../../wasm/backend-option';
import type { Tokenizer, TokenizerSource } from '../../tokenizer';
import type { CoreLoadOptions, EngineCore, PromptInput } from '../worker/core';
import type { StreamedSoFar } from '../worker/session';
import { ChatCompletions, Completions } from '../openai/api';
import { EmbeddingsApi } from './embeddings-api';
import type { OpenAIBackend } from '../openai/endpoints';
import { normalizeRequest } from '../options';
import type {
  ChatMessage, ChatTemplateOptions, GenerateOptions, LoadOptions, ModelInfo, ModelSource, TokenChunk, TokenStream,
} from '../types';
import type { Engine } from '../api';

export async function createEngine(model: ModelSource, options: LoadOptions = {}): Promise<Engine> {
  const { signal } = options;
  checkBackendOption(options.backend);
  if (signal?.aborted) throw abortError('Model loading was aborted.');
  const inBrowser = typeof window !== 'undefined' || typeof (globalThis as { importScripts?: unknown }).importScripts === 'function';
  const useWorker = options.worker ?? (inBrowser && typeof Worker !== 'undefined');
  if (options.worker && typeof Worker === 'undefined') throw new InvalidRequestError('worker: true needs Web Workers, which this environment lacks');

  if (!useWorker) {
    // Loaded on demand so that pages using the worker do not download the engine twice.
    const { BackendCore } = await import('../../wasm/backend-core');
    const core = new BackendCore();
    const engine = new EngineHandle(core, (f) => f, async () => {}, async () => core.tokenizer());
    await engine.reload(model, options);
    return engine;
  }

  installTypedErrors();
  const worker = startWorker(); // from this script's URL, cross-origin included (start-worker.ts)
  const core = Comlink.wrap<EngineCore>(worker);
  // A worker that fails to start (bad bundle, CSP) never answers: turn that into an error instead of a hang.
  const crashed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (e) => reject(new Error(`The Hearth worker failed to start: ${e.message || 'script error'}`)), { once: true });
  });
  // The vocabulary, for a copy of the tokenizer on the page (built by whoever needs one: the pipeline).
  const engine = new EngineHandle(core, (f) => Comlink.proxy(f), async () => { worker.terminate(); }, () => core.tokenizerSource());
  try {
    await Promise.race([engine.reload(model, options), crashed]);
    return engine;
  } catch (e) {
    worker.terminate();
    throw e;
  }
}

type EngineCoreLike = EngineCore | Comlink.Remote<EngineCore>;

/**
 * The tokenizer of `engine`'s model, for synchronous encode/decode on the calling side (the pipeline's
 * generator.tokenizer): the engine's own on the same thread; across a worker, the data to build a copy from
 * (tokenizerFromSource), so that pages that never need one do not load the tokenizer code.
 */
export function tokenizerOf(engine: Engine): Promise<Tokenizer | TokenizerSource> {
  if (!(engine instanceof EngineHandle)) throw new InvalidRequestError('tokenizerOf needs an engine made by createEngine');
  return engine.tokenizer();
}

class EngineHandle implements Engine {
  private disposed = false;
  private info?: ModelInfo;
  private source?: { model: ModelSource; options: LoadOptions };
  private nextId = 1;
  readonly chat: Engine['chat'];
  readonly completions: Completions;
  readonly embeddings: EmbeddingsApi;

  constructor(
    private readonly core: EngineCoreLike,
    /** Comlink.proxy for a worker, identity on the same thread. */
    private readonly passCallback: <F extends (...args: never[]) => unknown>(f: F) => F,
    private readonly stop: () => Promise<void>,
    /** The loaded model's tokenizer: itself on the same thread, across a worker what rebuilds it (tokenizerFromSource). */
    readonly tokenizer: () => Promise<Tokenizer | TokenizerSource>,
  ) {
    const chat = (messages: ChatMessage[], options: GenerateOptions = {}) => this.chatStream(messages, options);
    const handle = this;
    const backend: OpenAIBackend = { get model() { return handle.model; }, generate: (p, o) => this.generate(p, o), chat };
    this.chat = Object.assign(chat, { completions: new ChatCompletions(backend) });
    this.completions = new Completions(backend);
    this.embeddings = new EmbeddingsApi({
      get modelName() { return handle.model.name; },
      embed: (inputs, options) => {
        if (this.disposed) return Promise.reject(new InvalidRequestError('this engine was disposed; create a new one'));
        return this.core.embed(inputs, options);
      },
    });
  }

  get model(): ModelInfo {
    if (!this.info) throw new InvalidRequestError('no model is loaded; call engine.reload(model)');
    return this.info;
  }

  async reload(model?: ModelSource, options: LoadOptions = {}): Promise<ModelInfo> {
    if (this.disposed) throw new InvalidRequestError('this engine was disposed; create a new one');
    const source = model !== undefined ? { model, options } : this.source;
    if (!source) throw new InvalidRequestError('reload() needs a model the first time');
    const { onProgress, signal, contextLength, precision, kvCache, quantize, embeddings, backend } = source.options;
    if (signal?.aborted) throw abortError('Model loading was aborted.');
    // Relative URLs mean "relative to the page", not to the worker script.
    const m = source.model;
    const resolved = resolveAgainstPage(m instanceof URL ? m.href : m, typeof location !== 'undefined' ? location.href : undefined);
    const loadOptions: CoreLoadOptions = { contextLength, precision, kvCache, quantize, embeddings, backend, ...fetchOptionsOf(source.options) };
    requestPersistentStorage(resolved, source.options);
    const abort = () => { void this.core.abortLoad(); };
    signal?.addEventListener('abort', abort, { once: true });
    const aborted = new Promise<never>((_, reject) => {
      signal?.addEventListener('abort', () => reject(abortError('Model loading was aborted.')), { once: true });
    });
    this.info = undefined;
    try {
      this.info = await Promise.race([this.core.load(resolved, loadOptions, onProgress && this.passCallback(onProgress)), aborted]);
      this.source = { model: source.model, options: { ...source.options, signal: undefined } };
      return this.info;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  generate(prompt: string | readonly number[], options: GenerateOptions = {}): TokenStream {
    if (typeof prompt !== 'string' && !Array.isArray(prompt)) return failed(new InvalidRequestError(`prompt must be a string (or token ids), got ${typeof prompt}`));
    return this.stream(typeof prompt === 'string' ? { text: prompt } : { tokens: prompt.slice() }, options);
  }

  private chatStream(messages: ChatMessage[], options: GenerateOptions = {}): TokenStream {
    if (!Array.isArray(messages)) return failed(new InvalidRequestError(`messages must be an array of { role, content }, got ${typeof messages}`));
    return this.stream({ messages: messages.map(plainMessage) }, options);
  }

  async applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): Promise<string> {
    return this.core.applyChatTemplate(messages, options);
  }

  /** Checks the options (before anything is queued), queues the request and turns its chunk callbacks into a TokenStream. */
  private stream(input: PromptInput, options: GenerateOptions): TokenStream {
    if (this.disposed) return failed(new InvalidRequestError('this engine was disposed; create a new one'));
    const { signal, ...request } = options ?? {};
    try {
      normalizeRequest(request, this.model.vocabSize);
    } catch (e) {
      return failed(e);
    }
    if (signal?.aborted) return failed(abortError('The request was aborted before it started.'));
    const id = this.nextId++;
    const queue = new ChunkQueue();
    const cancel = () => { void this.core.cancel(id); };
    signal?.addEventListener('abort', cancel, { once: true });
    const result = Promise.resolve(this.core.run(id, input, request, this.passCallback((c: TokenChunk, soFar: StreamedSoFar) => queue.push(c, soFar))));
    result.then((r) => queue.end(r), (e: unknown) => queue.fail(e)).finally(() => signal?.removeEventListener('abort', cancel));
    return { result, cancel, [Symbol.asyncIterator]: () => queue.iterate(cancel) };
  }

  async tokenize(text: string, options: { addBos?: boolean } = {}): Promise<number[]> {
    return this.core.tokenize(text, options.addBos);
  }

  async detokenize(ids: number[]): Promise<string> {
    return this.core.detokenize(ids);
  }

  async logits(tokens: number[]): Promise<Float32Array> {
    if (this.disposed) throw new InvalidRequestError('this engine was disposed; create a new one');
    if (!Array.isArray(tokens)) throw new InvalidRequestError(`tokens must be an array of token ids, got ${typeof tokens}`);
    return this.core.logits(tokens);
  }

  async resetContext(): Promise<void> {
    await this.core.resetContext();
  }

  async unload(): Promise<void> {
    if (this.disposed) return;
    await this.core.unload();
    this.info = undefined;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.core.dispose();
    await this.stop();
  }
}

/** A message as plain data (it crosses to the worker): the fields templates read. */
function plainMessage(m: ChatMessage): ChatMessage {
  const { role, content, tool_calls, tool_call_id, name } = m;
  return {
    role, content,
    ...(tool_calls ? { tool_calls: tool_calls.map((c) => ({ id: c.id, type: c.type, function: { name: c.function?.name, arguments: c.function?.arguments } })) } : {}),
    ...(tool_call_id !== undefined ? { tool_call_id } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}
