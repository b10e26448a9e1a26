// Reading a model's weights out of a GGUF file into GPU buffers, once, at load. Matrices go up as the
// file stores them, quantized blocks included (the kernels' dtype preambles dequantize in registers).
// The projections of one input — a layer's q, k and v, its FFN's gate and up — go up stacked by rows in one
// matrix when they share a type (projectionLayouts), so one dispatch runs them; a file's own fused tensor
// (Phi-3's and GPT-2's attn_qkv, Phi-3's gate-up) stays as it is then, and is split by rows otherwise.
import { FormatError, UnsupportedError } from '../errors';
import type { BufferPool } from '../gpu/buffers';
import { supportedWeightTypes, weightDTypeForGGML, type WeightDType } from '../gpu/quant-types';
import { GGMLType, ggmlTypeName, tensorByteLength } from './ggml-types';
import type { ModelFile, ModelTensorInfo } from './model-file';
import type { BiasedTensor, ModelConfig } from './config';
import { halfsToFloats } from './f16';
import { projectionLayouts, type ProjectionLayout } from './memory';

/** A weight matrix [rows, cols] row-major (GGUF ne0 = cols), stored in `dtype` as the file has it. */
export interface Matrix { buffer: GPUBuffer; dtype: WeightDType; rows: number; cols: number }

/** y = W x (+ b): a matrix and, when the model has one, its f32 bias [rows]. */
export interface Linear { weight: Matrix; bias: GPUBuffer | null }

/** Norm weight [n] f32 and, for layer norm, its bias [n]. */
export interface Norm { weight: GPUBuffer; bias: GPUBuffer | null }

/** Projections of one input: [q; k; v], a gated FFN's [gate; up], or an ungated FFN's [up]. */
export interface Projections {
  /** One matrix of every projection's rows, stacked (one product dispatch), or one matrix per projection. */
  matrices: Matrix[];
  /** Rows of each projection, in order. */
  rows: number[];
  /** Each projection's f32 bias [rows], or null. */
  biases: (GPUBuffer | null)[];
}

export interface LayerWeights {
  /** Pre-norm of the attention input; for an encoder, the LayerNorm after its residual add (attn_output_norm). */
  attnNorm: Norm; // [dim]
  qkv: Projections; // q [nHeads*headDim, dim], k and v [nKvHeads*headDim, dim]
  qNorm: GPUBuffer | null; // [headDim], shared by every head
  kNorm: GPUBuffer | null; // [headDim]
  o: Linear; // [dim, nHeads*headDim]
  attnPostNorm: Norm | null; // [dim]
  /** Pre-norm of the FFN input; for an encoder, the LayerNorm after its residual add (layer_output_norm). */
  ffnNorm: Norm; // [dim]
  ffnIn: Projections; // gate and up [ffn, dim] each, or up alone for a plain (ungated) MLP
  down: Linear; // [dim, ffn]
  ffnPostNorm: Norm | null; // [dim]
}

export interface ModelWeights {
  tokenEmbedding: Matrix; // [vocab, dim]
  positionEmbedding: Matrix | null; // [ctxTrain, dim]
  /** Rope frequency factor tensors [ropeDim/2] by name, on the host: they only shape the rope tables. */
  ropeFactors: Map<string, Float32Array>;
  layers: LayerWeights[];
  /** An encoder's input: token_types row 0 [dim] f32 (null when the file has none) and token_embd_norm. */
  encoderInput: { tokenType: GPUBuffer | null; norm: Norm } | null;
  outputNorm: Norm | null; // [dim]; null for an encoder
  output: Linear; // [vocab, dim]; the embedding table itself when tied
}

/** Bytes of one piece of a tensor streamed to the GPU (a multiple of 4, as writeBuffer needs). */
export const UPLOAD_CHUNK_BYTES = 16 * 1024 * 1024;
/** After this many bytes written, wait for the queue so the driver can recycle its staging memory. */
const FLUSH_BYTES = 256 * 1024 * 1024;

