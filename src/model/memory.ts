// How much GPU memory a model will take, from its config and tensor table alone (no GPU, no tensor
// data): what `hearth inspect` reports and what a page can check against the adapter's limits before
// downloading gigabytes. The weights' buffers follow the layer description (layer.ts, projectionLayouts) and the
// activations' are the list TransformerModel.create allocates (activationBuffers).
import type { ModelConfig } from './config';
import type { ModelFile, ModelTensorInfo } from './model-file';
import { headArgmaxParts, reductionParts } from '../gpu/kernels';
import { PREFILL_BATCH } from '../gpu/profile';
import type { KvCacheType, ModelPrecision } from '../gpu/shaders';
import { weightDTypeForGGML } from '../gpu/quant-types';
import { alignedBufferBytes, gpuWeightDType } from '../gpu/aligned-weights';
import { layerTensors, type ProjectionField } from './layer';

/** KV cache positions when the caller does not say: enough for a chat, small enough for any device. */
export const DEFAULT_CONTEXT_LENGTH = 2048;

/** Bytes of one element of the KV cache of each type. */
const KV_CACHE_ELEMENT_BYTES: Record<KvCacheType, number> = { f32: 4, f16: 2 };

/** Bytes of one layer's K cache (or its V cache): [contextLength, kvHeads, headDim] elements of `kvCache`. */
export function kvCacheLayerBytes(config: ModelConfig, contextLength: number, kvCache: KvCacheType): number {
  return KV_CACHE_ELEMENT_BYTES[kvCache] * contextLength * config.headCountKv * config.headDim;
}

/** WebGPU's default maxStorageBufferBindingSize, which every adapter supports. */
export const DEFAULT_BINDING_LIMIT = 128 * 1024 * 1024;

/**
 * Tokens one forward pass of this model can run: PREFILL_BATCH, fewer (a multiple of 4) when a batch's
 * attention scores [tokens, heads, ctx] would not fit one binding of `bindingLimit` bytes (capped at the
 * default limit, so the answer, and the memory it implies, is the same on every device), or 1 — the
 * prompt prefilled token by token — when some matrix row length is not a multiple of 4 (matmul.wgsl
 * reads activations as vec4s) or not even 4 tokens fit. `wanted`: tokens asked for instead of PREFILL_BATCH
 * (an embedding model's pass, which holds whole inputs).
 */
export function prefillBatch(config: ModelConfig, contextLength: number, bindingLimit = DEFAULT_BINDING_LIMIT, wanted = PREFILL_BATCH): number {
  const { embeddingLength: dim, feedForwardLength: ffn, headCount, headDim } = config;
  if (![dim, headCount * headDim, ffn].every((n) => n % 4 === 0)) return 1;
  const bytesPerToken = 4 * Math.max(headCount * contextLength, dim, headCount * headDim, ffn);
  const fit = Math.floor(Math.min(bindingLimit, DEFAULT_BINDING_LIMIT) / bytesPerToken);
  const batch = Math.min(wanted - (wanted % 4), fit - (fit % 4));
  return batch >= 4 ? batch : 1;
}

/** How the loader lays out the projections of one input (a layer's q/k/v, or its FFN's gate/up) on the GPU. */
export interface ProjectionLayout {
  /** The tensors read, in row order: the file's one fused tensor, or one per projection. */
  tensors: ModelTensorInfo[];
  /** Rows of each projection: [q, k, v], [gate, up], or [up] for an ungated FFN. */
  rows: number[];
  /**
   * The GPU matrices, as the number of projections each holds in row order: [3] one [q; k; v] (one dispatch, the
   * products' main_qkv; [2] a [gate; up], main_glu), [2, 1] a [q; k] stack and v alone (on the GPU profile still one
   * dispatch: main_qkv_mixed), [1, 1, 1] one matrix each.
   * Each run of projections of one ggml type is stacked when every part but its last is a whole number of 4-byte
   * words (they are written at word offsets) and the stack fits one binding of `bindingLimit` (capped at the
   * default limit, so the layout and its bytes are the same on every device); a file's fused tensor stays whole
   * when it fits. A gated FFN with gate or up biases is not stacked (its stack activates before a bias could be
   * added).
   */
  stacks: number[];
}

