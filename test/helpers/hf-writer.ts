// Test-only Hugging Face repos: a safetensors writer, and an inverse of llama.cpp's convert_hf_to_gguf.py that
// turns a GGUF (stories260K, the tiny random models) into the repo it would have been converted from: HF
// tensor names and layouts (Llama q/k rows back in HF's rotate-half order, Gemma norms minus 1, GPT-2 Conv1D
// weights [in, out]), config.json, and tokenizer.json / tokenizer_config.json made from the GGUF vocabulary.
// The inverse steps are written from the HF side's own definitions (convert_llama_weights_to_hf's permute,
// Gemma's x·(1 + w), Conv1D's x·W + b), not from Hearth's forward code, so a round trip checks both.
import { readGGUF, readTensorBytes, type GGUFFile, type GGUFValue } from '../../src/model/gguf';
import { MemorySource } from '../../src/io/byte-source';
import { GGMLType } from '../../src/model/ggml-types';
import { halfsToFloats } from '../../src/model/f16';
import { readVocab, TokenType } from '../../src/tokenizer/vocab';
import { tokenizerFromGGUF } from '../../src/tokenizer';
import { deriveSpmMerges, mergeList, spmTokenizerJSON } from '../../src/tokenizer/spm';
import { bpeTokenizerJSON } from '../../src/tokenizer/bpe';
import { f32ToF16 } from '../reference/f16';

export type HFDType = 'F32' | 'F16' | 'BF16';
export interface HFTensor { name: string; dtype: string; shape: number[]; data: Uint8Array }

/** A safetensors file: u64 header length, JSON header (8-byte aligned with spaces), data. */
export function writeSafetensors(tensors: HFTensor[], metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) { out.set(t.data, at); at += t.data.byteLength; }
  return out;
}

/** f32 values in `dtype` (F16 and BF16 round to nearest even, as torch's .to() does). */
export function encodeFloats(x: Float32Array, dtype: HFDType): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  const out = new Uint16Array(x.length);
  const bits = new Uint32Array(Float32Array.from(x).buffer);
  for (let i = 0; i < x.length; i++) {
    if (dtype === 'F16') out[i] = f32ToF16(x[i]!);
    else { const u = bits[i]!; out[i] = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16; }
  }
  return new Uint8Array(out.buffer);
}

export interface RepoOptions {
  dtype?: HFDType;
  /** Split the tensors over this many files with model.safetensors.index.json (default 1: model.safetensors). */
  shards?: number;
  /** tokenizer_config.json fields to add (chat_template, ...). */
  tokenizerConfig?: Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
}

/** Files of the repo by name (JSON files as text). */
export type RepoFiles = Record<string, Uint8Array>;

const text = (s: unknown) => new TextEncoder().encode(typeof s === 'string' ? s : JSON.stringify(s, null, 1));

/** The HF repo a GGUF file would have been converted from. */
export async function ggufToRepo(gguf: Uint8Array, options: RepoOptions = {}): Promise<RepoFiles> {
  const file = await readGGUF(new MemorySource(gguf));
  const arch = String(file.metadata.get('general.architecture'));
  const m = (k: string) => file.metadata.get(`${arch}.${k}`) as number | string | undefined;
  const heads = Number(m('attention.head_count')), kvHeads = Number(m('attention.head_count_kv') ?? heads);
  const dtype = options.dtype ?? 'F32';
  const tensors: HFTensor[] = [];
  for (const t of file.tensors) {
    if (t.name === 'rope_freqs.weight' || t.name.startsWith('rope_factors_')) continue; // come from config.json
    let values = await floatsOf(file, t.name, t.type);
    let shape = [...t.dims].reverse(); // ggml [cols, rows] → row-major [rows, cols]
    const hfName = hfTensorName(arch, t.name);
    if (arch === 'llama' && /attn_[qk]\.(weight|bias)$/.test(t.name)) values = toRotateHalf(values, shape[0]!, t.name.includes('attn_q') ? heads : kvHeads);
    if (arch.startsWith('gemma') && t.name.endsWith('norm.weight')) values = values.map((x) => x - 1);
    if (arch === 'gpt2' && /(attn_qkv|attn_output|ffn_up|ffn_down)\.weight$/.test(t.name)) {
      values = transpose(values, shape[0]!, shape[1]!);
      shape = [shape[1]!, shape[0]!];
    }
    tensors.push({ name: hfName, dtype, shape, data: encodeFloats(values, dtype) });
  }
  const files: RepoFiles = {};
  const shards = options.shards ?? 1;
  if (shards === 1) {
    files['model.safetensors'] = writeSafetensors(tensors);
  } else {
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < shards; s++) {
      const part = tensors.filter((_, i) => i % shards === s);
      const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      files[name] = writeSafetensors(part);
      for (const t of part) weightMap[t.name] = name;
    }
    files['model.safetensors.index.json'] = text({ metadata: { total_size: tensors.reduce((a, t) => a + t.data.byteLength, 0) }, weight_map: weightMap });
  }
  await preloadFactors(file);
  files['config.json'] = text(hfConfig(file, arch, dtype));
  const { tokenizerJSON, tokenizerConfig } = hfTokenizerFiles(file.metadata);
  files['tokenizer.json'] = text(tokenizerJSON);
  files['tokenizer_config.json'] = text({ ...tokenizerConfig, ...options.tokenizerConfig });
  if (options.generationConfig) files['generation_config.json'] = text(options.generationConfig);
  return files;
}

