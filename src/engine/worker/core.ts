// The engine's working half: owns the GPU device, the loaded model, the request queue and the decode loop.
// It runs inside the Web Worker (src/worker.ts exposes it) or, in Node, on the calling thread.
import { fetchOptionsOf, type ModelFetchOptions } from '../../io/fetch-options';
import { InvalidRequestError, ResourceError } from '../../errors';
import { acquireDevice, type AcquiredDevice, type PrecisionOption } from '../../gpu/device';
import type { KvCacheOption } from '../../gpu/profile';
import type { ProgressCallback } from '../../io/progress';
import { loadModel, type LoadedModel } from '../../model/load';
import type { LoadQuantization } from '../../model/quantize';
import { ChatTemplate, chatStopTokens, encodeChatPrompt, type ChatMessage, type ChatTemplateOptions } from '../../tokenizer/chat-template';
import type { Tokenizer, TokenizerSource } from '../../tokenizer';
import { normalizeRequest, type RequestOptions } from '../options';
import type { EmbedOptions, EmbedResult } from '../embedding-types';
import { embedInputs } from './embeddings';
import { RequestQueue } from './request-queue';
import { fitChat, fitTokens, promptBudget } from './fit-context';
import { checkedIds, Session, type ChunkCallback } from './session';
import type { GenerationResult, ModelInfo, ModelSource } from '../types';
import type { BackendOption } from '../../wasm/backend-option';

export interface CoreLoadOptions extends ModelFetchOptions {
  contextLength?: number; precision?: PrecisionOption; kvCache?: KvCacheOption; quantize?: LoadQuantization; embeddings?: boolean;
  /** Which backend runs the model (src/wasm/backend-core.ts chooses; LocalEngineCore is the WebGPU one). */
  backend?: BackendOption;
}

/** What a request continues: text (tokenized with BOS per options.addBos), token ids, or a chat. */
export type PromptInput = { text: string } | { tokens: number[] } | { messages: ChatMessage[] };

/** Callback-based so it crosses a comlink boundary; the page wraps it into streams (page/engine.ts). */
export interface EngineCore {
  /** Loads (or replaces) the model. abortLoad() stops a load in progress with an AbortError. */
  load(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback): Promise<ModelInfo>;
  abortLoad(): void;
  /**
   * Queues a request; requests run one at a time in arrival order. `id` names it for cancel(id): a queued
   * request then rejects with an AbortError, a running one ends with finishReason 'abort'.
   */
  run(id: number, input: PromptInput, options: RequestOptions, onChunk: ChunkCallback): Promise<GenerationResult>;
  cancel(id: number): void;
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions): Promise<string>;
  /** addBos undefined: as the model file says (tokenizer.ggml.add_bos_token, tokenizer_config.json's add_bos_token). */
  tokenize(text: string, addBos?: boolean): Promise<number[]>;
  /** Plain data that rebuilds the model's tokenizer on the page (tokenizerFromSource), for synchronous use there. */
  tokenizerSource(): Promise<TokenizerSource>;
  /** Embeddings of `inputs` (texts or token ids), queued like a request (src/engine/worker/embeddings.ts). */
  embed(inputs: (string | number[])[], options: EmbedOptions): Promise<EmbedResult>;
  /** Next-token logits [vocabSize] after `tokens` (Session.logits), queued like a request. */
  logits(tokens: number[]): Promise<Float32Array>;
  detokenize(ids: number[]): Promise<string>;
  resetContext(): Promise<void>;
  /** Frees the model's GPU memory (load() brings a model back). */
  unload(): Promise<void>;
  dispose(): Promise<void>;
}

export class LocalEngineCore implements EngineCore {
  private gpu?: AcquiredDevice;
  private loaded?: LoadedModel;
  private session?: Session;
  private template?: ChatTemplate;
  private stopTokens?: number[];
  /** Set when the device is lost by something other than unload(): requests then say to reload. */
  private lostReason?: string;
  private loadController?: AbortController;
  /** Requests, loads and unloads, one at a time in arrival order. */
  private readonly queue = new RequestQueue();

  async load(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback): Promise<ModelInfo> {
    if (options.contextLength !== undefined && !(Number.isInteger(options.contextLength) && options.contextLength > 0)) {
      throw new InvalidRequestError(`contextLength must be a positive integer, got ${options.contextLength}`);
    }
    this.loadController?.abort();
    const controller = new AbortController();
    this.loadController = controller;
    // A new model waits for the requests before it, and requests after it wait for the model.
    return this.queue.enqueue(undefined, async () => {
      await this.release();
      const gpu = await acquireDevice();
      this.gpu = gpu;
      this.lostReason = undefined;
      void gpu.device.lost.then((info) => {
        if (this.gpu === gpu) this.lostReason = info.message || info.reason || 'unknown reason';
      });
      this.loaded = await loadModel(gpu, model, { onProgress, signal: controller.signal, contextLength: options.contextLength, precision: options.precision, kvCache: options.kvCache, quantize: options.quantize, embeddings: options.embeddings, ...fetchOptionsOf(options) });
      this.session = new Session(this.loaded);
      return this.describe(this.loaded.info);
    }).catch(async (e: unknown) => {
      await this.release();
      throw e;
    }).finally(() => {
      if (this.loadController === controller) this.loadController = undefined;
    });
  }

  abortLoad(): void {
    this.loadController?.abort();
  }

  run(id: number, input: PromptInput, options: RequestOptions, onChunk: ChunkCallback): Promise<GenerationResult> {
    return this.queue.enqueue(id, async (signal) => {
      const session = this.generator().session!;
      const { prompt, stopTokens, truncated } = this.prompt(input, options);
      const result = await session.generate(prompt, options, onChunk, stopTokens, signal);
      return { ...result, ...truncated };
    });
  }