/** Each matrix's projections, of a layout's `stacks`: projections [first, end) in row order. */
export function stackRanges(stacks: readonly number[]): { first: number; end: number }[] {
  let end = 0;
  return stacks.map((n) => ({ first: end, end: (end += n) }));
}

/** The layouts of layer l's attention input projections (q, k, v) and FFN input projections (gate and up, or up). */
export function projectionLayouts(file: Pick<ModelFile, 'tensorsByName'>, c: ModelConfig, l: number, bindingLimit = DEFAULT_BINDING_LIMIT): Record<ProjectionField, ProjectionLayout> {
  const limit = Math.min(bindingLimit, DEFAULT_BINDING_LIMIT);
  const fits = (run: ModelTensorInfo[]) => run.slice(0, -1).every((t) => t.byteLength % 4 === 0) && run.reduce((sum, t) => sum + t.byteLength, 0) <= limit;
  const layout = (field: ProjectionField, stackable: boolean): ProjectionLayout => {
    const described = layerTensors(c).filter((t) => t.field === field);
    const tensors = described.map((t) => file.tensorsByName.get(`blk.${l}.${t.name}.weight`)!); // presence checked by checkModelTensors
    const rows = described.flatMap((t) => t.rows(c));
    const separate = rows.map(() => 1);
    if (tensors.length === 1) return { tensors, rows, stacks: stackable && fits(tensors) ? [rows.length] : separate };
    const stacks: number[] = [];
    for (let start = 0; start < tensors.length;) {
      let end = start + 1;
      while (end < tensors.length && tensors[end]!.type === tensors[start]!.type) end++;
      const run = tensors.slice(start, end);
      stacks.push(...(stackable && fits(run) ? [run.length] : run.map(() => 1)));
      start = end;
    }
    return { tensors, rows, stacks };
  };
  const gateBiased = c.biases.includes('ffn_gate') || c.biases.includes('ffn_up');
  return { qkv: layout('qkv', true), ffnIn: layout('ffnIn', !gateBiased) };
}

/**
 * Positions one attention workgroup covers (split-K, flash-decoding): a context longer than this is cut into
 * chunks attended by separate workgroups whose partial results attention-combine.wgsl merges, so a long
 * context is spread over more workgroups than there are heads. Shorter contexts run unsplit.
 */
export const ATTENTION_CHUNK = 1024;

/** Chunks the context is attended in (1: unsplit) and the bytes of their partials, [B, heads, splits, headDim + 4] f32. */
export function attentionSplits(config: ModelConfig, contextLength: number, batch: number): { splits: number; partialBytes: number } {
  const splits = Math.ceil(contextLength / ATTENTION_CHUNK);
  return { splits, partialBytes: splits > 1 ? 4 * batch * config.headCount * splits * (config.headDim + 4) : 0 };
}

/**
 * Flash-decoding (attention-decode.wgsl, the GPU profile's 'flash'): a step cuts its context into at most this
 * many chunks of at least FLASH_MIN_CHUNK positions each (common/decode-split.wgsl), so its grid is fixed at load.
 */
const FLASH_MAX_SPLITS = 32;
export const FLASH_MIN_CHUNK = 64;
/** Largest head the flash kernels take (a workgroup's 128 lanes across its vec4s); larger heads run attention.wgsl. */
export const FLASH_MAX_HEAD_DIM = 512;

/** Flash-decoding's most chunks per head for a context (the y of its grid) and the bytes of their partials, [heads, splits, headDim + 4] f32. */
export function flashDecodeSplits(config: ModelConfig, contextLength: number): { maxSplits: number; partialBytes: number } {
  const maxSplits = Math.min(FLASH_MAX_SPLITS, Math.ceil(contextLength / FLASH_MIN_CHUNK));
  return { maxSplits, partialBytes: 4 * config.headCount * maxSplits * (config.headDim + 4) };
}

/**
 * Flash attention's tiles for prefill (attention-prefill.wgsl): tokens per workgroup (at most 16, and a thread owns
 * at most two (token, vec4) outputs of its 128) and key positions per step (at most 32), both tiles in 768 vec4s
 * of workgroup memory with rows padded by one vec4 (under WebGPU's default 16 KiB with the rest).
 */
