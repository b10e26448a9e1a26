// Hugging Face tensor names → llama.cpp's GGUF tensor names, with the data transformations
// convert_hf_to_gguf.py applies on the way (each is exact: a reordering, or +1 as the converter computes it):
// - Llama/Mistral q_proj/k_proj rows are permuted from HF's rotate-half layout to ggml's interleaved rope
//   pairs (LlamaModel.permute);
// - Gemma RMSNorm weights w are stored for x·(1 + w): the converter adds 1 (Gemma2Model/Gemma3Model);
// - GPT-2's Conv1D weights are stored [in, out]: transposed to [out, in] (GPT2Model);
// - Gemma 3's embedding rows past the tokenizer's vocabulary are dropped;
// - norms, biases and other vectors, and learned positions, are stored F32.
import type { TranslatedConfig } from './config';

/** How one GGUF tensor is made from one HF tensor. */
export interface TensorPlan {
  /** GGUF name. */
  name: string;
  /** HF name in the safetensors files. */
  hfName: string;
  /** Reorder rows for the rope layout: q (n_head groups) or k (n_kv_head groups). */
  permuteHeads?: number;
  /** Conv1D [in, out] → [out, in]. */
  transpose?: boolean;
  /** Add 1 (Gemma norm weights). */
  addOne?: boolean;
  /** Keep only the first rows (Gemma 3 embedding trimmed to the vocabulary). */
  rows?: number;
  /** Store as F32 whatever the source dtype (vectors, norms, positions). */
  forceF32?: boolean;
}

const LAYER = /^model\.layers\.(\d+)\.(.+)$/;
const GPT2_LAYER = /^h\.(\d+)\.(.+)$/;

/** Per-layer HF suffixes (without .weight/.bias) → GGUF name within `blk.N.`, shared by the Llama-like decoders. */
const DECODER_LAYER: Record<string, string> = {
  'input_layernorm': 'attn_norm',
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.qkv_proj': 'attn_qkv',
  'self_attn.o_proj': 'attn_output',
  'self_attn.q_norm': 'attn_q_norm',
  'self_attn.k_norm': 'attn_k_norm',
  'post_attention_layernorm': 'ffn_norm',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.gate_up_proj': 'ffn_up', // Phi-3: [gate; up], as GGUF keeps it
  'mlp.down_proj': 'ffn_down',
};

/** Gemma's four norms per layer: the pre-/post- pairs around attention and the feed-forward block. */
const GEMMA_LAYER: Record<string, string> = {
  ...DECODER_LAYER,
  'post_attention_layernorm': 'post_attention_norm',
  'pre_feedforward_layernorm': 'ffn_norm',
  'post_feedforward_layernorm': 'post_ffw_norm',
};

const GPT2_LAYER_NAMES: Record<string, string> = {
  'ln_1': 'attn_norm',
  'attn.c_attn': 'attn_qkv',
  'attn.c_proj': 'attn_output',
  'ln_2': 'ffn_norm',
  'mlp.c_fc': 'ffn_up',
  'mlp.c_proj': 'ffn_down',
};

/**
 * The GGUF tensor for an HF tensor (name, shape as stored), or undefined for tensors the model does not use
 * (vision towers, attention masks, rotary caches, Gemma 2's unused lm_head).
 */
