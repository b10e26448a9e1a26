// Reading a model's weights out of a GGUF file into GPU buffers, once, at load. Matrices go up as the
// file stores them, quantized blocks included (the kernels' dtype preambles dequantize in registers);
// fused tensors (Phi-3's and GPT-2's attn_qkv, Phi-3's
// gate-up) are split here by rows, so the forward pass only ever sees separate projections.
import { FormatError, UnsupportedError } from '../errors';
import type { BufferPool } from '../gpu/buffers';
import { supportedWeightTypes, weightDTypeForGGML, type WeightDType } from '../gpu/quant-types';
import { GGMLType, ggmlTypeName, tensorByteLength } from './ggml-types';
import type { ModelFile, ModelTensorInfo } from './model-file';
import type { BiasedTensor, ModelConfig } from './config';
import { halfsToFloats } from './f16';

/** A weight matrix [rows, cols] row-major (GGUF ne0 = cols), stored in `dtype` as the file has it. */
export interface Matrix { buffer: GPUBuffer; dtype: WeightDType; rows: number; cols: number }

/** y = W x (+ b): a matrix and, when the model has one, its f32 bias [rows]. */
export interface Linear { weight: Matrix; bias: GPUBuffer | null }

/** Norm weight [n] f32 and, for layer norm, its bias [n]. */
export interface Norm { weight: GPUBuffer; bias: GPUBuffer | null }

export interface LayerWeights {
  attnNorm: Norm; // [dim]
  q: Linear; // [nHeads*headDim, dim]
  k: Linear; // [nKvHeads*headDim, dim]
  v: Linear; // [nKvHeads*headDim, dim]
  qNorm: GPUBuffer | null; // [headDim], shared by every head
  kNorm: GPUBuffer | null; // [headDim]
  o: Linear; // [dim, nHeads*headDim]
  attnPostNorm: Norm | null; // [dim]
  ffnNorm: Norm; // [dim]
  gate: Linear | null; // [ffn, dim]; null for a plain (ungated) MLP
  up: Linear; // [ffn, dim]
  down: Linear; // [dim, ffn]
  ffnPostNorm: Norm | null; // [dim]
}

export interface ModelWeights {
  tokenEmbedding: Matrix; // [vocab, dim]
  positionEmbedding: Matrix | null; // [ctxTrain, dim]
  /** Rope frequency factor tensors [ropeDim/2] by name, on the host: they only shape the rope tables. */
  ropeFactors: Map<string, Float32Array>;
  layers: LayerWeights[];
  outputNorm: Norm; // [dim]
  output: Linear; // [vocab, dim]; the embedding table itself when tied
}