export function flashPrefillTiles(headDim: number): { qTile: number; kTile: number } {
  const stride = headDim / 4 + 1;
  const qTile = Math.max(1, Math.min(16, 2 ** Math.floor(Math.log2(256 / (stride - 1)))));
  return { qTile, kTile: Math.min(32, Math.floor((768 - qTile * stride) / stride)) };
}

/** Bytes of one block of 32 activations quantized to 8 bits (quantize-q8.wgsl: scale, Σq, 32 quants). */
const Q8_BLOCK_BYTES = 40;

/** Precision 'q8': the scratch that holds a batch of any product's input quantized, [B, max cols / 32] blocks. */
export function q8ScratchBytes(config: ModelConfig, batch: number): number {
  const cols = Math.max(config.embeddingLength, config.headCount * config.headDim, config.feedForwardLength);
  return batch * Math.ceil(cols / 32) * Q8_BLOCK_BYTES;
}

/** What the forward pass's activation buffers depend on beyond the config. */
export interface ActivationPlan {
  contextLength: number;
  /** Tokens one pass runs (prefillBatch). */
  batch: number;
  /** Embeddings: several sequences packed in a pass (their ranges in `seqs`, the hidden states read back), no decoding. */
  packed: boolean;
  /** Some gated FFN's gate and up are not stacked, so its up product has a buffer of its own. */
  separateUp: boolean;
  /** Precision 'q8': the quantized-activation scratch. */
  q8: boolean;
}

/** The activation buffers' names (TransformerModel's Activations). */
export type ActivationName = 'step' | 'token' | 'x' | 'xb' | 'xb2' | 'q' | 'k' | 'v' | 'att' | 'scores' | 'hb' | 'logits'
  | 'tokenReadback' | 'tokenReadback2' | 'logitsReadback' | 'seqs' | 'hiddenReadback' | 'qRaw' | 'kRaw' | 'partials' | 'hbUp' | 'xq'
  | 'argmaxParts';

/** 'storage': read and written by kernels; 'uniform': the step's position; 'input': written by the CPU; 'readback': mapped by it. */
type ActivationUsage = 'storage' | 'uniform' | 'input' | 'readback';

interface ActivationBuffer { name: ActivationName; label: string; bytes: number; usage: ActivationUsage }

/**
 * Every activation buffer of the forward pass, in allocation order: what TransformerModel.create allocates and
 * estimateGpuMemory counts. Activations hold `batch` tokens; a decode step uses the first row of each.
 */