export function planTensor(hfName: string, config: TranslatedConfig, vocabRows?: number): TensorPlan | undefined {
  const arch = config.architecture;
  // Multimodal checkpoints keep the text model under language_model. (filter_tensors in the converter).
  const name = hfName.replace('language_model.', '');
  if (arch === 'gpt2') return planGPT2(name.replace(/^transformer\./, ''), hfName);
  const gemma = arch === 'gemma2' || arch === 'gemma3';
  let plan: TensorPlan | undefined;
  if (name === 'model.embed_tokens.weight') {
    plan = { name: 'token_embd.weight', hfName, rows: arch === 'gemma3' ? vocabRows : undefined };
  } else if (name === 'model.norm.weight') {
    plan = { name: 'output_norm.weight', hfName };
  } else if (name === 'lm_head.weight') {
    if (arch === 'gemma2') return undefined; // llama.cpp never reads it
    plan = { name: 'output.weight', hfName };
  } else {
    const m = LAYER.exec(name);
    const suffix = m && /^(.+)\.(weight|bias)$/.exec(m[2]!);
    const mapped = suffix ? (gemma ? GEMMA_LAYER : DECODER_LAYER)[suffix[1]!] : undefined;
    if (!m || !suffix || !mapped) return undefined;
    plan = { name: `blk.${m[1]}.${mapped}.${suffix[2]}`, hfName };
    if (arch === 'llama' && (mapped === 'attn_q' || mapped === 'attn_k')) {
      const heads = Number(config.metadata.get(mapped === 'attn_q' ? 'llama.attention.head_count' : 'llama.attention.head_count_kv')
        ?? config.metadata.get('llama.attention.head_count'));
      plan.permuteHeads = heads;
    }
  }
  if (gemma && name.endsWith('norm.weight')) plan.addOne = true;
  return plan;
}

function planGPT2(name: string, hfName: string): TensorPlan | undefined {
  const global: Record<string, string> = {
    'wte.weight': 'token_embd.weight', 'wpe.weight': 'position_embd.weight',
    'ln_f.weight': 'output_norm.weight', 'ln_f.bias': 'output_norm.bias', 'lm_head.weight': 'output.weight',
  };
  if (Object.hasOwn(global, name)) return { name: global[name]!, hfName, forceF32: name === 'wpe.weight' };
  const m = GPT2_LAYER.exec(name);
  const suffix = m && /^(.+)\.(weight|bias)$/.exec(m[2]!);
  const mapped = suffix && Object.hasOwn(GPT2_LAYER_NAMES, suffix[1]!) ? GPT2_LAYER_NAMES[suffix[1]!] : undefined;
  if (!m || !suffix || !mapped) return undefined; // e.g. h.N.attn.bias, the causal mask buffer
  const plan: TensorPlan = { name: `blk.${m[1]}.${mapped}.${suffix[2]}`, hfName };
  if (suffix[2] === 'weight' && !mapped.endsWith('norm')) plan.transpose = true;
  return plan;
}

/**
 * ggml order: the row of GGUF row r (0 ≤ r < rows) in the HF tensor, for LlamaModel.permute —
 * w.reshape(n_head, 2, rows/n_head/2, cols).swapaxes(1, 2): within each head, HF's two halves
 * (x[i], x[i + d/2]) become the adjacent pair (x[2i], x[2i+1]) that ggml's rope rotates.
 */
export function permutedSourceRow(r: number, rows: number, heads: number): number {
  const headRows = rows / heads, half = headRows / 2;
  const h = Math.floor(r / headRows), within = r % headRows;
  const i = within >> 1, j = within & 1;
  return h * headRows + j * half + i;
}

/** Reorders the rows of a row-major [rows, rowBytes] byte matrix: out row r = in row source(r). */
export function reorderRows(bytes: Uint8Array, rows: number, source: (r: number) => number): Uint8Array {
  const rowBytes = bytes.byteLength / rows;
  const out = new Uint8Array(bytes.byteLength);
  for (let r = 0; r < rows; r++) {
    const s = source(r);
    out.set(bytes.subarray(s * rowBytes, (s + 1) * rowBytes), r * rowBytes);
  }
  return out;
}

/** Transposes a row-major [rows, cols] matrix of `elementBytes`-byte elements. */
export function transposeBytes(bytes: Uint8Array, rows: number, cols: number, elementBytes: number): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const from = (r * cols + c) * elementBytes, to = (c * rows + r) * elementBytes;
      for (let b = 0; b < elementBytes; b++) out[to + b] = bytes[from + b]!;
    }
  }
  return out;
}
