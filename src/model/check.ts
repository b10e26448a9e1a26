// Pre-flight: can this device run a model? Answered from the model's header alone (the GGUF header by Range
// requests, or config.json and the safetensors headers of a repo) and the WebGPU adapter's features and limits,
// before any large download: architecture and tensor types Hearth supports, GPU memory for weights + KV cache
// at the chosen context (estimateGpuMemory, exactly what the loader allocates), every buffer within the
// adapter's limits, the precision and KV cache type asked for, and room in the model cache for what is not downloaded yet.
import { backendToCheck, wasmFileReasons } from '../wasm/check-backend';
import { DownloadError, HearthError, InvalidRequestError } from '../errors';
import { formatBytes } from '../gpu/buffers';
import { probeAdapter } from '../gpu/device';
import { chooseKvCache, chooseProfile, choosePrecision, type AdapterProfile, type AdapterTraits, type KvCacheOption, type PrecisionOption, type ProfileName } from '../gpu/profile';
import { supportedWeightTypes, weightDTypeForGGML } from '../gpu/quant-types';
import type { KvCacheType, ModelPrecision } from '../gpu/shaders';
import { fetchOptionsOf, type ModelFetchOptions } from '../io/fetch-options';
import { locateModel } from '../io/file-set';
import { hubDownloadNeeds } from '../io/hub';
import { parseModelId } from '../io/model-id';
import type { ModelConfig } from './config';
import { ggmlTypeName } from './ggml-types';
import { readGGUFParts } from './gguf-split';
import { openHFRepo } from './hf/repo';
import { DEFAULT_CONTEXT_LENGTH, estimateGpuMemory, gpuBufferSize, kvCacheLayerBytes, prefillBatch, type GpuMemoryEstimate } from './memory';
import type { ModelFile, ModelTensorInfo } from './model-file';
import { quantizeModelFile, type LoadQuantization } from './quantize';
import { readModelConfig } from './read-config';
import { getOptionalString } from './gguf-metadata';
import { modelHasQ8Matrices, modelTensorShapes } from './tensors';

export interface CheckModelOptions extends ModelFetchOptions {
  /** KV cache positions to plan for (as createEngine's contextLength; default min(trained context, 2048)). */
  contextLength?: number;
  precision?: PrecisionOption;
  /** The KV cache's element type (as createEngine's kvCache; default 'auto'). */
  kvCache?: KvCacheOption;
  quantize?: LoadQuantization;
  /**
   * GPU memory the model may use on this device, when the caller knows it (WebGPU does not tell): the model
   * must fit in it. Without it only the adapter's per-buffer limits are checked.
   */
  gpuMemoryBudget?: number;
  /** The backend to judge for, as createEngine's (default 'auto'): on 'wasm' memory and file sizes, not GPU limits. */
  backend?: 'auto' | 'webgpu' | 'wasm';
  signal?: AbortSignal;
}

export interface ModelCheck {
  /** True when nothing stands in the way of loading the model on this device. */
  ok: boolean;
  /** Why it cannot run, each with what to do instead; empty when ok. */
  reasons: string[];
  name: string;
  architecture: string;
  format: 'gguf' | 'safetensors';
  /** Positions the estimate is for. */
  contextLength: number;
  /** GPU memory loading would take; null when the model cannot be read that far (see reasons). */
  gpuMemory: GpuMemoryEstimate | null;
  /** The largest single GPU buffer the model needs, against the adapter's maxBufferSize. */
  largestBuffer: number;
  /** Bytes of the model's files, and how many of them are not in the model cache yet. */
  fileBytes: number;
  downloadBytes: number;
  /** The adapter's description and what it allows; null without WebGPU. */
  adapter: AdapterCheck | null;
  /** The backend createEngine would take (options.backend); on 'wasm', gpuMemory estimates main memory. */
  backend: 'webgpu' | 'wasm';
}

