// Reading a model's weights out of a GGUF file into GPU buffers, once, at load. Matrices go up as the
// file stores them, quantized blocks included (the kernels' dtype preambles dequantize in registers), or, where the
// profile asks for aligned weights, Q4_0, Q8_0 and Q6_K repacked on the way (src/gpu/aligned-weights.ts).
// The projections of one input — a layer's q, k and v, its FFN's gate and up — go up stacked by rows in one
// matrix where they share a type (projectionLayouts; a Q4_K_M layer with a Q6_K attn_v stacks [q; k]), so one
// dispatch runs them; a file's own fused tensor (Phi-3's and GPT-2's attn_qkv, Phi-3's gate-up) stays as it is
// then, and is split by rows otherwise.
// Which tensors a layer has, and which LayerWeights field each fills, is layer.ts's LAYER_TENSORS.
import { FormatError, UnsupportedError } from '../errors';
import type { BufferPool } from '../gpu/buffers';
import { supportedWeightTypes, weightDTypeForGGML, type WeightDType } from '../gpu/quant-types';
import { alignedBufferBytes, AlignedRepacker, gpuWeightDType, isAligned } from '../gpu/aligned-weights';
import { GGMLType, ggmlTypeName, tensorByteLength } from './ggml-types';
import type { ModelFile, ModelTensorInfo } from './model-file';
import type { ModelConfig } from './config';
import { halfsToFloats } from './f16';
import { layerTensors, type LayerWeights, type Linear, type Matrix, type Norm, type ProjectionField, type Projections } from './layer';
import { projectionLayouts, qkvInTwoMatrices, stackRanges, type ProjectionLayout } from './memory';

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

export interface UploadOptions {
  /** Counts the tensor bytes held in JS (a fresh HeldBytes by default). */
  held?: HeldBytes;
  /** The loader's bindingLimit option: stacks larger than it (or the default limit) stay separate. */
  bindingLimit?: number;
  /** AdapterProfile.alignedWeights: Q4_0, Q8_0 and Q6_K matrices repacked into their aligned layouts. */
  alignedWeights?: boolean;
}

export async function uploadWeights(
  file: ModelFile,
  config: ModelConfig,
  pool: BufferPool,
  onTensor: (loadedBytes: number) => void,
  { held = new HeldBytes(), bindingLimit, alignedWeights = false }: UploadOptions = {},
): Promise<ModelWeights> {
  const up = new Uploader(file, config, pool, onTensor, held, alignedWeights);
  const { vocabSize, embeddingLength: dim } = config;
  const tokenEmbedding = await up.matrix('token_embd.weight', vocabSize, dim);
  const positionEmbedding = config.positionEmbedding ? await up.matrix('position_embd.weight', config.contextLength, dim) : null;
  const ropeFactors = new Map<string, Float32Array>();
  for (const rope of [config.rope, config.slidingWindow?.rope]) {
    if (rope?.freqFactors && !ropeFactors.has(rope.freqFactors)) {
      const factors = await up.floats(rope.freqFactors);
      if (factors.some((f) => !(f > 0))) throw new FormatError(`${file.source.name}: ${rope.freqFactors} has a factor that is not positive`);
      ropeFactors.set(rope.freqFactors, factors); // kept for the rope tables: tiny, and no longer a loading buffer
      held.release(factors.byteLength);
    }
  }
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.blockCount; l++) layers.push(await up.layer(l, projectionLayouts(file, config, l, bindingLimit)));
  const encoderInput = config.encoder ? { tokenType: await up.tokenTypeRow(config.encoder.tokenTypes), norm: await up.norm('', 'token_embd_norm') } : null;
  const outputNorm = config.encoder ? null : await up.norm('', 'output_norm');
  const outputBias = config.biases.includes('output') ? await up.vector('output.bias') : null;
  const output: Linear = { weight: config.tiedEmbeddings ? tokenEmbedding : await up.matrix('output.weight', vocabSize, dim), bias: outputBias };
  return { tokenEmbedding, positionEmbedding, ropeFactors, layers, encoderInput, outputNorm, output };
}

/** Reads tensors of one file into GPU buffers, counting the bytes it holds in JS and the bytes loaded. */
class Uploader {
  private loaded = 0;
  private unflushed = 0;
  private readonly biases: Set<string>;

