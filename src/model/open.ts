// A model source opened for loading or inspection, whatever its format: a GGUF file (one ByteSource) or a
// Hugging Face safetensors repo (config.json, tokenizer files, one or more .safetensors). Either way the
// result is a ModelFile in GGUF terms, a tokenizer and the chat template; only headers are read here.
import type { ModelSource } from '../engine/types';
import { InvalidRequestError } from '../errors';
import type { ByteSource } from '../io/byte-source';
import type { ModelFetchOptions } from '../io/fetch-options';
import { fetchOptionsOf } from '../io/fetch-options';
import { locateModel } from '../io/file-set';
import type { ModelLocation } from '../io/model-location';
import type { ProgressCallback } from '../io/progress';
import { tokenizerFromGGUF, type Tokenizer } from '../tokenizer';
import { tokenizerFromHF } from '../tokenizer/hf';
import type { ModelConfig } from './config';
import { readModelConfig, type ReadConfigOptions } from './read-config';
import { readGGUF } from './gguf';
import { getOptionalString } from './gguf-metadata';
import type { openHFRepo } from './hf/repo';
import type { ModelFile } from './model-file';
import type { LoadQuantization } from './quantize';

export interface OpenModelOptions extends ModelFetchOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Quantize float weight matrices to this type as they are read (see quantizeModelFile). */
  quantize?: LoadQuantization;
}

export interface OpenedModel {
  format: 'gguf' | 'safetensors';
  /** File path, URL, directory or base URL: for messages and progress events. */
  name: string;
  /** `general.name`, the repo's name, or the file name. */
  displayName: string;
  file: ModelFile;
  tokenizer: Tokenizer;
  chatTemplate: string | undefined;
  /** Bytes of the model file(s) (weights; for a repo, its safetensors files). */
  fileBytes: number;
  /** True when the caller should report 'upload' progress over all weights itself (one GGUF not streamed by Range requests). */
  reportUpload: boolean;
  /** Sources that report their own progress send their last event (the weights are all read). */
  endProgress(): void;
  /** The ModelConfig (readModelConfig plus what config.json says that GGUF keys cannot). */
  readConfig(options?: ReadConfigOptions): ModelConfig;
  close(): Promise<void>;
}

const LOAD_QUANTIZATIONS: readonly LoadQuantization[] = ['q8_0', 'q4_0'];

export async function openModel(model: ModelSource, options: OpenModelOptions = {}): Promise<OpenedModel> {
  if (options.quantize !== undefined && !LOAD_QUANTIZATIONS.includes(options.quantize)) {
    throw new InvalidRequestError(`quantize must be one of ${LOAD_QUANTIZATIONS.join(', ')}, got ${JSON.stringify(options.quantize)}`);
  }
  return openLocatedModel(await locateModel(model, { onProgress: options.onProgress, signal: options.signal, ...fetchOptionsOf(options) }), options);
}

/** openModel for a source already located (the CLI reads a GGUF's header on its own). */
export function openLocatedModel(location: ModelLocation, options: OpenModelOptions = {}): Promise<OpenedModel> {
  return location.kind === 'gguf' ? openGGUFModel(location.parts ?? [location.source], options) : openRepoModel(location.files, options);
}

/** One GGUF, or the parts of a split GGUF as one. */
async function openGGUFModel(parts: ByteSource[], options: OpenModelOptions): Promise<OpenedModel> {
  // Split GGUFs are rare: their reader loads when one turns up.
  const split = parts.length > 1 ? await import('./gguf-split') : undefined;
  const source = split ? new split.ConcatSource(parts) : parts[0]!;
  try {
    const gguf = split ? await split.readGGUFParts(parts) : await readGGUF(source);
    const file = options.quantize ? await quantized(gguf, options.quantize) : gguf;
    return {
      format: 'gguf',
      name: source.name,
      displayName: getOptionalString(gguf, 'general.name') ?? baseName(source.name),
      file,
      tokenizer: tokenizerFromGGUF(gguf.metadata),
      chatTemplate: getOptionalString(gguf, 'tokenizer.chat_template'),
      fileBytes: source.size,
      reportUpload: !source.reportsProgress,
      endProgress: () => source.endProgress?.(),
      readConfig: (o) => readModelConfig(file, o),
      close: async () => { await source.close?.(); },
    };
  } catch (e) {
    await source.close?.();
    throw e;
  }
}

async function openRepoModel(files: Parameters<typeof openHFRepo>[0], options: OpenModelOptions): Promise<OpenedModel> {
  // Safetensors repos and load-time quantization are the less common paths: their code (Hugging Face configs,
  // safetensors, the quantizer) loads when one is asked for, not with every page that embeds the chat.
  const { openHFRepo } = await import('./hf/repo');
  const repo = await openHFRepo(files, { onProgress: options.onProgress });
  try {
    const file = options.quantize ? await quantized(repo.file, options.quantize) : repo.file;
    const embd = file.tensorsByName.get('token_embd.weight');
    const tokenizer = tokenizerFromHF({
      name: repo.name, tokenizerJSON: repo.tokenizerJSON, tokenizerConfig: repo.tokenizerConfig,
      generationConfig: repo.generationConfig, modelConfig: repo.config.hparams, vocabSize: embd?.dims[1],
    });
    return {
      format: 'safetensors',
      name: repo.name,
      displayName: getOptionalString(file, 'general.name') ?? repoName(repo.name),
      file,
      tokenizer,
      chatTemplate: repo.chatTemplate,
      fileBytes: repo.fileBytes,
      reportUpload: false, // the repo reports per safetensors file
      endProgress: repo.endProgress,
      readConfig: (o) => {
        const config = readModelConfig(file, o);
        return repo.config.attentionScale === undefined ? config : { ...config, attentionScale: repo.config.attentionScale };
      },
      close: repo.close,
    };
  } catch (e) {
    await repo.close();
    throw e;
  }
}

async function quantized(file: ModelFile, type: LoadQuantization): Promise<ModelFile> {
  const { quantizeModelFile } = await import('./quantize');
  return quantizeModelFile(file, type);
}

function baseName(name: string): string {
  return name.split(/[\\/]/).pop() || name;
}

/** 'org/model' from https://huggingface.co/org/model/resolve/main, else the directory's name. */
function repoName(name: string): string {
  const hub = /\/([^/]+\/[^/]+)\/resolve\/[^/]+\/?$/.exec(name);
  return hub ? hub[1]! : baseName(name.replace(/[\\/]+$/, ''));
}
