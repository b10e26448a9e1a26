// The page-facing engine: `createEngine` starts the worker (or, in Node, a core on this thread)
// and turns the core's callbacks into streams. This is the only place that knows a worker exists.
import * as Comlink from 'comlink';
import { abortError, InvalidRequestError } from '../errors';
import { installTypedErrors } from './comlink-errors';
import { startWorker } from './start-worker';
import type { EngineCore } from './core';
import type {
  ChatMessage, ChatTemplateOptions, Engine, GenerateOptions, GenerationResult, LoadOptions, ModelInfo, ModelSource, TokenChunk, TokenStream,
} from './types';

export async function createEngine(model: ModelSource, options: LoadOptions = {}): Promise<Engine> {
  const { onProgress, signal, contextLength, precision, quantize } = options;
  if (signal?.aborted) throw abortError('Model loading was aborted.');
  const inBrowser = typeof window !== 'undefined' || typeof (globalThis as { importScripts?: unknown }).importScripts === 'function';
  const useWorker = options.worker ?? (inBrowser && typeof Worker !== 'undefined');
  if (options.worker && typeof Worker === 'undefined') throw new InvalidRequestError('worker: true needs Web Workers, which this environment lacks');

  if (!useWorker) {
    // Loaded on demand so that pages using the worker do not download the engine twice.
    const { LocalEngineCore } = await import('./core');
    const core = new LocalEngineCore();
    const info = await core.load(model, { contextLength, precision, quantize }, onProgress, signal);
    return new EngineHandle(core, info, (f) => f, async () => {});
  }

  installTypedErrors();
  const worker = startWorker(); // from this script's URL, cross-origin included (start-worker.ts)
  const core = Comlink.wrap<EngineCore>(worker);
  // A worker that fails to start (bad bundle, CSP) never answers: turn that into an error instead of a hang.
  const crashed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (e) => reject(new Error(`The Hearth worker failed to start: ${e.message || 'script error'}`)), { once: true });
  });
  const aborted = new Promise<never>((_, reject) => {
    signal?.addEventListener('abort', () => reject(abortError('Model loading was aborted.')), { once: true });
  });
  // Relative URLs mean "relative to the page", not to the worker script.
  const source = typeof model === 'string' && typeof location !== 'undefined' && !/^[a-z][a-z0-9+.-]*:/i.test(model) ? new URL(model, location.href).href : model;
  try {
    const info = await Promise.race([core.load(source instanceof URL ? source.href : source, { contextLength, precision, quantize }, onProgress && Comlink.proxy(onProgress)), crashed, aborted]);
    return new EngineHandle(core, info, (f) => Comlink.proxy(f), async () => { worker.terminate(); });
  } catch (e) {
    worker.terminate();
    throw e;
  }
}

type EngineCoreLike = EngineCore | Comlink.Remote<EngineCore>;

class EngineHandle implements Engine {
  private disposed = false;

  constructor(
    private readonly core: EngineCoreLike,
    readonly model: ModelInfo,
    /** Comlink.proxy for a worker, identity on the same thread. */
    private readonly passCallback: <F extends (...args: never[]) => unknown>(f: F) => F,
    private readonly stop: () => Promise<void>,
  ) {}

  generate(prompt: string, options: GenerateOptions = {}): TokenStream {
    if (typeof prompt !== 'string') throw new InvalidRequestError(`prompt must be a string, got ${typeof prompt}`);
    return this.stream(options, (request, onChunk) => this.core.generate(prompt, request, onChunk));
  }

  chat(messages: ChatMessage[], options: GenerateOptions = {}): TokenStream {
    if (!Array.isArray(messages)) throw new InvalidRequestError(`messages must be an array of { role, content }, got ${typeof messages}`);
    return this.stream(options, (request, onChunk) => this.core.chat(messages, request, onChunk));
  }

  async applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): Promise<string> {
    return this.core.applyChatTemplate(messages, options);
  }

  /** Runs one core generation and turns its chunk callbacks into a TokenStream. */
  private stream(
    options: GenerateOptions,
    start: (request: Omit<GenerateOptions, 'signal'>, onChunk: (c: TokenChunk) => void) => Promise<GenerationResult>,
  ): TokenStream {
    const { signal, ...request } = options;
    if (this.disposed) throw new InvalidRequestError('this engine was disposed; create a new one');
    const queue = new ChunkQueue();
    const cancel = () => { void this.core.cancel(); };
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
    const result = Promise.resolve(start(request, this.passCallback((c: TokenChunk) => queue.push(c))));
    result.then((r) => queue.end(r), (e: unknown) => queue.fail(e)).finally(() => signal?.removeEventListener('abort', cancel));
    return { result, cancel, [Symbol.asyncIterator]: () => queue.iterate() };
  }

  async tokenize(text: string, options: { addBos?: boolean } = {}): Promise<number[]> {
    return this.core.tokenize(text, options.addBos ?? true);
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

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.core.dispose();
    await this.stop();
  }
}

/**
 * Chunks pushed by the core, pulled by `for await`; ends or fails with the generation.
 * Across a worker, chunk callbacks and the final result travel on different message ports, so the
 * result may arrive first: the stream ends only once every token and character of the result is in.
 */
class ChunkQueue {
  private readonly chunks: TokenChunk[] = [];
  private receivedTokens = 0;
  private receivedChars = 0;
  private final?: GenerationResult;
  private done = false;
  private error: unknown;
  private wake?: () => void;

  push(c: TokenChunk): void {
    this.chunks.push(c);
    if (c.token >= 0) this.receivedTokens++;
    this.receivedChars += c.text.length;
    this.settle();
  }
  end(result: GenerationResult): void { this.final = result; this.settle(); }
  fail(e: unknown): void { this.error = e; this.done = true; this.wake?.(); }

  private settle(): void {
    const r = this.final;
    if (r && this.receivedTokens >= r.tokens.length && this.receivedChars >= r.text.length) this.done = true;
    this.wake?.();
  }

  async *iterate(): AsyncGenerator<TokenChunk> {
    for (;;) {
      while (this.chunks.length > 0) yield this.chunks.shift()!;
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }
}