  constructor(private readonly file: ModelFile, private readonly config: ModelConfig, private readonly pool: BufferPool,
    private readonly onTensor: (loadedBytes: number) => void, private readonly held: HeldBytes, private readonly aligned: boolean) {
    this.biases = new Set<string>(config.biases);
  }

  /** Layer l, one LAYER_TENSORS field at a time in their order (a projections field's tensors together, as `layouts` says). */
  async layer(l: number, layouts: Record<ProjectionField, ProjectionLayout>): Promise<LayerWeights> {
    const p = `blk.${l}.`;
    const w: Partial<Record<keyof LayerWeights, unknown>> = {};
    for (const t of layerTensors(this.config)) {
      if (w[t.field] !== undefined) continue; // the other tensors of a projections field, uploaded with its first
      const rows = t.rows(this.config).reduce((a, b) => a + b, 0);
      w[t.field] = t.kind === 'norm' ? await this.norm(p, t.name)
        : t.kind === 'vector' ? await this.vector(`${p}${t.name}.weight`)
        : t.kind === 'linear' ? { weight: await this.matrix(`${p}${t.name}.weight`, rows, t.cols(this.config)), bias: (await this.biasParts(t.name, p, [rows]))[0]! }
        : await this.projections(p, layouts[t.field as ProjectionField], t.cols(this.config));
    }
    return { qNorm: null, kNorm: null, attnPostNorm: null, ffnPostNorm: null, ...w } as LayerWeights;
  }

  private tensor(name: string): ModelTensorInfo {
    return this.file.tensorsByName.get(name)!; // presence and shape checked by readModelConfig
  }

  /** A whole tensor's bytes, counted as held until the caller releases them. */
  private async bytesOf(t: ModelTensorInfo): Promise<Uint8Array> {
    const bytes = await this.file.readTensor(t);
    this.held.hold(bytes.byteLength);
    this.advance(t.byteLength);
    return bytes;
  }

  private advance(bytes: number): void {
    this.loaded += bytes;
    this.onTensor(this.loaded);
  }

  /** A matrix of `bytes` bytes of `dtype` (its GPU type), written in order through a MatrixWriter. */
  private matrixWriter(label: string, dtype: WeightDType, bytes: number): MatrixWriter {
    const buffer = this.pool.create(label, alignedBufferBytes(dtype, bytes), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, { splittable: true });
    return new MatrixWriter(this.pool.device, buffer, dtype, this.held);
  }

  /** Streams bytes [start, end) of a tensor into `writer`, one chunk at a time. */
  private async streamInto(writer: MatrixWriter, read: (offset: number, length: number) => Promise<Uint8Array>, start: number, end: number): Promise<void> {
    for (let at = start; at < end; at += UPLOAD_CHUNK_BYTES) {
      const length = Math.min(UPLOAD_CHUNK_BYTES, end - at);
      const chunk = await read(at, length);
      this.held.hold(chunk.byteLength);
      writer.write(chunk);
      this.held.release(chunk.byteLength);
      this.advance(length);
      if ((this.unflushed += length) >= FLUSH_BYTES) {
        this.unflushed = 0;
        await this.pool.device.queue.onSubmittedWorkDone();
      }
    }
  }

  /** The type a matrix of `t` has on the GPU: the file's, or its aligned layout. */
  private dtypeOf(t: ModelTensorInfo): WeightDType {
    const dtype = weightDTypeForGGML(t.type);
    if (!dtype) {
      throw new UnsupportedError(`tensor ${t.name} is ${ggmlTypeName(t.type)}, which Hearth cannot read yet; supported weight types: ${supportedWeightTypes().join(', ')}. Use a GGUF quantized to one of those.`);
    }
    return gpuWeightDType(dtype, this.aligned);
  }

  /** Splits a [Σrows, cols] tensor into consecutive row blocks, one GPU matrix each; streamed when the file allows. */
  private async matrices(name: string, cols: number, rowCounts: number[]): Promise<Matrix[]> {
    const t = this.tensor(name);
    const dtype = this.dtypeOf(t);
    const rowBytes = tensorByteLength(t.type, [cols]);
    const label = (i: number) => (rowCounts.length === 1 ? name : `${name} [part ${i}]`);
    const read = this.file.tensorReader?.(t);
    const out: Matrix[] = [];
    let start = 0;
    const bytes = read ? null : await this.bytesOf(t);
    for (const [i, rows] of rowCounts.entries()) {
      const [from, to] = [start * rowBytes, (start + rows) * rowBytes];
      const writer = this.matrixWriter(label(i), dtype, to - from);
      if (read) await this.streamInto(writer, read, from, to);
      else writer.write(bytes!.subarray(from, to));
      out.push({ buffer: writer.finish(), dtype, rows, cols });
      start += rows;
    }
    if (bytes) this.held.release(bytes.byteLength);
    return out;
  }