async function floatsOf(file: GGUFFile, name: string, type: number): Promise<Float32Array> {
  const bytes = (await readTensorBytes(file, name)).slice();
  if (type === GGMLType.F32) return new Float32Array(bytes.buffer);
  if (type === GGMLType.F16) return halfsToFloats(bytes);
  throw new Error(`hf-writer: tensor ${name} has ggml type ${type}; give an F32 or F16 GGUF`);
}

/**
 * HF's layout of q/k rows from Meta's (= GGUF's): transformers' convert_llama_weights_to_hf permute,
 * w.view(n_heads, dim1 / n_heads / 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2).
 */
function toRotateHalf(w: Float32Array, rows: number, heads: number): Float32Array {
  const cols = w.length / rows, half = rows / heads / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * half * 2 + i * 2 + j) * cols; // view index [h, i, j]
        const to = (h * 2 * half + j * half + i) * cols; // after transpose(1, 2): [h, j, i]
        out.set(w.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

const LAYER_NAMES: Record<string, string> = {
  attn_norm: 'input_layernorm', attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj', attn_v: 'self_attn.v_proj',
  attn_qkv: 'self_attn.qkv_proj', attn_output: 'self_attn.o_proj', attn_q_norm: 'self_attn.q_norm', attn_k_norm: 'self_attn.k_norm',
  ffn_norm: 'post_attention_layernorm', ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj',
};
const GEMMA_NAMES: Record<string, string> = {
  ...LAYER_NAMES, post_attention_norm: 'post_attention_layernorm', ffn_norm: 'pre_feedforward_layernorm', post_ffw_norm: 'post_feedforward_layernorm',
};
const GPT2_NAMES: Record<string, string> = {
  attn_norm: 'ln_1', attn_qkv: 'attn.c_attn', attn_output: 'attn.c_proj', ffn_norm: 'ln_2', ffn_up: 'mlp.c_fc', ffn_down: 'mlp.c_proj',
};

export function hfTensorName(arch: string, gguf: string): string {
  const global: Record<string, string> = arch === 'gpt2'
    ? { 'token_embd.weight': 'wte.weight', 'position_embd.weight': 'wpe.weight', 'output_norm.weight': 'ln_f.weight', 'output_norm.bias': 'ln_f.bias', 'output.weight': 'lm_head.weight' }
    : { 'token_embd.weight': 'model.embed_tokens.weight', 'output_norm.weight': 'model.norm.weight', 'output.weight': 'lm_head.weight' };
  if (global[gguf]) return global[gguf]!;
  const m = /^blk\.(\d+)\.(\w+)\.(weight|bias)$/.exec(gguf);
  if (!m) throw new Error(`hf-writer: no HF name for ${gguf}`);
  if (arch === 'phi3' && m[2] === 'ffn_up') return `model.layers.${m[1]}.mlp.gate_up_proj.${m[3]}`;
  const names = arch === 'gpt2' ? GPT2_NAMES : arch.startsWith('gemma') ? GEMMA_NAMES : LAYER_NAMES;
  const part = names[m[2]!];
  if (!part) throw new Error(`hf-writer: no HF name for ${gguf}`);
  return arch === 'gpt2' ? `h.${m[1]}.${part}.${m[3]}` : `model.layers.${m[1]}.${part}.${m[3]}`;
}

const HF_CLASS: Record<string, string> = {
  llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM', phi3: 'Phi3ForCausalLM',
  gemma2: 'Gemma2ForCausalLM', gemma3: 'Gemma3ForCausalLM', gpt2: 'GPT2LMHeadModel',
};

/** config.json with the hyperparameters of the GGUF metadata, in each model class's own key names. */
function hfConfig(file: GGUFFile, arch: string, dtype: HFDType): Record<string, unknown> {
  const m = (k: string) => file.metadata.get(`${arch}.${k}`) as number | string | boolean[] | undefined;
  const num = (k: string) => m(k) as number | undefined;
  const dim = num('embedding_length')!, heads = num('attention.head_count')!;
  const vocab = file.tensorsByName.get('token_embd.weight')!.dims[1]!;
  const tied = !file.tensorsByName.has('output.weight');
  const torchDtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype];
  const ids = { bos_token_id: file.metadata.get('tokenizer.ggml.bos_token_id'), eos_token_id: file.metadata.get('tokenizer.ggml.eos_token_id') };
  if (arch === 'gpt2') {
    return {
      architectures: [HF_CLASS[arch]], model_type: 'gpt2', n_ctx: num('context_length'), n_positions: num('context_length'), n_embd: dim,
      n_layer: num('block_count'), n_head: heads, n_inner: num('feed_forward_length') === 4 * dim ? null : num('feed_forward_length'), layer_norm_epsilon: num('attention.layer_norm_epsilon'),
      vocab_size: vocab, activation_function: 'gelu_new', tie_word_embeddings: tied, torch_dtype: torchDtype, ...ids,
    };
  }
  const config: Record<string, unknown> = {
    architectures: [HF_CLASS[arch]], model_type: arch, hidden_size: dim, intermediate_size: num('feed_forward_length'),
    num_hidden_layers: num('block_count'), num_attention_heads: heads, num_key_value_heads: num('attention.head_count_kv') ?? heads,
    max_position_embeddings: num('context_length'), rms_norm_eps: num('attention.layer_norm_rms_epsilon'),
    rope_theta: num('rope.freq_base') ?? 10000, vocab_size: vocab, tie_word_embeddings: tied, torch_dtype: torchDtype, ...ids,
  };
  const keyLength = num('attention.key_length');
  if (keyLength !== undefined) config.head_dim = keyLength;
  const scaling = m('rope.scaling.type');
  if (scaling === 'linear') config.rope_scaling = { rope_type: 'linear', factor: num('rope.scaling.factor') };
  if (file.tensorsByName.has('rope_freqs.weight')) {
    // tiny-models' llama3RopeFactors(…, factor 8, low 1, high 4, original context 32)
    config.rope_scaling = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 };
  }
  if (arch === 'phi3') {
    config.original_max_position_embeddings = num('rope.scaling.original_context_length') ?? num('context_length');
    if (file.tensorsByName.has('rope_factors_long.weight')) {
      const factors = (n: string) => Array.from(readFactors(file, n));
      config.rope_scaling = { type: 'longrope', long_factor: factors('rope_factors_long.weight'), short_factor: factors('rope_factors_short.weight') };
    }
  }
  if (arch.startsWith('gemma')) {
    config.query_pre_attn_scalar = keyLength;
    config.sliding_window = num('attention.sliding_window');
    if (arch === 'gemma2') {
      config.attn_logit_softcapping = num('attn_logit_softcapping') ?? 50;
      config.final_logit_softcapping = num('final_logit_softcapping') ?? 30;
    } else {
      config.final_logit_softcapping = num('final_logit_softcapping') ?? null;
      config.sliding_window_pattern = num('attention.sliding_window_pattern') ?? 6;
      config.rope_local_base_freq = num('rope.freq_base_swa') ?? 10000;
      if (scaling === 'linear') config.rope_scaling = { rope_type: 'linear', factor: num('rope.scaling.factor') };
    }
  }
  return config;
}

