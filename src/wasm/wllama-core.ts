// The engine core on llama.cpp compiled to WebAssembly (wllama), for browsers without a hardware WebGPU adapter.
// Hearth keeps what it does the same on both backends (fetching and caching the GGUF, the tokenizer, chat
// templates, stop strings, text streaming); llama.cpp runs the model and samples. Loaded only when chosen
// (src/wasm/backend-core.ts imports this module dynamically), so the WebGPU path never downloads it.
import { LoggerWithoutDebug, Wllama } from '@wllama/wllama';
import wllamaWasmUrl from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import { abortError, InvalidRequestError, UnsupportedError } from '../errors';
import type { CoreLoadOptions, EngineCore, PromptInput } from '../engine/worker/core';
import type { EmbedResult } from '../engine/embedding-types';
import { normalizeRequest, type GenerateRequest, type RequestOptions } from '../engine/options';
import type { GenerationResult, ModelInfo, ModelSource } from '../engine/types';
import { checkedIds, type ChunkCallback } from '../engine/worker/session';
import { fitChat, fitTokens, promptBudget } from '../engine/worker/fit-context';
import type { ProgressCallback } from '../io/progress';
import { getOptionalNumber, getOptionalString } from '../model/gguf-metadata';
import { ggmlTypeName } from '../model/ggml-types';
import type { ModelFile } from '../model/model-file';
import { ChatTemplate, chatStopTokens, encodeChatPrompt, type ChatMessage, type ChatTemplateOptions } from '../tokenizer/chat-template';
import type { Tokenizer, TokenizerSource } from '../tokenizer';
import { fetchModelBlobs } from './model-blobs';
import { llamaPromptText } from './prompt-text';
import { RequestQueue } from '../engine/worker/request-queue';
import { runOnWllama } from './wllama-request';

/** False in builds that leave this backend out (src/stubs/wllama-core.ts). */
export const WASM_BACKEND_BUILT = true;

/** The context length when the caller gives none, as on WebGPU (src/model/load.ts). */
const DEFAULT_CONTEXT = 2048;

interface LoadedWasmModel {
  wllama: Wllama; tokenizer: Tokenizer; info: ModelInfo; chat?: { template: ChatTemplate; stopTokens: number[] };
  /** What llama.cpp's slot holds after the last request (its prompt and output): what the next can reuse. */
  context: number[];
}

export class WllamaEngineCore implements EngineCore {
  private loaded?: LoadedWasmModel;
  private loadController?: AbortController;
  private readonly queue = new RequestQueue();

  constructor(private readonly backendReason: string) {}

  async load(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback): Promise<ModelInfo> {
    checkLoadOptions(options);
    this.loadController?.abort();
    const controller = new AbortController();
    this.loadController = controller;
    return this.queue.enqueue(undefined, async () => {
      await this.release();
      const { opened, blobs } = await fetchModelBlobs(model, { ...options, onProgress, signal: controller.signal });
      onProgress?.({ file: opened.name, loaded: 0, total: 0, rate: 0, phase: 'compile' });
      const file = opened.file;
      const architecture = getOptionalString(file, 'general.architecture') ?? 'unknown';
      const trained = getOptionalNumber(file, `${architecture}.context_length`) ?? DEFAULT_CONTEXT;
      const contextLength = options.contextLength ?? Math.min(trained, DEFAULT_CONTEXT);
      const wllama = new Wllama({ default: new URL(wllamaWasmUrl, import.meta.url).href }, { suppressNativeLog: true, logger: LoggerWithoutDebug });
      // Threads need SharedArrayBuffer, which only cross-origin isolated pages (COOP/COEP) have.
      const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
      await wllama.loadModel(blobs, { n_ctx: contextLength, n_threads: isolated ? undefined : 1, n_gpu_layers: 0, n_parallel: 1, ctx_shift: false });
      if (controller.signal.aborted) {
        await wllama.exit();
        throw abortError('Model loading was aborted.');
      }
      const threads = wllama.getNumThreads();
      const info: ModelInfo = {
        name: opened.displayName,
        architecture,
        contextLength,
        vocabSize: opened.tokenizer.vocabSize,
        chatTemplate: opened.chatTemplate,
        weightType: weightTypeOf(file),
        gpuBytes: 0,
        precision: cpuPrecision(weightTypeOf(file)),
        kvCache: 'f16', // llama.cpp's default cache type
        adapter: `llama.cpp WebAssembly (${threads} thread${threads === 1 ? '' : 's'})`,
        profile: null,
        backend: 'wasm',
        backendReason: this.backendReason,
      };
      this.loaded = { wllama, tokenizer: opened.tokenizer, info, context: [] };
      onProgress?.({ file: opened.name, loaded: 1, total: 1, rate: 0, phase: 'ready' });
      return info;
    }).finally(() => {
      if (this.loadController === controller) this.loadController = undefined;
    });
  }