export function activationBuffers(config: ModelConfig, plan: ActivationPlan): ActivationBuffer[] {
  const { embeddingLength: dim, feedForwardLength: ffn, headCount, headDim, vocabSize } = config;
  const { batch: B, contextLength, packed } = plan;
  const qDim = headCount * headDim, kvDim = config.headCountKv * headDim;
  const f32 = (name: ActivationName, label: string, n: number): ActivationBuffer => ({ name, label, bytes: 4 * n, usage: 'storage' });
  const buffers: ActivationBuffer[] = [
    { name: 'step', label: 'step', bytes: 16, usage: 'uniform' }, // { pos: u32 } of the first token
    { name: 'token', label: 'token', bytes: 4 * B, usage: 'storage' }, // [B] u32: input tokens, then the argmax output in [0]
    f32('x', 'x', B * dim), // residual stream [B, dim]
    f32('xb', 'xb', B * dim), // normed input of a sub-block, or its post-normed output [B, dim]
    f32('xb2', 'xb2', B * dim), // sub-block output before the residual add [B, dim]
    f32('q', 'q', B * qDim), // [B, nHeads, headDim]
    f32('k', 'k', B * kvDim), // [B, nKvHeads, headDim], copied into the cache at pos
    f32('v', 'v', B * kvDim),
    f32('att', 'att', B * qDim), // attention output [B, nHeads, headDim]
    f32('scores', 'scores', B * headCount * contextLength), // [B, nHeads, ctx] softmax scratch
    f32('hb', 'hb', B * ffn), // FFN hidden [B, ffn]: gate (or up), then the activation
    f32('logits', 'logits', vocabSize), // [vocab] (of one token: the head runs on decode steps only)
    // Two: a pipelined decode maps one step's id while the next step copies its own into the other.
    { name: 'tokenReadback', label: 'token readback', bytes: 4, usage: 'readback' },
    { name: 'tokenReadback2', label: 'token readback 2', bytes: 4, usage: 'readback' },
    { name: 'logitsReadback', label: 'logits readback', bytes: 4 * vocabSize, usage: 'readback' },
    // The wide argmax's per-workgroup (max, index) pairs, as many as the head's main_argmax writes (more than
    // argmax.wgsl's partials pass), allocated whichever argmax the profile runs.
    { name: 'argmaxParts', label: 'argmax partials', bytes: 8 * Math.max(reductionParts(vocabSize), headArgmaxParts(vocabSize)), usage: 'storage' },
  ];
  if (packed) {
    buffers.push({ name: 'seqs', label: 'sequences', bytes: 16 * B, usage: 'input' }); // per token (position, first, end, 0)
    buffers.push({ name: 'hiddenReadback', label: 'hidden readback', bytes: 4 * B * dim, usage: 'readback' });
  }
  // Projections before a per-head q/k norm, which cannot norm in place (its input is read by all threads).
  if (config.qkNorm) buffers.push(f32('qRaw', 'q before norm', B * qDim), f32('kRaw', 'k before norm', B * kvDim));
  // Attention partials: split-K's [B, nHeads, splits, headDim + 4] or flash-decoding's [nHeads, maxSplits,
  // headDim + 4], whichever is larger, allocated whatever this device runs, so the GPU bytes are the same everywhere.
  const split = attentionSplits(config, contextLength, B);
  const partialBytes = Math.max(split.splits > 1 ? split.partialBytes : 0, flashDecodeSplits(config, contextLength).partialBytes);
  if (!packed) buffers.push({ name: 'partials', label: 'attention partials', bytes: partialBytes, usage: 'storage' });
  if (plan.separateUp) buffers.push(f32('hbUp', 'hb up', B * ffn));
  // The input of the q4_0/q8_0 products quantized to 8 bits [B, cols / 32 blocks], rewritten before each product.
  if (plan.q8) buffers.push({ name: 'xq', label: 'activations q8', bytes: q8ScratchBytes(config, B), usage: 'storage' });
  return buffers;
}

export interface GpuMemoryEstimate {
  /** Every tensor of the file as stored (quantized blocks stay quantized); 1-D tensors (norms, biases) as f32. */
  weights: number;
  /** Keys and values of every layer for `contextLength` positions: 2 · layers · ctx · kvHeads · headDim · (4 for f32, 2 for f16). */
  kvCache: number;
  /** Scratch for a prefill batch of tokens (residual stream, q/k/v, attention scores over the context, FFN hidden), logits, rope tables, readbacks. */
  activations: number;
  total: number;
  /** The KV cache positions the estimate is for. */
  contextLength: number;
}

/** The size a buffer of `bytes` really gets: at least 16 bytes, rounded up to 16 (BufferPool does this). */
export function gpuBufferSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

/**
 * Whether a layout holds q, k and v in two matrices (of two types): then the loader makes the first matrix's bias
 * over all three projections, so that one product (main_qkv_mixed) can run both matrices.
 */
export function qkvInTwoMatrices(layout: Pick<ProjectionLayout, 'stacks' | 'rows'>): boolean {
  return layout.stacks.length === 2 && layout.rows.length === 3;
}

/** Bytes qkvInTwoMatrices's bias over all three projections adds to the biases as counted per tensor. */
function mixedQkvBiasBytes(qkv: ProjectionLayout, file: Pick<ModelFile, 'tensorsByName'>): number {
  if (!qkvInTwoMatrices(qkv)) return 0;
  const biased = qkv.tensors.map((t) => file.tensorsByName.has(t.name.replace(/\.weight$/, '.bias')));
  if (!biased.some(Boolean)) return 0;
  const firstParts = qkv.rows.slice(0, qkv.stacks[0]).filter((_, j) => biased[j]);
  return gpuBufferSize(4 * qkv.rows.reduce((a, b) => a + b, 0)) - firstParts.reduce((sum, rows) => sum + gpuBufferSize(4 * rows), 0);
}

