// A model's tensors, described once: each one's ggml name, shape, role, which architecture features need it and
// where the loaded model holds it. The tensor check (tensors.ts), the upload (weights.ts), the projection layouts
// of the memory estimate (memory.ts) and the forward pass's weights (forward-blocks.ts reads LayerWeights) all
// come from LAYER_TENSORS and MODEL_TENSORS: a new tensor is one entry here.
import type { WeightDType } from '../gpu/quant-types';
import type { BiasedTensor, ModelConfig } from './config';

/** A weight matrix [rows, cols] row-major (GGUF ne0 = cols), stored in `dtype` as the file has it. */
export interface Matrix { buffer: GPUBuffer; dtype: WeightDType; rows: number; cols: number }

/** y = W x (+ b): a matrix and, when the model has one, its f32 bias [rows]. */
export interface Linear { weight: Matrix; bias: GPUBuffer | null }

/** Norm weight [n] f32 and, for layer norm, its bias [n]. */
export interface Norm { weight: GPUBuffer; bias: GPUBuffer | null }

/** Projections of one input: [q; k; v], a gated FFN's [gate; up], or an ungated FFN's [up]. */
export interface Projections {
  /** The projections' rows in matrices of consecutive projections, each stacked (one product dispatch) or alone. */
  matrices: Matrix[];
  /** Rows of each projection, in order. */
  rows: number[];
  /** How many projections each matrix holds (ProjectionLayout's stacks): [3] one [q; k; v], [2, 1] [q; k] and v. */
  stacks: number[];
  /** Each matrix's f32 bias [rows] (a stacked matrix's: [Σ rows], which its product's epilogue adds), or null. */
  biases: (GPUBuffer | null)[];
}

/** One layer on the GPU: a field per LAYER_TENSORS `field` (null where the architecture has no such tensor). */
export interface LayerWeights {
  attnNorm: Norm;
  qkv: Projections;
  qNorm: GPUBuffer | null;
  kNorm: GPUBuffer | null;
  o: Linear;
  attnPostNorm: Norm | null;
  ffnNorm: Norm;
  ffnIn: Projections;
  down: Linear;
  ffnPostNorm: Norm | null;
}

/**
 * How the loader holds a tensor, which is the type of its LayerWeights field: 'norm' a Norm ([dim] weight, and a
 * bias when config.biases names it); 'vector' an f32 GPUBuffer; 'linear' a Linear; 'projections' part of the
 * Projections of one input (the tensors of one field are its projections, in row order).
 */
type TensorKind = 'norm' | 'vector' | 'linear' | 'projections';

/** The projections' fields: the inputs whose products the loader may stack into one matrix (projectionLayouts). */
export type ProjectionField = 'qkv' | 'ffnIn';

interface LayerTensor {
  /** The ggml name without `blk.N.` and `.weight`; its bias, when config.biases names it, is `<name>.bias`. */
  name: BiasedTensor | 'attn_q_norm' | 'attn_k_norm' | 'post_attention_norm' | 'post_ffw_norm';
  /** The LayerWeights field that holds it. */
  field: keyof LayerWeights;
  kind: TensorKind;
  /** What the forward pass does with it. */
  role: string;
  /** Whether a model of this config has it. */
  needs: (c: ModelConfig) => boolean;
  /** Row length (ggml ne0). */
  cols: (c: ModelConfig) => number;
  /** Rows of each projection it holds ([rows] for one matrix; [] for a vector). */
  rows: (c: ModelConfig) => number[];
}

const dim = (c: ModelConfig) => c.embeddingLength;
const qDim = (c: ModelConfig) => c.headCount * c.headDim;
const kvDim = (c: ModelConfig) => c.headCountKv * c.headDim;
const ffn = (c: ModelConfig) => c.feedForwardLength;
const decoder = (c: ModelConfig) => c.encoder === undefined;
const encoder = (c: ModelConfig) => c.encoder !== undefined;
const gated = (c: ModelConfig) => c.feedForward !== 'gelu';
const always = () => true;
const none = () => [];

/** A norm over the residual stream's width, [dim]. */
const norm = (name: LayerTensor['name'], field: keyof LayerWeights, needs: LayerTensor['needs'], role: string): LayerTensor =>
  ({ name, field, kind: 'norm', role, needs, cols: dim, rows: none });