export interface AdapterCheck {
  /** Its description. */
  adapter: string;
  hasShaderF16: boolean;
  /** WGSL's dot4I8Packed (precision 'q8'); undefined where the implementation does not say. */
  packedIntegerDot?: boolean;
  /** The adapter profile Hearth would load with (src/gpu/profile.ts). */
  profile: ProfileName;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  /** What the requested precision resolves to; null where the adapter cannot do it. */
  precision: ModelPrecision | null;
}

function adapterCheck(traits: AdapterTraits, profile: AdapterProfile, precision: ModelPrecision | null): AdapterCheck {
  const { name, shaderF16, packedIntegerDot, limits } = traits;
  return { adapter: name, hasShaderF16: shaderF16, packedIntegerDot, profile: profile.name, maxBufferSize: limits.maxBufferSize, maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, precision };
}

/**
 * Whether this device can run `model` (a hub id, URL, or path as createEngine takes it), with reasons when it
 * cannot. Reads only headers: nothing large is downloaded and no GPU device is created. A model that does not
 * exist or cannot be fetched is an error (DownloadError, InvalidRequestError), not a reason.
 */
export async function checkModel(model: string | URL, options: CheckModelOptions = {}): Promise<ModelCheck> {
  if (options.contextLength !== undefined && !(Number.isInteger(options.contextLength) && options.contextLength > 0)) {
    throw new InvalidRequestError(`contextLength must be a positive integer, got ${options.contextLength}`);
  }
  const text = model instanceof URL ? model.href : model;
  const fetch = fetchOptionsOf(options);
  const reasons: string[] = [];
  const backend = await backendToCheck(options.backend);
  const probe = backend === 'wasm' ? null : await probeAdapter();
  const profile = probe ? chooseProfile(probe) : null;
  let precision = probe ? orReason(() => choosePrecision(options.precision, probe, profile!), reasons) : null; // 'auto' refined below once the weights are known
  // llama.cpp's WebAssembly build keeps an f16 cache; an adapter that cannot give the one asked for is a reason.
  const kvCache: KvCacheType | null = probe ? orReason(() => chooseKvCache(options.kvCache, probe, profile!), reasons) : backend === 'wasm' ? 'f16' : null;
  // On 'wasm' (llama.cpp's WebAssembly build) no adapter is needed: wasmFileReasons below.
  if (!probe && backend === 'webgpu') reasons.push('WebGPU is not available here (no adapter): use Chrome or Edge 113+ (on Linux with --enable-unsafe-webgpu), over https or localhost.');

  // Storage first: a hub model that cannot be stored is refused before its header is even read.
  const id = /^(https?|file):/i.test(text) ? undefined : parseModelId(text);
  let download: { bytes: number; missing: number; storageProblem?: string } | undefined;
  if (id && !(await isLocalPath(text))) {
    download = await hubDownloadNeeds(id, { ...fetch, signal: options.signal });
    if (download.storageProblem) reasons.push(download.storageProblem);
  }

  const location = await locateModel(text, { ...fetch, signal: options.signal, headerOnly: true });
  let opened: Header;
  try {
    opened = await readHeader(location, options.quantize);
  } catch (e) {
    if (!(e instanceof HearthError) || e instanceof DownloadError || e instanceof InvalidRequestError) throw e;
    return { ...emptyCheck(text, reasons, probe && adapterCheck(probe, profile!, precision)), backend, reasons: [...reasons, e.message] };
  }
  try {
    const { file } = opened;
    let config: ModelConfig | undefined;
    try {
      config = opened.readConfig();
    } catch (e) {
      if (!(e instanceof HearthError)) throw e;
      reasons.push(e.message);
    }
    const architecture = String(file.metadata.get('general.architecture') ?? 'unknown');
    const contextLength = config ? Math.min(options.contextLength ?? DEFAULT_CONTEXT_LENGTH, config.contextLength) : 0;
    let gpuMemory: GpuMemoryEstimate | null = null;
    let largestBuffer = 0;
    if (config) {
      const used = [...modelTensorShapes(config).keys()].map((name) => file.tensorsByName.get(name)!);
      for (const t of used) {
        const isMatrix = t.dims.filter((d) => d > 1).length >= 2;
        if (isMatrix && !weightDTypeForGGML(t.type)) {
          reasons.push(`tensor ${t.name} is ${ggmlTypeName(t.type)}, which Hearth cannot run; supported weight types: ${supportedWeightTypes().join(', ')}. Pick a GGUF quantized to one of those (Q4_K_M is a good default).`);
          break;
        }
      }
      if (probe && precision) precision = choosePrecision(options.precision, probe, profile!, modelHasQ8Matrices(file, config));
      gpuMemory = estimateGpuMemory(config, file.tensors, contextLength, { precision: precision ?? undefined, prefillTokens: profile?.prefillBatch, kvCache: kvCache ?? undefined, alignedWeights: profile?.alignedWeights });
      largestBuffer = fitReasons(config, file, used, contextLength, gpuMemory, probe, options.gpuMemoryBudget, reasons, backend, profile?.prefillBatch, kvCache ?? undefined);
    }
    if (backend === 'wasm') reasons.push(...wasmFileReasons(opened.format, location.kind === 'gguf' ? location.parts ?? [location.source] : []));
    return {
      backend,
      ok: reasons.length === 0, reasons, name: opened.displayName, architecture, format: opened.format, contextLength,
      gpuMemory, largestBuffer, fileBytes: download?.bytes ?? opened.fileBytes, downloadBytes: download?.missing ?? opened.fileBytes,
      adapter: probe && adapterCheck(probe, profile!, precision),
    };
  } finally {
    await opened.close();
  }
}

