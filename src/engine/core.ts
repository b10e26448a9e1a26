// The engine's working half: owns the GPU device, the loaded model and the decode loop.
// It runs inside the Web Worker (src/worker.ts exposes it) or, in Node, on the calling thread.
import { InvalidRequestError } from '../errors';
import { acquireDevice, type AcquiredDevice, type PrecisionOption } from '../gpu/device';
import type { ProgressCallback } from '../io/progress';
import { loadModel, type LoadedModel } from '../model/load';
import type { LoadQuantization } from '../model/quantize';
import { ChatTemplate, chatStopTokens, encodeChatPrompt, type ChatMessage, type ChatTemplateOptions } from '../tokenizer/chat-template';
import type { Tokenizer } from '../tokenizer';
import { Session, type GenerateRequest } from './session';
import type { GenerationResult, ModelInfo, ModelSource, TokenChunk } from './types';

export interface CoreLoadOptions { contextLength?: number; precision?: PrecisionOption; quantize?: LoadQuantization }

/** Callback-based so it crosses a comlink boundary; the page wraps it into streams (engine.ts). */
export interface EngineCore {
  load(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<ModelInfo>;
  generate(prompt: string, request: GenerateRequest, onChunk: (chunk: TokenChunk) => void): Promise<GenerationResult>;
  /** Renders `messages` with the chat template and generates the assistant's turn. */
  chat(messages: ChatMessage[], request: GenerateRequest, onChunk: (chunk: TokenChunk) => void): Promise<GenerationResult>;
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions): Promise<string>;
  cancel(): void;
  tokenize(text: string, addBos?: boolean): Promise<number[]>;
  /** Next-token logits [vocabSize] after `tokens` (Session.logits). */
  logits(tokens: number[]): Promise<Float32Array>;
  detokenize(ids: number[]): Promise<string>;
  resetContext(): Promise<void>;
  dispose(): Promise<void>;
}

export class LocalEngineCore implements EngineCore {
  private gpu?: AcquiredDevice;
  private loaded?: LoadedModel;
  private session?: Session;
  /** Built on first use: parsing the template and finding its stop tokens scans the vocabulary. */
  private chatSetup?: { template: ChatTemplate; stopTokens: number[] };

  async load(model: ModelSource, options: CoreLoadOptions, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<ModelInfo> {
    if (options.contextLength !== undefined && !(Number.isInteger(options.contextLength) && options.contextLength > 0)) {
      throw new InvalidRequestError(`contextLength must be a positive integer, got ${options.contextLength}`);
    }
    await this.dispose();
    this.gpu = await acquireDevice();
    this.loaded = await loadModel(this.gpu, model, { onProgress, signal, contextLength: options.contextLength, precision: options.precision, quantize: options.quantize });
    this.session = new Session(this.loaded);
    this.chatSetup = undefined;
    return this.loaded.info;
  }

  generate(prompt: string, request: GenerateRequest, onChunk: (chunk: TokenChunk) => void): Promise<GenerationResult> {
    return this.ready().session!.generate(prompt, request, onChunk);
  }

  async chat(messages: ChatMessage[], request: GenerateRequest, onChunk: (chunk: TokenChunk) => void): Promise<GenerationResult> {
    const { template, stopTokens } = this.chatTemplate();
    const prompt = encodeChatPrompt(this.loaded!.tokenizer, template.render(messages, { addGenerationPrompt: true }));
    return this.session!.generate(prompt, request, onChunk, stopTokens);
  }

  async applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions): Promise<string> {
    return this.chatTemplate().template.render(messages, options);
  }

  cancel(): void {
    this.session?.cancel();
  }

  async tokenize(text: string, addBos = true): Promise<number[]> {
    return this.ready().loaded!.tokenizer.encode(text, { addBos });
  }

  logits(tokens: number[]): Promise<Float32Array> {
    return this.ready().session!.logits(tokens);
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

  private chatTemplate(): { template: ChatTemplate; stopTokens: number[] } {
    const { info, tokenizer } = this.ready().loaded!;
    if (!this.chatSetup) {
      if (!info.chatTemplate) {
        throw new InvalidRequestError(`${info.name} has no chat template (no 'tokenizer.chat_template' in the file): it is a base model, which continues text rather than answering messages. Use generate() with a plain prompt, or load an instruction-tuned model.`);
      }
      const template = new ChatTemplate(info.chatTemplate, templateTokens(tokenizer));
      this.chatSetup = { template, stopTokens: chatStopTokens(tokenizer, template) };
    }
    return this.chatSetup;
  }

  private ready(): this {
    if (!this.session) throw new InvalidRequestError('no model is loaded (it failed to load, or the engine was disposed); create a new engine');
    return this;
  }
}

/** The bos_token / eos_token texts a template refers to. */
function templateTokens(tokenizer: Tokenizer): { bosToken?: string; eosToken?: string } {
  const text = (id: number | undefined) => (id === undefined ? undefined : tokenizer.tokenText(id));
  // eosIds lists EOS first when the vocabulary has one.
  return { bosToken: text(tokenizer.bosId), eosToken: text(tokenizer.eosIds[0]) };
}
