// Reading Llama weights out of a GGUF file into GPU buffers, once, at load.
import { UnsupportedError } from '../errors';
import type { BufferPool } from '../gpu/buffers';
import type { WeightDType } from '../gpu/shaders';
import { GGMLType, ggmlTypeName } from './ggml-types';
import type { GGUFFile, GGUFTensorInfo } from './gguf';
import type { LlamaConfig } from './config';
import { halfsToFloats } from './f16';

/** A weight matrix [rows, cols] row-major (GGUF ne0 = cols), stored in `dtype` as the file has it. */
export interface Matrix { buffer: GPUBuffer; dtype: WeightDType; rows: number; cols: number }

export interface LayerWeights {
  attnNorm: GPUBuffer; // [dim] f32
  wq: Matrix; // [nHeads*headDim, dim]
  wk: Matrix; // [nKvHeads*headDim, dim]
  wv: Matrix; // [nKvHeads*headDim, dim]
  wo: Matrix; // [dim, nHeads*headDim]
  ffnNorm: GPUBuffer; // [dim] f32
  gate: Matrix; // [ffn, dim]
  up: Matrix; // [ffn, dim]
  down: Matrix; // [dim, ffn]
}

export interface LlamaWeights {
  tokenEmbedding: Matrix; // [vocab, dim]
  layers: LayerWeights[];
  outputNorm: GPUBuffer; // [dim] f32
  output: Matrix; // [vocab, dim]; the embedding table itself when tied
}

const dtypeOfType: Partial<Record<number, WeightDType>> = { [GGMLType.F32]: 'f32', [GGMLType.F16]: 'f16' };

export async function uploadLlamaWeights(
  file: GGUFFile,
  config: LlamaConfig,
  pool: BufferPool,
  onTensor: (loadedBytes: number) => void,
): Promise<LlamaWeights> {
  let loaded = 0;
  const bytesOf = async (t: GGUFTensorInfo) => {
    const bytes = await file.source.read(t.offset, t.byteLength);
    loaded += t.byteLength;
    onTensor(loaded);
    return bytes;
  };
  const tensor = (name: string) => file.tensorsByName.get(name)!; // presence and shape checked by readLlamaConfig

  const matrix = async (name: string, rows: number, cols: number): Promise<Matrix> => { // rows = dims[1], cols = dims[0]
    const t = tensor(name);
    const dtype = dtypeOfType[t.type];
    if (!dtype) {
      throw new UnsupportedError(`tensor ${name} is ${ggmlTypeName(t.type)}; this version of Hearth runs F32 and F16 weights. Use an F16 or F32 GGUF of the model.`);
    }
    return { buffer: pool.createWith(name, await bytesOf(t)), dtype, rows, cols };
  };
  const vector = async (name: string): Promise<GPUBuffer> => {
    const t = tensor(name);
    const bytes = await bytesOf(t);
    if (t.type === GGMLType.F32) return pool.createWith(name, bytes);
    if (t.type === GGMLType.F16) return pool.createWith(name, halfsToFloats(bytes));
    throw new UnsupportedError(`norm weight ${name} is ${ggmlTypeName(t.type)}; expected F32 or F16.`);
  };

  const { embeddingLength: dim, feedForwardLength: ffn, headCount, headCountKv, headDim, vocabSize } = config;
  const qDim = headCount * headDim;
  const kvDim = headCountKv * headDim;
  const tokenEmbedding = await matrix('token_embd.weight', vocabSize, dim);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.blockCount; l++) {
    const p = `blk.${l}.`;
    layers.push({
      attnNorm: await vector(`${p}attn_norm.weight`),
      wq: await matrix(`${p}attn_q.weight`, qDim, dim),
      wk: await matrix(`${p}attn_k.weight`, kvDim, dim),
      wv: await matrix(`${p}attn_v.weight`, kvDim, dim),
      wo: await matrix(`${p}attn_output.weight`, dim, qDim),
      ffnNorm: await vector(`${p}ffn_norm.weight`),
      gate: await matrix(`${p}ffn_gate.weight`, ffn, dim),
      up: await matrix(`${p}ffn_up.weight`, ffn, dim),
      down: await matrix(`${p}ffn_down.weight`, dim, ffn),
    });
  }
  const outputNorm = await vector('output_norm.weight');
  const output = config.tiedEmbeddings ? tokenEmbedding : await matrix('output.weight', vocabSize, dim);
  return { tokenEmbedding, layers, outputNorm, output };
}