/** Every tensor of a layer, in upload order (that of LayerWeights' fields; a field's projections in row order). */
const LAYER_TENSORS: readonly LayerTensor[] = [
  norm('attn_norm', 'attnNorm', decoder, 'norm of the attention input'),
  norm('attn_output_norm', 'attnNorm', encoder, "an encoder's LayerNorm after the attention residual add"),
  { name: 'attn_qkv', field: 'qkv', kind: 'projections', role: 'q, k and v in one tensor (fusedQkv)', needs: (c) => c.fusedQkv, cols: dim, rows: (c) => [qDim(c), kvDim(c), kvDim(c)] },
  { name: 'attn_q', field: 'qkv', kind: 'projections', role: 'queries [nHeads·headDim]', needs: (c) => !c.fusedQkv, cols: dim, rows: (c) => [qDim(c)] },
  { name: 'attn_k', field: 'qkv', kind: 'projections', role: 'keys [nKvHeads·headDim]', needs: (c) => !c.fusedQkv, cols: dim, rows: (c) => [kvDim(c)] },
  { name: 'attn_v', field: 'qkv', kind: 'projections', role: 'values [nKvHeads·headDim]', needs: (c) => !c.fusedQkv, cols: dim, rows: (c) => [kvDim(c)] },
  { name: 'attn_q_norm', field: 'qNorm', kind: 'vector', role: 'RMS norm of each query head (qkNorm)', needs: (c) => c.qkNorm, cols: (c) => c.headDim, rows: none },
  { name: 'attn_k_norm', field: 'kNorm', kind: 'vector', role: 'RMS norm of each key head (qkNorm)', needs: (c) => c.qkNorm, cols: (c) => c.headDim, rows: none },
  { name: 'attn_output', field: 'o', kind: 'linear', role: 'attention output projection', needs: always, cols: qDim, rows: (c) => [dim(c)] },
  norm('post_attention_norm', 'attnPostNorm', (c) => c.postNorms, 'RMS norm of the attention output before its residual add (postNorms)'),
  norm('ffn_norm', 'ffnNorm', decoder, 'norm of the feed-forward input'),
  norm('layer_output_norm', 'ffnNorm', encoder, "an encoder's LayerNorm after the feed-forward residual add"),
  { name: 'ffn_gate', field: 'ffnIn', kind: 'projections', role: 'gate of a gated FFN', needs: (c) => gated(c) && !c.fusedGateUp, cols: dim, rows: (c) => [ffn(c)] },
  { name: 'ffn_up', field: 'ffnIn', kind: 'projections', role: 'gate and up in one tensor, gate first (fusedGateUp)', needs: (c) => gated(c) && c.fusedGateUp, cols: dim, rows: (c) => [ffn(c), ffn(c)] },
  { name: 'ffn_up', field: 'ffnIn', kind: 'projections', role: 'up projection (the whole input half of an ungated MLP)', needs: (c) => !(gated(c) && c.fusedGateUp), cols: dim, rows: (c) => [ffn(c)] },
  { name: 'ffn_down', field: 'down', kind: 'linear', role: 'feed-forward output projection', needs: always, cols: ffn, rows: (c) => [dim(c)] },
  norm('post_ffw_norm', 'ffnPostNorm', (c) => c.postNorms, 'RMS norm of the feed-forward output before its residual add (postNorms)'),
];

/** The layer tensors a model of this config has, in upload order. */
export function layerTensors(c: ModelConfig): LayerTensor[] {
  return LAYER_TENSORS.filter((t) => t.needs(c));
}

/** A layer tensor's ggml shape: [cols] for a vector, [cols, Σrows] for a matrix. */
export function layerTensorShape(t: LayerTensor, c: ModelConfig): number[] {
  const rows = t.rows(c);
  return rows.length === 0 ? [t.cols(c)] : [t.cols(c), rows.reduce((a, b) => a + b, 0)];
}

/** A tensor outside the layers: its full ggml name, shape, role, and which configs have it. */
interface ModelTensor { name: string; shape: (c: ModelConfig) => number[]; role: string; needs: (c: ModelConfig) => boolean }

/**
 * The tensors outside the layers (uploaded by weights.ts into ModelWeights' own fields). Rope factor tensors are
 * named by the config (RopeConfig.freqFactors) and are added by modelTensorShapes.
 */
export const MODEL_TENSORS: readonly ModelTensor[] = [
  { name: 'token_embd.weight', shape: (c) => [dim(c), c.vocabSize], role: 'token embedding table (and the output head when tied)', needs: always },
  { name: 'token_types.weight', shape: (c) => [dim(c), c.encoder!.tokenTypes], role: "an encoder's token type embeddings (row 0 is added)", needs: (c) => (c.encoder?.tokenTypes ?? 0) > 0 },
  { name: 'token_embd_norm.weight', shape: (c) => [dim(c)], role: "an encoder's LayerNorm of the embedding", needs: encoder },
  { name: 'token_embd_norm.bias', shape: (c) => [dim(c)], role: "an encoder's LayerNorm of the embedding", needs: encoder },
  { name: 'position_embd.weight', shape: (c) => [dim(c), c.contextLength], role: 'learned absolute positions (positionEmbedding)', needs: (c) => c.positionEmbedding },
  { name: 'output_norm.weight', shape: (c) => [dim(c)], role: 'norm before the output head', needs: decoder },
  { name: 'output_norm.bias', shape: (c) => [dim(c)], role: 'norm before the output head', needs: (c) => decoder(c) && c.biases.includes('output_norm') },
  { name: 'output.weight', shape: (c) => [dim(c), c.vocabSize], role: 'output head (absent when tied to token_embd)', needs: (c) => decoder(c) && !c.tiedEmbeddings },
  { name: 'output.bias', shape: (c) => [c.vocabSize], role: 'output head bias', needs: (c) => decoder(c) && c.biases.includes('output') },
];