  async matrix(name: string, rows: number, cols: number): Promise<Matrix> {
    return (await this.matrices(name, cols, [rows]))[0]!;
  }

  /** Several tensors of one type [rows_i, cols] stacked by rows in one GPU matrix (each but the last whole words). */
  private async stackedMatrix(label: string, tensors: ModelTensorInfo[], cols: number): Promise<Matrix> {
    const dtype = this.dtypeOf(tensors[0]!);
    const writer = this.matrixWriter(label, dtype, tensors.reduce((sum, t) => sum + t.byteLength, 0));
    for (const t of tensors) {
      const read = this.file.tensorReader?.(t);
      if (read) {
        await this.streamInto(writer, read, 0, t.byteLength);
      } else {
        const bytes = await this.bytesOf(t);
        writer.write(bytes);
        this.held.release(bytes.byteLength);
      }
    }
    const rows = tensors.reduce((sum, t) => sum + t.dims[1]!, 0);
    return { buffer: writer.finish(), dtype, rows, cols };
  }

  /** A vector as f32 (held until the caller releases its byteLength). */
  async floats(name: string): Promise<Float32Array> {
    const t = this.tensor(name);
    const bytes = await this.bytesOf(t);
    let values: Float32Array;
    // An own, aligned copy of exactly these bytes (a Node Buffer's slice() would share the whole file's memory).
    if (t.type === GGMLType.F32) values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    else if (t.type === GGMLType.F16) values = halfsToFloats(bytes);
    else throw new UnsupportedError(`tensor ${name} is ${ggmlTypeName(t.type)}; norm weights, biases and rope factors must be F32 or F16.`);
    this.held.hold(values.byteLength);
    this.held.release(bytes.byteLength);
    return values;
  }

  async vector(name: string): Promise<GPUBuffer> {
    const values = await this.floats(name);
    const buffer = this.pool.createWith(name, values);
    this.held.release(values.byteLength);
    return buffer;
  }

  /** Bias vectors of `name` split like its matrix; nulls when the model has no such bias. */
  private async biasParts(name: string, prefix: string, rowCounts: number[]): Promise<(GPUBuffer | null)[]> {
    if (!this.biases.has(name)) return rowCounts.map(() => null);
    const all = await this.floats(`${prefix}${name}.bias`);
    let start = 0;
    const parts = rowCounts.map((rows, i) => {
      const part = all.subarray(start, (start += rows));
      return this.pool.createWith(rowCounts.length === 1 ? `${prefix}${name}.bias` : `${prefix}${name}.bias [part ${i}]`, part);
    });
    this.held.release(all.byteLength);
    return parts;
  }