/** What a load chose that its GPU memory depends on. */
export interface GpuMemoryOptions {
  /** The loader's option of that name, which can shrink the prefill batch (prefillBatch). */
  bindingLimit?: number;
  /** The loader's choice ('q8' adds the quantized-activation scratch). */
  precision?: ModelPrecision;
  /** Loaded for embeddings (LoadModelOptions.embeddings; always for an encoder): passes of a whole context, no split-K partials. */
  embeddings?: boolean;
  /** The tokens a prefill pass asks for, the profile's prefillBatch (default PREFILL_BATCH). */
  prefillTokens?: number;
  /** The cache's element type (the loader's choice, default 'f32'). */
  kvCache?: KvCacheType;
  /** The profile's alignedWeights: Q4_0, Q8_0 and Q6_K matrices hold whole groups (alignedBufferBytes). */
  alignedWeights?: boolean;
}

export function estimateGpuMemory(config: ModelConfig, tensors: readonly ModelTensorInfo[], contextLength: number,
  { bindingLimit, precision, embeddings = config.encoder !== undefined, prefillTokens = PREFILL_BATCH, kvCache = 'f32', alignedWeights = false }: GpuMemoryOptions = {}): GpuMemoryEstimate {
  // A matrix buffer of `bytes` bytes of the file's `type`, as the loader makes it.
  const matrixBuffer = (type: number, bytes: number) => {
    const dtype = weightDTypeForGGML(type);
    return gpuBufferSize(dtype ? alignedBufferBytes(gpuWeightDType(dtype, alignedWeights), bytes) : bytes);
  };
  let weights = tensors.reduce((sum, t) => {
    if (t.name === 'token_types.weight') return sum + gpuBufferSize(4 * config.embeddingLength); // row 0 only
    const elements = t.dims.reduce((a, b) => a * b, 1);
    const isVector = t.dims.filter((d) => d > 1).length <= 1;
    return sum + (isVector ? gpuBufferSize(4 * elements) : matrixBuffer(t.type, t.byteLength));
  }, 0);
  // Input projections stacked into one buffer, or a file's fused tensor split into one per projection.
  const file = { tensorsByName: new Map(tensors.map((t) => [t.name, t])) };
  let separateUp = false; // some gated FFN whose up product has its own output
  for (let l = 0; l < config.blockCount; l++) {
    const { qkv, ffnIn: ffn } = projectionLayouts(file, config, l, bindingLimit);
    for (const p of [qkv, ffn]) {
      const bytes = p.tensors.reduce((sum, t) => sum + t.byteLength, 0);
      const asStored = p.tensors.reduce((sum, t) => sum + matrixBuffer(t.type, t.byteLength), 0);
      const rowBytes = bytes / p.rows.reduce((a, b) => a + b, 0);
      // Each projection's bytes: its tensor's, or its rows of the file's fused tensor.
      const projection = p.tensors.length === p.rows.length ? p.tensors.map((t) => t.byteLength) : p.rows.map((rows) => rows * rowBytes);
      const asLoaded = stackRanges(p.stacks).reduce((sum, { first, end }) => sum + matrixBuffer((p.tensors[first] ?? p.tensors[0]!).type, projection.slice(first, end).reduce((a, b) => a + b, 0)), 0);
      weights += asLoaded - asStored;
    }
    if (ffn.stacks.length > 1) separateUp = true;
    weights += mixedQkvBiasBytes(qkv, file);
  }

  const kvCacheBytes = 2 * config.blockCount * gpuBufferSize(kvCacheLayerBytes(config, contextLength, kvCache));

  // One cos/sin table [ctx, ropeDim/2, 2] per distinct rope (Gemma 3's windowed layers have their own).
  const ropeDims = new Map<string, number>();
  for (const rope of [config.rope, config.slidingWindow?.rope]) if (rope) ropeDims.set(JSON.stringify(rope), rope.dim);
  const ropeTables = [...ropeDims.values()].reduce((sum, ropeDim) => sum + gpuBufferSize(4 * contextLength * ropeDim), 0);
  const batch = prefillBatch(config, contextLength, bindingLimit, embeddings ? contextLength : prefillTokens);
  const plan = { contextLength, batch, packed: embeddings, separateUp, q8: precision === 'q8' };
  const activations = activationBuffers(config, plan).reduce((sum, b) => sum + gpuBufferSize(b.bytes), 0) + ropeTables;

  return { weights, kvCache: kvCacheBytes, activations, total: weights + kvCacheBytes + activations, contextLength };
}