/**
 * Bytes of tensor data the loader holds in JS between reading them and handing them to the GPU (writeBuffer
 * copies), and the most it held at once. Matrices stored as they are stream in UPLOAD_CHUNK_BYTES pieces; a
 * tensor converted at load (F16 vectors to f32, quantize-at-load, a safetensors transform) is held whole,
 * with its converted copy.
 */
export class HeldBytes {
  current = 0;
  peak = 0;
  hold(n: number): void { this.current += n; this.peak = Math.max(this.peak, this.current); }
  release(n: number): void { this.current -= n; }
}

/** The most HeldBytes can reach for this file: 3 × the larger of a chunk and the largest tensor read whole. */
export function heldBytesBound(file: ModelFile): number {
  let whole = 0;
  for (const t of file.tensors) if (!file.tensorReader?.(t)) whole = Math.max(whole, t.byteLength);
  return 3 * Math.max(UPLOAD_CHUNK_BYTES, whole);
}

export async function uploadWeights(
  file: ModelFile,
  config: ModelConfig,
  pool: BufferPool,
  onTensor: (loadedBytes: number) => void,
  held = new HeldBytes(),
  /** The loader's bindingLimit option: stacks larger than it (or the default limit) stay separate. */
  bindingLimit?: number,
): Promise<ModelWeights> {
  let loaded = 0;
  let unflushed = 0;
  /** A whole tensor's bytes, counted as held until the caller releases them. */
  const bytesOf = async (t: ModelTensorInfo) => {
    const bytes = await file.readTensor(t);
    held.hold(bytes.byteLength);
    loaded += t.byteLength;
    onTensor(loaded);
    return bytes;
  };
  const matrixBuffer = (label: string, bytes: number) => pool.create(label, bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, { splittable: true });
  /** Streams bytes [start, end) of a tensor into `buffer` from byte `offset` (a multiple of 4), one chunk at a time. */
  const streamInto = async (buffer: GPUBuffer, offset: number, read: (offset: number, length: number) => Promise<Uint8Array>, start: number, end: number): Promise<GPUBuffer> => {
    for (let at = start; at < end; at += UPLOAD_CHUNK_BYTES) {
      const length = Math.min(UPLOAD_CHUNK_BYTES, end - at);
      const chunk = await read(at, length);
      held.hold(chunk.byteLength);
      pool.device.queue.writeBuffer(buffer, offset + at - start, padded4(chunk) as Uint8Array<ArrayBuffer>);
      held.release(chunk.byteLength);
      loaded += length;
      onTensor(loaded);
      if ((unflushed += length) >= FLUSH_BYTES) {
        unflushed = 0;
        await pool.device.queue.onSubmittedWorkDone();
      }
    }
    return buffer;
  };
  const tensor = (name: string) => file.tensorsByName.get(name)!; // presence and shape checked by readModelConfig
  const biases = new Set<BiasedTensor>(config.biases);

  const dtypeOf = (t: ModelTensorInfo): WeightDType => {
    const dtype = weightDTypeForGGML(t.type);
    if (!dtype) {
      throw new UnsupportedError(`tensor ${t.name} is ${ggmlTypeName(t.type)}, which Hearth cannot read yet; supported weight types: ${supportedWeightTypes().join(', ')}. Use a GGUF quantized to one of those.`);
    }
    return dtype;
  };
  /** Splits a [Σrows, cols] tensor into consecutive row blocks, one GPU matrix each; streamed when the file allows. */
  const matrices = async (name: string, cols: number, rowCounts: number[]): Promise<Matrix[]> => {
    const t = tensor(name);
    const dtype = dtypeOf(t);
    const rowBytes = tensorByteLength(t.type, [cols]);
    const label = (i: number) => (rowCounts.length === 1 ? name : `${name} [part ${i}]`);
    const read = file.tensorReader?.(t);
    const out: Matrix[] = [];
    let start = 0;
    if (read) {
      for (const [i, rows] of rowCounts.entries()) {
        const [from, to] = [start * rowBytes, (start + rows) * rowBytes];
        out.push({ buffer: await streamInto(matrixBuffer(label(i), to - from), 0, read, from, to), dtype, rows, cols });
        start += rows;
      }
      return out;
    }
    const bytes = await bytesOf(t);
    for (const [i, rows] of rowCounts.entries()) {
      const part = bytes.subarray(start * rowBytes, (start + rows) * rowBytes);
      start += rows;
      out.push({ buffer: pool.createWith(label(i), part, GPUBufferUsage.STORAGE, { splittable: true }), dtype, rows, cols });
    }
    held.release(bytes.byteLength);
    return out;
  };
  const matrix = async (name: string, rows: number, cols: number) => (await matrices(name, cols, [rows]))[0]!;
  /** Several tensors of one type [rows_i, cols] stacked by rows in one GPU matrix (each but the last whole words). */
  const stackedMatrix = async (label: string, tensors: ModelTensorInfo[], cols: number): Promise<Matrix> => {
    const buffer = matrixBuffer(label, tensors.reduce((sum, t) => sum + t.byteLength, 0));
    let offset = 0;
    for (const t of tensors) {
      const read = file.tensorReader?.(t);
      if (read) {
        await streamInto(buffer, offset, read, 0, t.byteLength);
      } else {
        const bytes = await bytesOf(t);
        pool.device.queue.writeBuffer(buffer, offset, padded4(bytes) as Uint8Array<ArrayBuffer>);
        held.release(bytes.byteLength);
      }
      offset += t.byteLength;
    }
    const rows = tensors.reduce((sum, t) => sum + t.dims[1]!, 0);
    return { buffer, dtype: dtypeOf(tensors[0]!), rows, cols };
  };
  /** A vector as f32 (held until the caller releases its byteLength). */
  const floats = async (name: string): Promise<Float32Array> => {
    const t = tensor(name);
    const bytes = await bytesOf(t);
    let values: Float32Array;
    // An own, aligned copy of exactly these bytes (a Node Buffer's slice() would share the whole file's memory).
    if (t.type === GGMLType.F32) values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    else if (t.type === GGMLType.F16) values = halfsToFloats(bytes);
    else throw new UnsupportedError(`tensor ${name} is ${ggmlTypeName(t.type)}; norm weights, biases and rope factors must be F32 or F16.`);
    held.hold(values.byteLength);
    held.release(bytes.byteLength);
    return values;
  };
  const vector = async (name: string) => {
    const values = await floats(name);
    const buffer = pool.createWith(name, values);
    held.release(values.byteLength);
    return buffer;
  };
  /** Bias vectors of `name` split like its matrix; nulls when the model has no such bias. */
  const biasParts = async (name: string, prefix: string, rowCounts: number[]): Promise<(GPUBuffer | null)[]> => {
    if (!biases.has(name as BiasedTensor)) return rowCounts.map(() => null);
    const all = await floats(`${prefix}${name}.bias`);
    let start = 0;
    const parts = rowCounts.map((rows, i) => {
      const part = all.subarray(start, (start += rows));
      return pool.createWith(rowCounts.length === 1 ? `${prefix}${name}.bias` : `${prefix}${name}.bias [part ${i}]`, part);
    });
    held.release(all.byteLength);
    return parts;
  };
  const linear = async (prefix: string, name: BiasedTensor, rows: number, cols: number): Promise<Linear> =>
    ({ weight: await matrix(`${prefix}${name}.weight`, rows, cols), bias: (await biasParts(name, prefix, [rows]))[0]! });
  /** The projections of one input as `layout` says: stacked in one matrix, or one each (a fused tensor split by rows). */
  const projections = async (prefix: string, layout: ProjectionLayout, cols: number): Promise<Projections> => {
    const { tensors, rows, stacked } = layout;
    const names = tensors.map((t) => t.name.slice(prefix.length, -'.weight'.length) as BiasedTensor);
    // One tensor at a time, as everywhere here: the bytes held at once stay within heldBytesBound.
    const biases: (GPUBuffer | null)[] = [];
    if (names.length === 1) biases.push(...await biasParts(names[0]!, prefix, rows));
    else for (const [i, n] of names.entries()) biases.push(...await biasParts(n, prefix, [rows[i]!]));
    if (stacked && tensors.length > 1) return { matrices: [await stackedMatrix(`${prefix}${names.join('+')}.weight`, tensors, cols)], rows, biases };
    if (tensors.length === 1) return { matrices: await matrices(tensors[0]!.name, cols, stacked ? [rows.reduce((a, b) => a + b, 0)] : rows), rows, biases };
    const separate: Matrix[] = [];
    for (const [i, t] of tensors.entries()) separate.push(await matrix(t.name, rows[i]!, cols));
    return { matrices: separate, rows, biases };
  };
  const norm = async (prefix: string, name: string): Promise<Norm> => ({
    weight: await vector(`${prefix}${name}.weight`),
    bias: biases.has(name as BiasedTensor) ? await vector(`${prefix}${name}.bias`) : null,
  });

  /** Row 0 of token_types (llama.cpp treats every token as type 0), f32; null when the file has no token types. */
  const tokenTypeRow = async (rows: number): Promise<GPUBuffer | null> => {
    if (rows === 0) return null;
    const t = tensor('token_types.weight');
    if (t.type !== GGMLType.F32 && t.type !== GGMLType.F16) throw new UnsupportedError(`tensor token_types.weight is ${ggmlTypeName(t.type)}; it must be F32 or F16.`);
    const all = await floats('token_types.weight');
    const buffer = pool.createWith('token_types.weight [row 0]', all.subarray(0, config.embeddingLength));
    held.release(all.byteLength);
    return buffer;
  };
  const { embeddingLength: dim, feedForwardLength: ffn, headCount, headDim, vocabSize } = config;
  const qDim = headCount * headDim;
  const tokenEmbedding = await matrix('token_embd.weight', vocabSize, dim);
  const positionEmbedding = config.positionEmbedding ? await matrix('position_embd.weight', config.contextLength, dim) : null;
  const ropeFactors = new Map<string, Float32Array>();
  for (const rope of [config.rope, config.slidingWindow?.rope]) {
    if (rope?.freqFactors && !ropeFactors.has(rope.freqFactors)) {
      const factors = await floats(rope.freqFactors);
      if (factors.some((f) => !(f > 0))) throw new FormatError(`${file.source.name}: ${rope.freqFactors} has a factor that is not positive`);
      ropeFactors.set(rope.freqFactors, factors); // kept for the rope tables: tiny, and no longer a loading buffer
      held.release(factors.byteLength);
    }
  }

  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.blockCount; l++) {
    const p = `blk.${l}.`;
    const enc = config.encoder !== undefined;
    const attnNorm = await norm(p, enc ? 'attn_output_norm' : 'attn_norm');
    const layouts = projectionLayouts(file, config, l, bindingLimit);
    const qkv = await projections(p, layouts.qkv, dim); // rows [q; k; v]
    const qNorm = config.qkNorm ? await vector(`${p}attn_q_norm.weight`) : null;
    const kNorm = config.qkNorm ? await vector(`${p}attn_k_norm.weight`) : null;
    const o = await linear(p, 'attn_output', dim, qDim);
    const attnPostNorm = config.postNorms ? await norm(p, 'post_attention_norm') : null;
    const ffnNorm = await norm(p, enc ? 'layer_output_norm' : 'ffn_norm');
    const ffnIn = await projections(p, layouts.ffn, dim); // rows [gate; up], or [up]
    const down = await linear(p, 'ffn_down', dim, ffn);
    const ffnPostNorm = config.postNorms ? await norm(p, 'post_ffw_norm') : null;
    layers.push({ attnNorm, qkv, qNorm, kNorm, o, attnPostNorm, ffnNorm, ffnIn, down, ffnPostNorm });
  }
  const encoderInput = config.encoder ? { tokenType: await tokenTypeRow(config.encoder.tokenTypes), norm: await norm('', 'token_embd_norm') } : null;
  const outputNorm = config.encoder ? null : await norm('', 'output_norm');
  const outputBias = biases.has('output') ? await vector('output.bias') : null;
  const output: Linear = { weight: config.tiedEmbeddings ? tokenEmbedding : await matrix('output.weight', vocabSize, dim), bias: outputBias };
  return { tokenEmbedding, positionEmbedding, ropeFactors, layers, encoderInput, outputNorm, output };
}

function padded4(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength % 4 === 0) return bytes;
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}
