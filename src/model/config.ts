// Model hyperparameters and features: one ModelConfig describes the forward pass as data (norm type,
// activation, biases, q/k norm, rope, soft-caps, sliding window…); ./read-config.ts makes it from a file.
// Nothing downstream looks at the architecture string again.

/** Rotary position embedding, as ggml_rope_ext computes it for one set of layers. */
export interface RopeConfig {
  /** 'norm': rotate adjacent pairs (x0,x1); 'neox': rotate halves (x[i], x[i + dim/2]). */
  style: 'norm' | 'neox';
  /** Leading dims of each head that get rotated (≤ headDim). */
  dim: number;
  /** θ_i = pos · freqBase^(−2i/dim) … */
  freqBase: number;
  /** … · freqScale (linear scaling: 1/factor; 1 = none) … */
  freqScale: number;
  /** … / factor_i, from this [dim/2] F32 tensor (Llama 3's `rope_freqs.weight`, Phi-3's short factors); null = none. */
  freqFactors: string | null;
  /** cos θ and sin θ are multiplied by this (LongRoPE's attention factor; 1 = none). */
  attnFactor: number;
}

/** Layers that attend to a sliding window of recent positions instead of the whole context. */
export interface SlidingWindowConfig {
  /** Positions seen: p with pos − p < size. */
  size: number;
  /** Per layer: true when the layer uses the window. */
  layers: boolean[];
  /** Rope of the windowed layers (Gemma 3: base 10000 while full layers use 1e6). */
  rope: RopeConfig;
}

/** Tensors (ggml names without `blk.N.`) whose `.bias` the model adds after them. */
export type BiasedTensor =
  | 'attn_q' | 'attn_k' | 'attn_v' | 'attn_qkv' | 'attn_output'
  | 'ffn_gate' | 'ffn_up' | 'ffn_down' | 'attn_norm' | 'ffn_norm' | 'output_norm' | 'output'
  | 'attn_output_norm' | 'layer_output_norm' | 'token_embd_norm';

/** How an embedding model turns its token vectors into one (`<arch>.pooling_type`, llama.cpp's enum order). */
export type Pooling = 'none' | 'mean' | 'cls' | 'last' | 'rank';
export const POOLING_TYPES: readonly Pooling[] = ['none', 'mean', 'cls', 'last', 'rank'];

/**
 * BERT's layout: the embedding gets row 0 of `token_types` (every token is "sentence A", as in llama.cpp) and a
 * LayerNorm (`token_embd_norm`); each sub-block's output is added to its input and then LayerNormed
 * (`attn_output_norm`, `layer_output_norm`) instead of norming its input; there is no output norm or head.
 */
interface EncoderConfig {
  /** Rows of `token_types.weight` (0: the file has none). */
  tokenTypes: number;
}

export interface ModelConfig {
  architecture: string;
  name: string;
  /** Context length the model was trained/converted with (n_ctx_train). */
  contextLength: number;
  /** Model width (dim, n_embd). */
  embeddingLength: number;
  /** Number of transformer layers. */
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  headCountKv: number;
  headDim: number;
  vocabSize: number;

  /** 'rms': x/rms(x)·w; 'layer': (x − mean)/std·w + b (GPT-2). */
  norm: 'rms' | 'layer';
  normEps: number;
  /** 'swiglu': silu(gate)·up; 'geglu': gelu(gate)·up (Gemma); 'gelu': gelu(up), no gate (GPT-2). */
  feedForward: 'swiglu' | 'geglu' | 'gelu';
  /** The file stores Q, K and V as one `attn_qkv` matrix (the loader splits it). */
  fusedQkv: boolean;
  /** The file stores gate and up as one `ffn_up` of 2·ffn rows, gate first (Phi-3; the loader splits it). */
  fusedGateUp: boolean;
  /** Which projections and norms have a bias. */
  biases: BiasedTensor[];
  /** Per-head RMS norm of q and k before rope (`attn_q_norm`, `attn_k_norm`: Qwen3, Gemma 3). */
  qkNorm: boolean;
  /** RMS norm of each sub-block's output before its residual add (`post_attention_norm`, `post_ffw_norm`: Gemma). */
  postNorms: boolean;
  /** The token embedding is multiplied by this (Gemma: √dim; 1 = none). */
  embeddingScale: number;
  /** Learned absolute positions are added to the embedding (`position_embd`, GPT-2). */
  positionEmbedding: boolean;
  /** Rope of the full-attention layers; null when the model has no rotary embedding (GPT-2). */
  rope: RopeConfig | null;
  /** null when every layer sees the whole context. */
  slidingWindow: SlidingWindowConfig | null;
  /** Multiplies q·k before the softmax (usually 1/√headDim). */
  attentionScale: number;
  /** > 0: attention scores are soft-capped, s → cap·tanh(s/cap) (Gemma 2); 0 = none. */
  attentionSoftcap: number;
  /** > 0: the output logits are soft-capped the same way (Gemma 2); 0 = none. */
  finalSoftcap: number;
  /** True when there is no output.weight and the token embedding doubles as the output matrix. */
  tiedEmbeddings: boolean;
  /** false: each token sees its whole input (BERT; `<arch>.attention.causal`); undefined means true. */
  causal?: boolean;
  /** The file's `<arch>.pooling_type`; undefined where it names none (a language model). */
  pooling?: Pooling;
  /** BERT's post-norm layout; undefined for the decoder layout. */
  encoder?: EncoderConfig;
}