/** What a request resolves to on the adapter (`choose`); null, with the reason, where the adapter cannot do it. */
function orReason<T>(choose: () => T, reasons: string[]): T | null {
  try {
    return choose();
  } catch (e) {
    if (!(e instanceof HearthError) || e instanceof InvalidRequestError) throw e;
    reasons.push(e.message);
    return null;
  }
}

/** Why the largest weight buffer or scratch binding exceeds the adapter's limits, if either does. */
function limitProblems(traits: AdapterTraits, biggest: { name: string; bytes: number }, scratch: { name: string; bytes: number }, contextLength: number): string[] {
  const problems: string[] = [];
  const { maxBufferSize, maxStorageBufferBindingSize } = traits.limits;
  if (biggest.bytes > maxBufferSize) {
    problems.push(`${biggest.name} needs a ${formatBytes(biggest.bytes)} GPU buffer, but ${traits.name} allows at most ${formatBytes(maxBufferSize)} per buffer; pick a smaller or more quantized model.`);
  }
  if (scratch.bytes > maxStorageBufferBindingSize) {
    const table = scratch.name.startsWith('position');
    problems.push(`the ${scratch.name}${table ? '' : ` for ${contextLength} positions`} needs ${formatBytes(scratch.bytes)} in one GPU binding, but ${traits.name} binds at most ${formatBytes(maxStorageBufferBindingSize)}; ${table ? 'pick a model trained on a shorter context' : 'use a shorter contextLength'}.`);
  }
  return problems;
}

interface Header {
  format: 'gguf' | 'safetensors';
  displayName: string;
  file: ModelFile;
  fileBytes: number;
  readConfig(): ModelConfig;
  close(): Promise<void>;
}

/** What a model's header says, without building its tokenizer (openModel's work minus what a check needs not). */
async function readHeader(location: Awaited<ReturnType<typeof locateModel>>, quantize: LoadQuantization | undefined): Promise<Header> {
  const q = (file: ModelFile) => (quantize ? quantizeModelFile(file, quantize) : file);
  if (location.kind === 'repo') {
    const repo = await openHFRepo(location.files);
    const file = q(repo.file);
    const name = /\/([^/]+\/[^/]+)\/resolve\/[^/]+$/.exec(repo.name)?.[1] ?? repo.name;
    return { format: 'safetensors', displayName: name, file, fileBytes: repo.fileBytes, readConfig: () => readModelConfig(file), close: repo.close };
  }
  const parts = location.parts ?? [location.source];
  try {
    const gguf = await readGGUFParts(parts);
    const file = q(gguf);
    const size = parts.reduce((sum, p) => sum + p.size, 0);
    return {
      format: 'gguf', displayName: getOptionalString(gguf, 'general.name') ?? location.source.name.split('/').pop()!, file, fileBytes: size,
      readConfig: () => readModelConfig(file), close: async () => { await Promise.all(parts.map((p) => p.close?.())); },
    };
  } catch (e) {
    await Promise.all(parts.map((p) => p.close?.()));
    throw e;
  }
}