  abortLoad(): void {
    this.loadController?.abort();
  }

  run(id: number, input: PromptInput, options: RequestOptions, onChunk: ChunkCallback): Promise<GenerationResult> {
    return this.queue.enqueue(id, async (signal) => {
      const loaded = this.ready();
      const { tokenizer, info } = loaded;
      const request = normalizeRequest(options, tokenizer.vocabSize);
      const { promptTokens, written, stopTokens, truncated } = this.prompt(loaded, input, options, request);
      if (promptTokens.length === 0) throw new InvalidRequestError('the prompt is empty and this vocabulary adds no BOS token; give some text');
      if (promptTokens.length > info.contextLength) {
        throw new InvalidRequestError(`the prompt is ${promptTokens.length} tokens but the context holds ${info.contextLength}; shorten it or load the model with a larger contextLength`);
      }
      const promptText = llamaPromptText(tokenizer, promptTokens, written);
      const previous = loaded.context;
      loaded.context = []; // unknown until this request ends (a failure leaves llama.cpp's cache unknown too)
      // Tool calls keep the control tokens of their syntax in the text ('[TOOL_CALLS]'), as on WebGPU: the parser reads them.
      const result = await runOnWllama(loaded.wllama, tokenizer, { promptTokens, promptText, request, stopTokens, contextLength: info.contextLength, previous, skipSpecial: request.responseFormat?.type !== 'tool_calls', onChunk, signal });
      loaded.context = [...promptTokens, ...result.tokens];
      return { ...result, ...truncated };
    });
  }

  /** The prompt's tokens and, where known, the text they were encoded from; fitted to the context as LocalEngineCore's. */
  private prompt(loaded: LoadedWasmModel, input: PromptInput, options: RequestOptions, request: GenerateRequest): { promptTokens: number[]; written?: string; stopTokens: readonly number[]; truncated?: Partial<GenerationResult> } {
    const { tokenizer, info } = loaded;
    const budget = promptBudget(info.contextLength, request.maxTokens);
    if ('messages' in input) {
      const chat = this.chatSetup(loaded);
      const texts = new WeakMap<number[], string>();
      const encode = (messages: ChatMessage[]) => {
        const text = chat.template.render(messages, { addGenerationPrompt: true, tools: options.tools });
        const ids = encodeChatPrompt(tokenizer, text);
        texts.set(ids, text);
        return ids;
      };
      const fitted = request.truncation === 'disabled' ? { prompt: encode(input.messages), truncatedMessages: undefined } : fitChat(input.messages, encode, budget);
      const truncated = fitted.truncatedMessages === undefined ? undefined : { truncatedMessages: fitted.truncatedMessages };
      return { promptTokens: fitted.prompt, written: texts.get(fitted.prompt), stopTokens: chat.stopTokens, truncated };
    }
    const tokens = 'text' in input ? tokenizer.encode(input.text, { addBos: request.addBos }) : checkedIds(input.tokens, tokenizer.vocabSize);
    const written = 'text' in input ? input.text : undefined;
    if (request.truncation === 'disabled') return { promptTokens: tokens, written, stopTokens: tokenizer.eosIds };
    const { prompt, truncatedTokens } = fitTokens(tokens, budget, tokenizer.bosId);
    return { promptTokens: prompt, written: truncatedTokens === 0 ? written : undefined, stopTokens: tokenizer.eosIds, truncated: { truncatedTokens } };
  }

  cancel(id: number): void {
    this.queue.cancel(id);
  }