export async function uploadWeights(
  file: ModelFile,
  config: ModelConfig,
  pool: BufferPool,
  onTensor: (loadedBytes: number) => void,
): Promise<ModelWeights> {
  let loaded = 0;
  const bytesOf = async (t: ModelTensorInfo) => {
    const bytes = await file.readTensor(t);
    loaded += t.byteLength;
    onTensor(loaded);
    return bytes;
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
  /** Splits a [Σrows, cols] tensor into consecutive row blocks, one GPU matrix each. */
  const matrices = async (name: string, cols: number, rowCounts: number[]): Promise<Matrix[]> => {
    const t = tensor(name);
    const dtype = dtypeOf(t);
    const bytes = await bytesOf(t);
    const rowBytes = tensorByteLength(t.type, [cols]);
    let start = 0;
    return rowCounts.map((rows, i) => {
      const part = bytes.subarray(start * rowBytes, (start + rows) * rowBytes);
      start += rows;
      const label = rowCounts.length === 1 ? name : `${name} [part ${i}]`;
      return { buffer: pool.createWith(label, part, GPUBufferUsage.STORAGE, { splittable: true }), dtype, rows, cols };
    });
  };
  const matrix = async (name: string, rows: number, cols: number) => (await matrices(name, cols, [rows]))[0]!;
  const floats = async (name: string): Promise<Float32Array> => {
    const t = tensor(name);
    const bytes = await bytesOf(t);
    // An own, aligned copy of exactly these bytes (a Node Buffer's slice() would share the whole file's memory).
    if (t.type === GGMLType.F32) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    if (t.type === GGMLType.F16) return halfsToFloats(bytes);
    throw new UnsupportedError(`tensor ${name} is ${ggmlTypeName(t.type)}; norm weights, biases and rope factors must be F32 or F16.`);
  };
  const vector = async (name: string) => pool.createWith(name, await floats(name));
  /** Bias vectors of `name` split like its matrix; nulls when the model has no such bias. */
  const biasParts = async (name: string, prefix: string, rowCounts: number[]): Promise<(GPUBuffer | null)[]> => {
    if (!biases.has(name as BiasedTensor)) return rowCounts.map(() => null);
    const all = await floats(`${prefix}${name}.bias`);
    let start = 0;
    return rowCounts.map((rows, i) => {
      const part = all.subarray(start, (start += rows));
      return pool.createWith(rowCounts.length === 1 ? `${prefix}${name}.bias` : `${prefix}${name}.bias [part ${i}]`, part);
    });
  };
  /** A weight split into row blocks, each with its bias. */
  const linears = async (prefix: string, name: BiasedTensor, cols: number, rowCounts: number[]): Promise<Linear[]> => {
    const weights = await matrices(`${prefix}${name}.weight`, cols, rowCounts);
    const b = await biasParts(name, prefix, rowCounts);
    return weights.map((weight, i) => ({ weight, bias: b[i]! }));
  };
  const linear = async (prefix: string, name: BiasedTensor, rows: number, cols: number) => (await linears(prefix, name, cols, [rows]))[0]!;
  const norm = async (prefix: string, name: string): Promise<Norm> => ({
    weight: await vector(`${prefix}${name}.weight`),
    bias: biases.has(name as BiasedTensor) ? await vector(`${prefix}${name}.bias`) : null,
  });

  const { embeddingLength: dim, feedForwardLength: ffn, headCount, headCountKv, headDim, vocabSize } = config;
  const qDim = headCount * headDim;
  const kvDim = headCountKv * headDim;
  const tokenEmbedding = await matrix('token_embd.weight', vocabSize, dim);
  const positionEmbedding = config.positionEmbedding ? await matrix('position_embd.weight', config.contextLength, dim) : null;
  const ropeFactors = new Map<string, Float32Array>();
  for (const rope of [config.rope, config.slidingWindow?.rope]) {
    if (rope?.freqFactors && !ropeFactors.has(rope.freqFactors)) {
      const factors = await floats(rope.freqFactors);
      if (factors.some((f) => !(f > 0))) throw new FormatError(`${file.source.name}: ${rope.freqFactors} has a factor that is not positive`);
      ropeFactors.set(rope.freqFactors, factors);
    }
  }

  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.blockCount; l++) {
    const p = `blk.${l}.`;
    const attnNorm = await norm(p, 'attn_norm');
    const [q, k, v] = config.fusedQkv
      ? await linears(p, 'attn_qkv', dim, [qDim, kvDim, kvDim]) // rows [q; k; v]
      : [await linear(p, 'attn_q', qDim, dim), await linear(p, 'attn_k', kvDim, dim), await linear(p, 'attn_v', kvDim, dim)];
    const qNorm = config.qkNorm ? await vector(`${p}attn_q_norm.weight`) : null;
    const kNorm = config.qkNorm ? await vector(`${p}attn_k_norm.weight`) : null;
    const o = await linear(p, 'attn_output', dim, qDim);
    const attnPostNorm = config.postNorms ? await norm(p, 'post_attention_norm') : null;
    const ffnNorm = await norm(p, 'ffn_norm');
    let gate: Linear | null = null;
    let up: Linear;
    if (config.feedForward === 'gelu') {
      up = await linear(p, 'ffn_up', ffn, dim);
    } else if (config.fusedGateUp) {
      [gate, up] = (await linears(p, 'ffn_up', dim, [ffn, ffn])) as [Linear, Linear]; // rows [gate; up]
    } else {
      gate = await linear(p, 'ffn_gate', ffn, dim);
      up = await linear(p, 'ffn_up', ffn, dim);
    }
    const down = await linear(p, 'ffn_down', dim, ffn);
    const ffnPostNorm = config.postNorms ? await norm(p, 'post_ffw_norm') : null;
    layers.push({ attnNorm, q: q!, k: k!, v: v!, qNorm, kNorm, o, attnPostNorm, ffnNorm, gate, up, down, ffnPostNorm });
  }
  const outputNorm = await norm('', 'output_norm');
  const outputBias = biases.has('output') ? await vector('output.bias') : null;
  const output: Linear = { weight: config.tiedEmbeddings ? tokenEmbedding : await matrix('output.weight', vocabSize, dim), bias: outputBias };
  return { tokenEmbedding, positionEmbedding, ropeFactors, layers, outputNorm, output };
}