/**
 * Adds to `reasons` what keeps this device from holding the model: a buffer larger than the adapter allows, a scratch
 * buffer that does not fit one binding, more GPU memory than the budget. Returns the largest buffer's bytes.
 */
function fitReasons(config: ModelConfig, file: ModelFile, used: ModelTensorInfo[], contextLength: number, gpuMemory: GpuMemoryEstimate,
  probe: AdapterTraits | null, budget: number | undefined, reasons: string[], backend: 'webgpu' | 'wasm', prefillTokens?: number, kvCache: KvCacheType = 'f32'): number {
  const weightBuffers = used.map((t) => ({ name: t.name, bytes: gpuBufferSize(t.dims.filter((d) => d > 1).length <= 1 ? 4 * t.dims.reduce((a, b) => a * b, 1) : t.byteLength) }));
  const biggest = weightBuffers.reduce((a, b) => (b.bytes > a.bytes ? b : a), { name: '', bytes: 0 });
  const positions = file.tensorsByName.get('position_embd.weight');
  const scratch = largestScratchBuffer(config, contextLength, positions ? gpuBufferSize(positions.byteLength) : 0, prefillTokens, kvCache);
  if (probe) reasons.push(...limitProblems(probe, biggest, scratch, contextLength));
  if (budget !== undefined && gpuMemory.total > budget) {
    reasons.push(`it needs ${formatBytes(gpuMemory.total)} of ${backend === 'wasm' ? 'memory' : 'GPU memory'} (weights ${formatBytes(gpuMemory.weights)} + KV cache ${formatBytes(gpuMemory.kvCache)} for ${contextLength} positions + ${formatBytes(gpuMemory.activations)} scratch), more than the ${formatBytes(budget)} available; pick a smaller or more quantized model or a shorter context.`);
  }
  return Math.max(biggest.bytes, scratch.bytes);
}

/** The largest buffer bound whole (no row-block split): KV cache of a layer, attention scores, logits, FFN hidden, the learned position table. */
function largestScratchBuffer(config: ModelConfig, contextLength: number, positionTable: number, prefillTokens: number | undefined, kvCache: KvCacheType): { name: string; bytes: number } {
  const { embeddingLength: dim, feedForwardLength: ffn, headCount, vocabSize } = config;
  const B = prefillBatch(config, contextLength, undefined, prefillTokens);
  const candidates = [
    { name: 'KV cache of one layer', bytes: kvCacheLayerBytes(config, contextLength, kvCache) },
    { name: 'attention scores', bytes: 4 * B * headCount * contextLength },
    { name: 'FFN activations', bytes: 4 * B * Math.max(ffn, dim) },
    { name: 'logits', bytes: 4 * vocabSize },
    { name: 'position table (position_embd.weight)', bytes: positionTable },
  ];
  return candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

function emptyCheck(name: string, reasons: string[], adapter: AdapterCheck | null): Omit<ModelCheck, 'backend'> {
  return {
    ok: false, reasons, name, architecture: 'unknown', format: 'gguf', contextLength: 0, gpuMemory: null, largestBuffer: 0,
    fileBytes: 0, downloadBytes: 0, adapter,
  };
}

async function isLocalPath(text: string): Promise<boolean> {
  if (typeof process === 'undefined' || !process.versions?.node || typeof window !== 'undefined') return false;
  const fsModule = 'node:fs/promises';
  const { stat } = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises');
  return stat(text).then(() => true, () => false);
}