  async applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions): Promise<string> {
    return this.chatSetup(this.ready()).template.render(messages, options);
  }

  async tokenize(text: string, addBos?: boolean): Promise<number[]> {
    return this.ready().tokenizer.encode(text, { addBos });
  }

  async tokenizerSource(): Promise<TokenizerSource> {
    return this.ready().tokenizer.source;
  }

  tokenizer(): Tokenizer {
    return this.ready().tokenizer;
  }

  async embed(): Promise<EmbedResult> {
    throw new UnsupportedError('embeddings are not available on the WebAssembly backend yet; load with backend \'webgpu\'');
  }

  async logits(): Promise<Float32Array> {
    throw new UnsupportedError('engine.logits is not available on the WebAssembly backend (llama.cpp\'s server loop does not return logits); load with backend \'webgpu\'');
  }

  async detokenize(ids: number[]): Promise<string> {
    return this.ready().tokenizer.decode(ids, { skipSpecial: true });
  }

  /** llama.cpp compares each prompt with its cached tokens itself: nothing is kept that could go stale. */
  async resetContext(): Promise<void> {}

  unload(): Promise<void> {
    return this.queue.enqueue(undefined, () => this.release());
  }

  async dispose(): Promise<void> {
    this.loadController?.abort();
    await this.queue.drain();
    await this.release();
  }

  private async release(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    await loaded?.wllama.exit();
  }

  private chatSetup(loaded: LoadedWasmModel): { template: ChatTemplate; stopTokens: number[] } {
    if (!loaded.chat) {
      const { info, tokenizer } = loaded;
      if (!info.chatTemplate) {
        throw new InvalidRequestError(`${info.name} has no chat template (no 'tokenizer.chat_template' in the file): it is a base model, which continues text rather than answering messages. Use generate() with a plain prompt, or load an instruction-tuned model.`);
      }
      const text = (id: number | undefined) => (id === undefined ? undefined : tokenizer.tokenText(id));
      const template = new ChatTemplate(info.chatTemplate, { bosToken: text(tokenizer.bosId), eosToken: text(tokenizer.eosIds[0]) });
      loaded.chat = { template, stopTokens: chatStopTokens(tokenizer, template) };
    }
    return loaded.chat;
  }

  private ready(): LoadedWasmModel {
    if (!this.loaded) throw new InvalidRequestError('no model is loaded (it failed to load, or was unloaded or disposed); call engine.reload() or create a new engine');
    return this.loaded;
  }
}

/** Load options that only the WebGPU backend has: refused by name rather than ignored. */
function checkLoadOptions(options: CoreLoadOptions): void {
  if (options.contextLength !== undefined && !(Number.isInteger(options.contextLength) && options.contextLength > 0)) {
    throw new InvalidRequestError(`contextLength must be a positive integer, got ${options.contextLength}`);
  }
  if (options.precision !== undefined && options.precision !== 'auto') throw new UnsupportedError(`precision '${options.precision}' is a WebGPU option; the WebAssembly backend computes as llama.cpp's CPU build does. Leave precision out, or use backend 'webgpu'.`);
  if (options.kvCache === 'f32') throw new UnsupportedError("kvCache 'f32' is a WebGPU option; the WebAssembly backend keeps llama.cpp's f16 cache. Leave kvCache out, or use backend 'webgpu'.");
  if (options.quantize !== undefined) throw new UnsupportedError('quantize (at load) is a WebGPU option; on the WebAssembly backend load a GGUF quantized ahead (llama-quantize), or use backend \'webgpu\'.');
  if (options.embeddings) throw new UnsupportedError('embeddings are not available on the WebAssembly backend yet; load with backend \'webgpu\'');
}

function weightTypeOf(file: ModelFile): string {
  const t = file.tensorsByName.get('blk.0.attn_q.weight') ?? file.tensorsByName.get('blk.0.attn_qkv.weight') ?? file.tensors[0];
  return t ? ggmlTypeName(t.type) : 'unknown';
}

/** llama.cpp's CPU arithmetic: f32 and f16 weights against activations of their own type, quantized ones against q8 activations. */
function cpuPrecision(weightType: string): ModelInfo['precision'] {
  return weightType === 'F32' ? 'f32' : weightType === 'F16' || weightType === 'BF16' ? 'f16' : 'q8';
}
