// The engine's working half: owns the GPU device, the loaded model and the decode loop.
// It runs inside the Web Worker (src/worker.ts exposes it) or, in Node, on the calling thread.
import { InvalidRequestError } from '../errors';
import { acquireDevice, type AcquiredDevice } from '../gpu/device';
import type { ProgressCallback } from '../io/progress';
import { loadModel, type LoadedModel } from '../model/load';
import { Session, type GenerateRequest } from './session';
import type { GenerationResult, ModelInfo, ModelSource, TokenChunk } from './types';

export interface CoreLoadOptions { contextLength?: number }

/** Callback-based so it crosses a comlink boundary; the page wraps it into streams (engine.ts). */
export interface EngineCore {
  load(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<ModelInfo>;
  generate(prompt: string, request: GenerateRequest, onChunk: (chunk: TokenChunk) => void): Promise<GenerationResult>;
  cancel(): void;
  tokenize(text: string, addBos?: boolean): Promise<number[]>;
  detokenize(ids: number[]): Promise<string>;
  resetContext(): Promise<void>;
  dispose(): Promise<void>;
}

export class LocalEngineCore implements EngineCore {
  private gpu?: AcquiredDevice;
  private loaded?: LoadedModel;
  private session?: Session;

  async load(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<ModelInfo> {
    if (options.contextLength !== undefined && !(Number.isInteger(options.contextLength) && options.contextLength > 0)) {
      throw new InvalidRequestError(`contextLength must be a positive integer, got ${options.contextLength}`);
    }
    await this.dispose();
    this.gpu = await acquireDevice();
    this.loaded = await loadModel(this.gpu, model, { onProgress, signal, contextLength: options.contextLength });
    this.session = new Session(this.loaded);
    return this.loaded.info;
  }

  generate(prompt: string, request: GenerateRequest, onChunk: (chunk: TokenChunk) => void): Promise<GenerationResult> {
    return this.ready().session!.generate(prompt, request, onChunk);
  }

  cancel(): void {
    this.session?.cancel();
  }

  async tokenize(text: string, addBos = true): Promise<number[]> {
    return this.ready().loaded!.tokenizer.encode(text, { addBos });
  }

  async detokenize(ids: number[]): Promise<string> {
    return this.ready().loaded!.tokenizer.decode(ids, { skipSpecial: true });
  }

  async resetContext(): Promise<void> {
    this.session?.reset();
  }

  async dispose(): Promise<void> {
    this.session?.cancel();
    this.loaded?.destroy();
    this.gpu?.device.destroy();
    this.session = undefined;
    this.loaded = undefined;
    this.gpu = undefined;
  }

  private ready(): this {
    if (!this.session) throw new InvalidRequestError('no model is loaded (it failed to load, or the engine was disposed); create a new engine');
    return this;
  }
}