const factorCache = new WeakMap<GGUFFile, Map<string, Float32Array>>();
/** Rope factor tensors are read before hfConfig runs (see preloadFactors). */
function readFactors(file: GGUFFile, name: string): Float32Array {
  const f = factorCache.get(file)?.get(name);
  if (!f) throw new Error(`hf-writer: ${name} was not preloaded`);
  return f;
}

/** tokenizer.json / tokenizer_config.json for the GGUF's vocabulary (control tokens as special added tokens). */
export function hfTokenizerFiles(metadata: Map<string, GGUFValue>): { tokenizerJSON: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const vocab = readVocab(metadata);
  const json = vocab.model === 'llama' ? spmTokenizerJSON(vocab, mergeList(deriveSpmMerges(vocab))) : bpeTokenizerJSON(vocab);
  const controls = Array.from(vocab.types.keys()).filter((id) => vocab.types[id] === TokenType.CONTROL || vocab.types[id] === TokenType.UNKNOWN);
  const added = (json.added_tokens as Record<string, unknown>[]) ?? [];
  for (const id of controls) added.push({ id, content: vocab.tokens[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  added.sort((a, b) => (a.id as number) - (b.id as number));
  const addBos = tokenizerFromGGUF(metadata).encode('').length > 0; // the GGUF tokenizer's add_bos, defaults included
  const bos = vocab.bosId !== undefined ? vocab.tokens[vocab.bosId] : undefined;
  if (addBos && bos !== undefined) {
    json.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [vocab.bosId], tokens: [bos] } },
    };
  }
  const token = (id: number | undefined) => (id === undefined ? null : { __type: 'AddedToken', content: vocab.tokens[id], lstrip: false, normalized: false, rstrip: false, single_word: false });
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: vocab.model === 'llama' ? 'LlamaTokenizer' : 'GPT2Tokenizer',
    bos_token: token(vocab.bosId), eos_token: token(vocab.eosId), unk_token: token(vocab.unkId),
    clean_up_tokenization_spaces: false, legacy: true, model_max_length: 1000000000000000019884624838656,
  };
  const template = metadata.get('tokenizer.chat_template');
  if (typeof template === 'string') tokenizerConfig.chat_template = template;
  return { tokenizerJSON: json, tokenizerConfig };
}

/** Reads the rope factor tensors that hfConfig (synchronous) writes into config.json. */
async function preloadFactors(file: GGUFFile): Promise<void> {
  const map = new Map<string, Float32Array>();
  for (const t of file.tensors) if (t.name.startsWith('rope_factors_')) map.set(t.name, await floatsOf(file, t.name, t.type));
  factorCache.set(file, map);
}

