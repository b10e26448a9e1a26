// The tensors a ModelConfig's forward pass reads, with their ggml-order shapes, and the check that a
// file has every one of them. The weight loader reads exactly this list.
import { FormatError } from '../errors';
import type { ModelFile, ModelTensorInfo } from './model-file';
import type { BiasedTensor, ModelConfig } from './config';
import { weightDTypeForGGML } from '../gpu/quant-types';
import { q8WeightTypes } from '../gpu/shaders';

/** Every tensor the forward pass reads, with its ggml-order shape [ne0 (row length), ne1]. */
export function modelTensorShapes(c: ModelConfig): Map<string, number[]> {
  const dim = c.embeddingLength, ff = c.feedForwardLength;
  const q = c.headCount * c.headDim, kv = c.headCountKv * c.headDim;
  const biases = new Set<BiasedTensor>(c.biases);
  const shapes = new Map<string, number[]>([['token_embd.weight', [dim, c.vocabSize]]]);
  const enc = c.encoder;
  if (enc) {
    if (enc.tokenTypes > 0) shapes.set('token_types.weight', [dim, enc.tokenTypes]);
    shapes.set('token_embd_norm.weight', [dim]);
    shapes.set('token_embd_norm.bias', [dim]);
  }
  if (c.positionEmbedding) shapes.set('position_embd.weight', [dim, c.contextLength]);
  for (const rope of [c.rope, c.slidingWindow?.rope]) {
    if (rope?.freqFactors) shapes.set(rope.freqFactors, [rope.dim / 2]);
  }
  for (let l = 0; l < c.blockCount; l++) {
    const b = `blk.${l}.`;
    /** A weight [cols, rows] and, when the model has it, its bias [rows]. */
    const linear = (name: BiasedTensor, cols: number, rows: number) => {
      shapes.set(`${b}${name}.weight`, [cols, rows]);
      if (biases.has(name)) shapes.set(`${b}${name}.bias`, [rows]);
    };
    const norm = (name: string) => {
      shapes.set(`${b}${name}.weight`, [dim]);
      if (biases.has(name as BiasedTensor)) shapes.set(`${b}${name}.bias`, [dim]);
    };
    if (!enc) norm('attn_norm');
    if (c.fusedQkv) {
      linear('attn_qkv', dim, q + 2 * kv);
    } else {
      linear('attn_q', dim, q);
      linear('attn_k', dim, kv);
      linear('attn_v', dim, kv);
    }
    if (c.qkNorm) {
      shapes.set(`${b}attn_q_norm.weight`, [c.headDim]);
      shapes.set(`${b}attn_k_norm.weight`, [c.headDim]);
    }
    linear('attn_output', q, dim);
    if (c.postNorms) norm('post_attention_norm');
    norm(enc ? 'attn_output_norm' : 'ffn_norm');
    if (c.feedForward === 'gelu') {
      linear('ffn_up', dim, ff);
    } else if (c.fusedGateUp) {
      linear('ffn_up', dim, 2 * ff); // [gate; up]
    } else {
      linear('ffn_gate', dim, ff);
      linear('ffn_up', dim, ff);
    }
    linear('ffn_down', ff, dim);
    if (c.postNorms) norm('post_ffw_norm');
    if (enc) norm('layer_output_norm');
  }
  if (enc) return shapes; // no output norm or head
  shapes.set('output_norm.weight', [dim]);
  if (biases.has('output_norm')) shapes.set('output_norm.bias', [dim]);
  if (!c.tiedEmbeddings) shapes.set('output.weight', [dim, c.vocabSize]);
  if (biases.has('output')) shapes.set('output.bias', [c.vocabSize]);
  return shapes;
}

function sameShape(t: ModelTensorInfo, expected: number[]): boolean {
  // Trailing 1-dims are insignificant in ggml.
  const trim = (d: number[]) => { const a = [...d]; while (a.length > 1 && a[a.length - 1] === 1) a.pop(); return a; };
  const a = trim(t.dims), b = trim(expected);
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkModelTensors(file: ModelFile, config: ModelConfig): void {
  for (const [name, shape] of modelTensorShapes(config)) {
    const t = file.tensorsByName.get(name);
    if (!t) throw new FormatError(`${file.source.name}: required tensor '${name}' is missing (incomplete or vocab-only file?)`);
    if (!sameShape(t, shape)) {
      throw new FormatError(`${file.source.name}: tensor '${name}' has shape [${t.dims.join(', ')}], expected [${shape.join(', ')}] from the metadata`);
    }
  }
}

/**
 * Whether any weight matrix the model multiplies is q4_0 or q8_0: the products precision 'q8' runs as integer
 * dot products, so 'auto' picks it on CPU adapters for such models.
 */
export function modelHasQ8Matrices(file: ModelFile, config: ModelConfig): boolean {
  return [...modelTensorShapes(config)].some(([name, dims]) => {
    const type = dims.length > 1 ? file.tensorsByName.get(name)?.type : undefined;
    const dtype = type === undefined ? undefined : weightDTypeForGGML(type);
    return dtype !== undefined && q8WeightTypes.has(dtype);
  });
}
