// From a model source to a runnable model: open (a GGUF or a safetensors repo, src/model/open.ts) → config →
// tokenizer → weights on the GPU → pipelines.
import { abortError, ResourceError } from '../errors';
import { BufferPool } from '../gpu/buffers';
import type { AcquiredDevice } from '../gpu/device';
import { chooseKvCache, chooseProfile, choosePrecision, profileReport, type KvCacheOption, type PrecisionOption, type ProfileOption } from '../gpu/profile';
import { ProgressReporter, type ProgressCallback } from '../io/progress';
import type { Tokenizer } from '../tokenizer';
import type { ModelInfo, ModelSource } from '../engine/types';
import type { ModelConfig } from './config';
import { ggmlTypeName } from './ggml-types';
import { openModel, type OpenedModel } from './open';
import { modelHasQ8Matrices } from './tensors';
import type { LoadQuantization } from './quantize';
import { TransformerModel } from './transformer';
import { HeldBytes, heldBytesBound, uploadWeights } from './weights';
import { fetchOptionsOf, type ModelFetchOptions } from '../io/fetch-options';

import { DEFAULT_CONTEXT_LENGTH } from './memory';

export { DEFAULT_CONTEXT_LENGTH };

/** Default longest input of an embedding model, in tokens (BERT's own limit; OpenAI's models take 8192). */
const EMBEDDING_CONTEXT_LENGTH = 512;

export interface LoadedModel {
  config: ModelConfig;
  tokenizer: Tokenizer;
  model: TransformerModel;
  info: ModelInfo;
  /** Tensor bytes the loader held in JS at most while uploading, and the bound it stays under (HeldBytes). */
  loadStats: { peakHeldBytes: number; heldBytesBound: number };
  /** Frees every GPU buffer of the model. */
  destroy(): void;
}

export interface LoadModelOptions extends ModelFetchOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  contextLength?: number;
  /** Bind weight matrices in row blocks of at most this many bytes (default: the device's limit). */
  bindingLimit?: number;
  /**
   * The kernel variants and defaults (src/gpu/profile.ts): 'auto' (default) the adapter's profile, 'gpu' or
   * 'software' on any adapter, or some kernel choices overridden ({ fuseNorm: true }, { base: 'gpu', matvec: 'rows' }).
   */
  profile?: ProfileOption;
  /** Quantize float weight matrices at load (LoadOptions.quantize). */
  quantize?: LoadQuantization;
  /**
   * Load for embeddings (TransformerModel.hidden): inputs packed in passes of up to the context length in tokens,
   * each attending within itself. Always on for an encoder (BERT), which cannot decode; default off otherwise.
   * The context length then defaults to min(EMBEDDING_CONTEXT_LENGTH, the model's): the longest input.
   */
  embeddings?: boolean;
  /** Arithmetic of the weight kernels (LoadOptions.precision); 'auto' (default): the profile's, for the model's weights. */
  precision?: PrecisionOption;
  /** The KV cache's element type (LoadOptions.kvCache); 'auto' (default): the profile's. */
  kvCache?: KvCacheOption;
}

export async function loadModel(gpu: AcquiredDevice, model: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const { onProgress, signal } = options;
  // Before any download: a bad request fails at once.
  const profile = chooseProfile(gpu.adapter, options.profile);
  choosePrecision(options.precision, gpu.adapter, profile);
  chooseKvCache(options.kvCache, gpu.adapter, profile);
  const opened = await openModel(model, { onProgress, signal, quantize: options.quantize, ...fetchOptionsOf(options) });
  try {
    return await loadFromSource(gpu, opened, options);
  } finally {
    // Everything the model needs is on the GPU now (or loading failed): let go of the files.
    await opened.close();
  }
}

async function loadFromSource(gpu: AcquiredDevice, source: OpenedModel, options: LoadModelOptions): Promise<LoadedModel> {
  const { onProgress, signal } = options;
  const checkAbort = () => { if (signal?.aborted) throw abortError('Model loading was aborted.'); };
  checkAbort();

  const { file, tokenizer } = source;
  const config = source.readConfig();
  const profile = chooseProfile(gpu.adapter, options.profile);
  const precision = choosePrecision(options.precision, gpu.adapter, profile, modelHasQ8Matrices(file, config)); // 'auto' depends on the weights
  const kvCache = chooseKvCache(options.kvCache, gpu.adapter, profile);
  const embeddings = options.embeddings === true || config.encoder !== undefined;
  const contextLength = Math.min(options.contextLength ?? (embeddings ? EMBEDDING_CONTEXT_LENGTH : DEFAULT_CONTEXT_LENGTH), config.contextLength);
  checkAbort();

  const { device } = gpu;
  const pool = new BufferPool(device);
  device.pushErrorScope('out-of-memory');
  try {
    const weightBytes = file.tensors.reduce((s, t) => s + t.byteLength, 0);
    // Tensors read by Range requests go straight to the GPU: the source's 'download' events already
    // tell that story, and interleaving 'upload' events would make a progress bar jump between phases.
    const upload = new ProgressReporter(source.reportUpload ? onProgress : undefined, source.name, weightBytes, 'upload');
    const held = new HeldBytes();
    const weights = await uploadWeights(file, config, pool, (loaded) => { checkAbort(); upload.report(loaded); }, { held, bindingLimit: options.bindingLimit, alignedWeights: profile.alignedWeights });
    source.endProgress();
    onProgress?.({ file: source.name, loaded: 0, total: 0, rate: 0, phase: 'compile' });
    const transformer = await TransformerModel.create(device, config, weights, pool, contextLength, {
      bindingLimit: options.bindingLimit,
      precision,
      kvCache,
      attention: profile.attention,
      fuseNorm: profile.fuseNorm,
      matvec: profile.matvec,
      laneSteps: profile.laneSteps,
      matmul: profile.matmul,
      wideSampling: profile.sampling === 'wide',
      prefillBatch: profile.prefillBatch,
      throughput: profile.throughput,
      embeddings: embeddings ? { batch: contextLength } : undefined,
    });
    const oom = await device.popErrorScope();
    if (oom) throw new ResourceError(`The GPU ran out of memory loading ${source.name} (${oom.message}). Close other GPU-heavy tabs, or use a smaller model or a shorter context.`);
    onProgress?.({ file: source.name, loaded: 1, total: 1, rate: 0, phase: 'ready' });
    const info: ModelInfo = {
      name: source.displayName,
      architecture: config.architecture,
      contextLength,
      vocabSize: config.vocabSize,
      chatTemplate: source.chatTemplate,
      weightType: ggmlTypeName((file.tensorsByName.get('blk.0.attn_q.weight') ?? file.tensorsByName.get('blk.0.attn_qkv.weight')!).type),
      gpuBytes: pool.bytes,
      precision,
      kvCache,
      adapter: gpu.adapter.name,
      profile: profileReport(profile),
      backend: 'webgpu',
      backendReason: 'loaded on WebGPU (loadModel)', // createEngine's choice replaces it (src/wasm/backend-core.ts)
    };
    const loadStats = { peakHeldBytes: held.peak, heldBytesBound: heldBytesBound(file) };
    return { config, tokenizer, model: transformer, info, loadStats, destroy: () => pool.destroy() };
  } catch (e) {
    await device.popErrorScope().catch(() => {});
    pool.destroy();
    throw e;
  }
}