  /**
   * What `input` feeds the model and where its reply stops. With truncation 'auto' the prompt is fitted to the
   * context here (fit-context.ts), and `truncated` says how much of it was left out.
   */
  private prompt(input: PromptInput, options: RequestOptions): { prompt: string | number[]; stopTokens?: number[]; truncated?: Partial<GenerationResult> } {
    const { tokenizer, info } = this.loaded!;
    const request = normalizeRequest(options, tokenizer.vocabSize);
    const budget = promptBudget(info.contextLength, request.maxTokens);
    if ('messages' in input) {
      const { stopTokens } = this.chatStops();
      const encode = (messages: ChatMessage[]) => encodeChatPrompt(tokenizer, this.renderChat(messages, { addGenerationPrompt: true, tools: options.tools }));
      if (request.truncation === 'disabled') return { prompt: encode(input.messages), stopTokens };
      const { prompt, truncatedMessages } = fitChat(input.messages, encode, budget);
      return { prompt, stopTokens, truncated: { truncatedMessages } };
    }
    if (request.truncation === 'disabled') return { prompt: 'text' in input ? input.text : input.tokens };
    const tokens = 'text' in input ? tokenizer.encode(input.text, { addBos: request.addBos }) : checkedIds(input.tokens, tokenizer.vocabSize);
    const { prompt, truncatedTokens } = fitTokens(tokens, budget, tokenizer.bosId);
    return { prompt, truncated: { truncatedTokens } };
  }

  cancel(id: number): void {
    this.queue.cancel(id);
  }

  async applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions): Promise<string> {
    return this.renderChat(messages, options);
  }

  private renderChat(messages: ChatMessage[], options: ChatTemplateOptions): string {
    return this.chatTemplate().render(messages, options);
  }

  async tokenize(text: string, addBos?: boolean): Promise<number[]> {
    return this.ready().loaded!.tokenizer.encode(text, { addBos });
  }

  async tokenizerSource(): Promise<TokenizerSource> {
    return this.tokenizer().source;
  }

  /** The loaded model's tokenizer itself (same thread: no copy needed). */
  tokenizer(): Tokenizer {
    return this.ready().loaded!.tokenizer;
  }

  logits(tokens: number[]): Promise<Float32Array> {
    return this.queue.enqueue(undefined, async () => this.generator().session!.logits(tokens));
  }

  embed(inputs: (string | number[])[], options: EmbedOptions): Promise<EmbedResult> {
    return this.queue.enqueue(undefined, () => embedInputs(this.ready().loaded!, inputs, options));
  }

  async detokenize(ids: number[]): Promise<string> {
    return this.ready().loaded!.tokenizer.decode(ids, { skipSpecial: true });
  }

  resetContext(): Promise<void> {
    return this.queue.enqueue(undefined, async () => { this.session?.reset(); });
  }

  unload(): Promise<void> {
    return this.queue.enqueue(undefined, () => this.release());
  }

  async dispose(): Promise<void> {
    this.loadController?.abort();
    await this.queue.drain();
    await this.release();
  }

  /** Frees the sampler, the model and the device. */
  private async release(): Promise<void> {
    const { session, loaded, gpu } = this;
    this.session = undefined;
    this.loaded = undefined;
    this.gpu = undefined;
    this.template = undefined;
    this.stopTokens = undefined;
    await session?.dispose();
    loaded?.destroy();
    gpu?.device.destroy();
  }

  /** The model's chat template, parsed once per model. */
  private chatTemplate(): ChatTemplate {
    const { info, tokenizer } = this.ready().loaded!;
    if (!info.chatTemplate) {
      throw new InvalidRequestError(`${info.name} has no chat template (no 'tokenizer.chat_template' in the file): it is a base model, which continues text rather than answering messages. Use generate() with a plain prompt, or load an instruction-tuned model.`);
    }
    this.template ??= new ChatTemplate(info.chatTemplate, templateTokens(tokenizer));
    return this.template;
  }

  /** The ids that end a chat reply, found on the first chat request (it scans the vocabulary). */
  private chatStops(): { stopTokens: number[] } {
    this.stopTokens ??= chatStopTokens(this.loaded!.tokenizer, this.chatTemplate());
    return { stopTokens: this.stopTokens };
  }

  /** The loader's model info, and what the chat template can do (a template that does not parse says so on the first chat). */
  private describe(info: ModelInfo): ModelInfo {
    if (!info.chatTemplate) return info;
    try {
      return { ...info, supportsSystemRole: this.chatTemplate().supportsSystemRole };
    } catch {
      return info;
    }
  }

  /** ready(), and a model loaded for generation (an embedding model's pass cannot decode). */
  private generator(): this {
    const { model, info } = this.ready().loaded!;
    if (model.embeddings) throw new InvalidRequestError(`${info.name} is loaded for embeddings; use engine.embeddings.create, or load a text-generation model`);
    return this;
  }

  private ready(): this {
    if (this.lostReason !== undefined) {
      throw new ResourceError(`The GPU device was lost (${this.lostReason}); the model is gone from GPU memory. Call engine.reload() to load it again (after a driver reset or with other GPU work closed).`);
    }
    if (!this.session) throw new InvalidRequestError('no model is loaded (it failed to load, or was unloaded or disposed); call engine.reload() or create a new engine');
    return this;
  }
}

/** The bos_token / eos_token texts a template refers to. */
function templateTokens(tokenizer: Tokenizer): { bosToken?: string; eosToken?: string } {
  const text = (id: number | undefined) => (id === undefined ? undefined : tokenizer.tokenText(id));
  // eosIds lists EOS first when the vocabulary has one.
  return { bosToken: text(tokenizer.bosId), eosToken: text(tokenizer.eosIds[0]) };
}
