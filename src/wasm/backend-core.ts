// The core the worker exposes: picks the backend at each load (src/wasm/choose-backend.ts) and hands every
// call to that backend's core: LocalEngineCore on WebGPU, WllamaEngineCore (imported only when taken) on
// llama.cpp's WebAssembly build.
import { abortError, InvalidRequestError } from '../errors';
import { LocalEngineCore, type CoreLoadOptions, type EngineCore, type PromptInput } from '../engine/worker/core';
import type { EmbedOptions, EmbedResult } from '../engine/embedding-types';
import type { RequestOptions } from '../engine/options';
import type { GenerationResult, ModelInfo, ModelSource } from '../engine/types';
import type { ChunkCallback } from '../engine/worker/session';
import type { ProgressCallback } from '../io/progress';
import type { Tokenizer, TokenizerSource } from '../tokenizer';
import type { ChatMessage, ChatTemplateOptions } from '../tokenizer/chat-template';
import { checkBackendOption, type Backend } from './backend-option';
import { chooseBackend, probeEnvironment } from './choose-backend';

type BackendEngineCore = EngineCore & { tokenizer(): Tokenizer };

export class BackendCore implements EngineCore {
  private core?: BackendEngineCore;
  private backend?: Backend;
  /** Loads one after another; dispose() waits for the one in flight. */
  private loading: Promise<unknown> = Promise.resolve();
  /** Set by abortLoad() and dispose() while a load has not reached its core yet (it is still choosing a backend). */
  private stopLoad?: 'abort' | 'dispose';

  load(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback): Promise<ModelInfo> {
    const run = this.loading.then(() => this.loadOn(model, options, onProgress));
    this.loading = run.catch(() => undefined);
    return run;
  }

  private async loadOn(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback): Promise<ModelInfo> {
    if (this.stopLoad === 'dispose') throw abortError('The engine was disposed.');
    this.stopLoad = undefined;
    const option = checkBackendOption(options.backend);
    let choice = chooseBackend(option, option === 'webgpu' ? { hasWebGPU: true, adapter: null, canRunWasm: false } : await probeEnvironment());
    const wasm = choice.backend === 'wasm' ? await import('./wllama-core') : undefined;
    if (wasm && !wasm.WASM_BACKEND_BUILT && option === 'auto') choice = { backend: 'webgpu', reason: 'the WebAssembly backend is not in this build' };
    if (this.stopLoad) throw abortError(this.stopLoad === 'dispose' ? 'The engine was disposed.' : 'Model loading was aborted.');
    if (this.core && this.backend !== choice.backend) {
      const previous = this.core;
      this.core = undefined;
      await previous.dispose();
    }
    if (!this.core) {
      this.core = choice.backend === 'wasm' ? new wasm!.WllamaEngineCore(choice.reason) : new LocalEngineCore();
      this.backend = choice.backend;
    }
    const info = await this.core.load(model, options, onProgress);
    return { ...info, backend: choice.backend, backendReason: choice.reason };
  }

  abortLoad(): void {
    this.stopLoad ??= 'abort';
    this.core?.abortLoad();
  }
  run(id: number, input: PromptInput, options: RequestOptions, onChunk: ChunkCallback): Promise<GenerationResult> {
    return this.loaded().run(id, input, options, onChunk);
  }
  cancel(id: number): void { this.core?.cancel(id); }
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions): Promise<string> { return this.loaded().applyChatTemplate(messages, options); }
  tokenize(text: string, addBos?: boolean): Promise<number[]> { return this.loaded().tokenize(text, addBos); }
  tokenizerSource(): Promise<TokenizerSource> { return this.loaded().tokenizerSource(); }
  /** The loaded model's tokenizer itself (same thread: no copy needed). */
  tokenizer(): Tokenizer { return this.loaded().tokenizer(); }
  embed(inputs: (string | number[])[], options: EmbedOptions): Promise<EmbedResult> { return this.loaded().embed(inputs, options); }
  logits(tokens: number[]): Promise<Float32Array> { return this.loaded().logits(tokens); }
  detokenize(ids: number[]): Promise<string> { return this.loaded().detokenize(ids); }
  resetContext(): Promise<void> { return this.loaded().resetContext(); }
  async unload(): Promise<void> { await this.core?.unload(); }
  async dispose(): Promise<void> {
    this.stopLoad = 'dispose';
    this.core?.abortLoad();
    await this.loading;
    await this.core?.dispose();
  }

  private loaded(): BackendEngineCore {
    if (!this.core) throw new InvalidRequestError('no model is loaded (it failed to load, or was unloaded or disposed); call engine.reload() or create a new engine');
    return this.core;
  }
}