  /**
   * The bias of a stacked matrix, [Σ rows] in its row order (the product's epilogue adds it), or null when none of
   * its tensors has one; a tensor without one contributes zeros.
   */
  private async stackedBias(prefix: string, names: string[], rows: number[]): Promise<GPUBuffer | null> {
    if (!names.some((n) => this.biases.has(n))) return null;
    const total = rows.reduce((a, b) => a + b, 0);
    const buffer = this.pool.create(`${prefix}${names.join('+')}.bias`, 4 * total, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    if (names.length === 1) { // one fused tensor (attn_qkv)
      await this.writeFloats(buffer, 0, `${prefix}${names[0]}.bias`);
      return buffer;
    }
    let row = 0;
    for (const [i, n] of names.entries()) {
      if (this.biases.has(n)) await this.writeFloats(buffer, 4 * row, `${prefix}${n}.bias`);
      row += rows[i]!;
    }
    return buffer;
  }

  private async writeFloats(buffer: GPUBuffer, offset: number, name: string): Promise<void> {
    const values = await this.floats(name);
    this.pool.device.queue.writeBuffer(buffer, offset, values as Float32Array<ArrayBuffer>);
    this.held.release(values.byteLength);
  }

  /**
   * The projections of one input as `layout` says: a file's fused tensor whole or split by rows, or the separate
   * tensors in matrices of layout.stacks projections each (a stack's bias is one buffer over its rows).
   */
  private async projections(prefix: string, layout: ProjectionLayout, cols: number): Promise<Projections> {
    const { tensors, rows, stacks } = layout;
    const names = tensors.map((t) => t.name.slice(prefix.length, -'.weight'.length));
    // One tensor at a time, as everywhere here: the bytes held at once stay within heldBytesBound. Biases first.
    if (tensors.length === 1) {
      const whole = stacks.length === 1 && rows.length > 1;
      const biases = whole ? [await this.stackedBias(prefix, names, rows)] : await this.biasParts(names[0]!, prefix, rows);
      return { matrices: await this.matrices(tensors[0]!.name, cols, whole ? [rows.reduce((a, b) => a + b, 0)] : rows), rows, stacks, biases };
    }
    const groups = stackRanges(stacks).map(({ first, end }) => ({ tensors: tensors.slice(first, end), names: names.slice(first, end), rows: rows.slice(first, end) }));
    // q, k and v in two matrices: the first's bias covers all three, which main_qkv_mixed adds over the whole
    // [q; k; v] (the first matrix's own product reads its rows, the prefix).
    const biasGroups = qkvInTwoMatrices(layout) ? [{ names, rows }, groups[1]!] : groups;
    const biases: (GPUBuffer | null)[] = [];
    for (const g of biasGroups) biases.push(g.names.length > 1 ? await this.stackedBias(prefix, g.names, g.rows) : (await this.biasParts(g.names[0]!, prefix, g.rows))[0]!);
    const matrices: Matrix[] = [];
    for (const g of groups) {
      matrices.push(g.tensors.length > 1 ? await this.stackedMatrix(`${prefix}${g.names.join('+')}.weight`, g.tensors, cols) : await this.matrix(g.tensors[0]!.name, g.rows[0]!, cols));
    }
    return { matrices, rows, stacks, biases };
  }

  async norm(prefix: string, name: string): Promise<Norm> {
    return {
      weight: await this.vector(`${prefix}${name}.weight`),
      bias: this.biases.has(name) ? await this.vector(`${prefix}${name}.bias`) : null,
    };
  }

  /** Row 0 of token_types (llama.cpp treats every token as type 0), f32; null when the file has no token types. */
  async tokenTypeRow(rows: number): Promise<GPUBuffer | null> {
    if (rows === 0) return null;
    const t = this.tensor('token_types.weight');
    if (t.type !== GGMLType.F32 && t.type !== GGMLType.F16) throw new UnsupportedError(`tensor token_types.weight is ${ggmlTypeName(t.type)}; it must be F32 or F16.`);
    const all = await this.floats('token_types.weight');
    const buffer = this.pool.createWith('token_types.weight [row 0]', all.subarray(0, this.config.embeddingLength));
    this.held.release(all.byteLength);
    return buffer;
  }
}

/**
 * Writes a matrix's bytes into its buffer in order (each write but the last whole u32 words), repacked into its
 * aligned layout on the way where its type is one; the repacked copy counts as held while it exists.
 */
class MatrixWriter {
  private at = 0;
  private readonly repacker: AlignedRepacker | null;

  constructor(private readonly device: GPUDevice, private readonly buffer: GPUBuffer, dtype: WeightDType, private readonly held: HeldBytes) {
    this.repacker = isAligned(dtype) ? new AlignedRepacker(dtype) : null;
  }

  write(bytes: Uint8Array): void {
    this.put(this.repacker ? this.repacker.push(bytes) : bytes, this.repacker !== null);
  }

  /** The buffer, its last partial group written. */
  finish(): GPUBuffer {
    if (this.repacker) this.put(this.repacker.finish(), true);
    return this.buffer;
  }

  private put(bytes: Uint8Array, copy: boolean): void {
    if (bytes.byteLength === 0) return;
    if (copy) this.held.hold(bytes.byteLength);
    this.device.queue.writeBuffer(this.buffer, this.at, padded4(bytes) as Uint8Array<ArrayBuffer>);
    if (copy) this.held.release(bytes.byteLength);
    this.at += bytes.byteLength;
  }
}

function padded4(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength % 4 === 0) return bytes;
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}
