// config.json of a Hugging Face model → the GGUF metadata llama.cpp's convert_hf_to_gguf.py writes for it
// (`<arch>.embedding_length`, rope keys, sliding window, soft-caps, ...), so the GGUF architecture readers
// (src/model/arch/) build the ModelConfig exactly as they do for a converted file. Per architecture this
// follows the converter's set_gguf_parameters (TextModel's for Llama/Qwen/Gemma 3, the model's own for
// Gemma 2, Phi-3 and GPT-2) and its generate_extra_tensors (Llama 3 rope factors, Phi-3 LongRoPE factors).
import { FormatError, UnsupportedError } from '../../errors';
import type { GGUFValue } from '../gguf';
import { isPlainObject } from '../safetensors';

type Json = Record<string, unknown>;

/** HF `architectures[0]` → llama.cpp architecture. */
const HF_ARCHITECTURES: Readonly<Record<string, string>> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Phi3ForCausalLM: 'phi3',
  Gemma2ForCausalLM: 'gemma2',
  Gemma3ForCausalLM: 'gemma3',
  Gemma3ForConditionalGeneration: 'gemma3', // the text model; vision tensors are left out
  GPT2LMHeadModel: 'gpt2',
};
const SUPPORTED_HF_ARCHITECTURES: readonly string[] = Object.keys(HF_ARCHITECTURES);

/** Extra F32 tensors the converter generates from config.json. */
interface GeneratedTensor { name: string; data: Float32Array }

export interface TranslatedConfig {
  /** HF class name, e.g. 'LlamaForCausalLM'. */
  hfArchitecture: string;
  /** llama.cpp architecture, e.g. 'llama'. */
  architecture: string;
  /** config.json with a nested text_config merged in, as the converter reads it. */
  hparams: Json;
  metadata: Map<string, GGUFValue>;
  generated: GeneratedTensor[];
  /** 1/√query_pre_attn_scalar (Gemma), which GGUF has no key for; undefined = the reader's choice. */
  attentionScale?: number;
}

/** Reads config.json (already parsed). `where` names the file in errors. */
export function translateConfig(config: unknown, where: string): TranslatedConfig {
  if (!isPlainObject(config)) throw new FormatError(`${where}: config.json is not a JSON object`);
  const archs = config.architectures;
  const hfArchitecture = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined;
  if (hfArchitecture === undefined) throw new FormatError(`${where}: config.json has no "architectures" list naming the model class`);
  const architecture = Object.hasOwn(HF_ARCHITECTURES, hfArchitecture) ? HF_ARCHITECTURES[hfArchitecture]! : undefined;
  if (!architecture) {
    throw new UnsupportedError(`${where}: architecture '${hfArchitecture}' is not supported yet; supported: ${SUPPORTED_HF_ARCHITECTURES.join(', ')}`);
  }
  const hparams: Json = isPlainObject(config.text_config) ? { ...config, ...config.text_config } : { ...config };
  const p = new Params(hparams, where);
  const out: TranslatedConfig = { hfArchitecture, architecture, hparams, metadata: new Map(), generated: [] };
  const meta = (key: string, value: GGUFValue | undefined) => {
    if (value === undefined) return;
    // GGUF stores these floats as FLOAT32 (the converter's add_float32): the readers see them rounded so.
    const stored = typeof value === 'number' && !Number.isInteger(value) ? Math.fround(value) : value;
    out.metadata.set(key.startsWith('general.') ? key : `${architecture}.${key}`, stored);
  };
  meta('general.architecture', architecture);
  const name = p.string('_name_or_path');
  if (name) meta('general.name', name.split('/').pop()!);

  const rope = ropeParameters(p);
  if (architecture === 'gpt2') {
    meta('block_count', p.required(['n_layer', 'num_hidden_layers']));
    meta('context_length', p.required(['n_ctx', 'n_positions']));
    const nEmbd = p.required(['n_embd', 'hidden_size']);
    meta('embedding_length', nEmbd);
    // HF's MLP width: n_inner, or 4·n_embd when null (the converter always writes 4·n_embd, which is wrong for the rare n_inner ≠ null).
    meta('feed_forward_length', p.number(['n_inner']) ?? 4 * nEmbd);
    meta('attention.head_count', p.required(['n_head', 'num_attention_heads']));
    meta('attention.layer_norm_epsilon', p.required(['layer_norm_epsilon', 'layer_norm_eps']));
  } else if (architecture === 'gemma2') {
    meta('context_length', p.required(['max_position_embeddings']));
    meta('embedding_length', p.required(['hidden_size']));
    meta('block_count', p.required(['num_hidden_layers']));
    meta('feed_forward_length', p.required(['intermediate_size']));
    const heads = p.required(['num_attention_heads']);
    meta('attention.head_count', heads);
    meta('attention.head_count_kv', p.number(['num_key_value_heads']) ?? heads);
    meta('attention.layer_norm_rms_epsilon', p.required(['rms_norm_eps']));
    meta('attention.key_length', p.required(['head_dim']));
    meta('attention.value_length', p.required(['head_dim']));
    // HF's null means "no cap"; GGUF's 0 says the same to the reader.
    meta('attn_logit_softcapping', p.number(['attn_logit_softcapping']) ?? 0);
    meta('final_logit_softcapping', p.number(['final_logit_softcapping']) ?? 0);
    meta('attention.sliding_window', p.required(['sliding_window']));
    out.attentionScale = queryPreAttnScale(p);
  } else if (architecture === 'phi3') {
    const nEmbd = p.required(['hidden_size', 'n_embd']);
    const heads = p.required(['num_attention_heads', 'n_head']);
    const contextLength = p.required(['n_positions', 'max_position_embeddings']);
    const original = p.number(['original_max_position_embeddings']) ?? (typeof rope.original_max_position_embeddings === 'number' ? rope.original_max_position_embeddings : contextLength);
    const ropeDims = Math.floor(Math.trunc((p.number(['partial_rotary_factor']) ?? 1) * nEmbd) / heads);
    meta('context_length', contextLength);
    meta('rope.scaling.original_context_length', original);
    meta('embedding_length', nEmbd);
    meta('feed_forward_length', p.required(['intermediate_size']));
    meta('block_count', p.required(['num_hidden_layers']));
    meta('attention.head_count', heads);
    meta('attention.head_count_kv', p.required(['num_key_value_heads', 'n_head_kv']));
    meta('attention.layer_norm_rms_epsilon', p.required(['rms_norm_eps']));
    meta('rope.dimension_count', ropeDims);
    meta('rope.freq_base', p.number(['rope_theta']) ?? numberIn(rope, 'rope_theta') ?? 10000);
    meta('attention.sliding_window', p.number(['sliding_window']) ?? 0);
    longRope(p, rope, contextLength, original, ropeDims, out, meta);
  } else {
    textModelParameters(p, rope, meta);
    if (architecture === 'llama') {
      meta('vocab_size', p.required(['vocab_size']));
      meta('rope.dimension_count', p.number(['head_dim']) ?? Math.floor(p.required(['hidden_size']) / p.required(['num_attention_heads'])));
      const llama3 = llama3RopeFactors(p, rope);
      if (llama3) out.generated.push({ name: 'rope_freqs.weight', data: llama3 });
    }
    if (architecture === 'gemma3') gemma3Parameters(p, rope, meta, out);
  }
  return out;
}

/** rope_parameters (transformers ≥ 5) or rope_scaling, the full-attention part, with rope_theta mirrored in. */
function ropeParameters(p: Params): Json {
  const raw = p.object('rope_parameters') ?? p.object('rope_scaling') ?? {};
  const full = isPlainObject(raw.full_attention) ? raw.full_attention : raw;
  const rope: Json = { ...full };
  if (rope.rope_type === undefined && typeof rope.type === 'string') rope.rope_type = rope.type;
  rope.rope_theta ??= p.number(['global_rope_theta', 'rope_global_theta', 'rope_theta_global', 'rope_theta', 'rotary_emb_base']);
  rope.original_max_position_embeddings ??= p.number(['original_max_position_embeddings']);
  const local = isPlainObject(raw.sliding_attention) ? numberIn(raw.sliding_attention, 'rope_theta')
    : p.number(['local_rope_theta', 'rope_local_theta', 'rope_theta_local', 'swa_rope_theta', 'rope_local_base_freq']);
  if (local !== undefined) rope.local_rope_theta = local;
  return rope;
}

/** TextModel.set_gguf_parameters: the keys every "standard" decoder gets. */
function textModelParameters(p: Params, rope: Json, meta: (key: string, value: GGUFValue | undefined) => void): void {
  meta('block_count', p.required(['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers']));
  meta('context_length', p.number(['max_position_embeddings', 'n_ctx', 'n_positions', 'max_length', 'max_sequence_length', 'model_max_length']));
  meta('embedding_length', p.number(['hidden_size', 'n_embd', 'dim']));
  meta('feed_forward_length', p.number(['prefix_dense_intermediate_size', 'dense_intermediate_size', 'intermediate_size', 'n_inner', 'hidden_dim']));
  meta('attention.head_count', p.number(['num_attention_heads', 'n_head', 'n_heads']));
  meta('attention.head_count_kv', p.number(['num_key_value_heads', 'n_kv_heads']));
  const type = typeof rope.rope_type === 'string' ? rope.rope_type.toLowerCase() : undefined;
  const factor = numberIn(rope, 'factor');
  if (type === 'linear' && factor !== undefined) {
    meta('rope.scaling.type', 'linear');
    meta('rope.scaling.factor', factor);
  } else if (type === 'yarn' && factor !== undefined) {
    meta('rope.scaling.type', 'yarn');
    meta('rope.scaling.factor', factor);
  } else if (type === 'su' || type === 'longrope') {
    meta('rope.scaling.type', 'longrope');
  }
  meta('rope.freq_base', numberIn(rope, 'rope_theta'));
  meta('rope.freq_base_swa', numberIn(rope, 'local_rope_theta'));
  meta('attention.layer_norm_rms_epsilon', p.number(['rms_norm_eps', 'norm_eps']));
  meta('attention.layer_norm_epsilon', p.number(['layer_norm_eps', 'layer_norm_epsilon', 'norm_epsilon']));
  const headDim = p.number(['head_dim']);
  meta('attention.key_length', headDim);
  meta('attention.value_length', headDim);
}

/** Gemma3Model.set_gguf_parameters on top of TextModel's, plus the window pattern HF states per layer. */
function gemma3Parameters(p: Params, rope: Json, meta: (key: string, value: GGUFValue | undefined) => void, out: TranslatedConfig): void {
  meta('context_length', p.number(['max_position_embeddings']) ?? 131072);
  meta('attention.head_count', p.number(['num_attention_heads']) ?? 8);
  meta('attention.layer_norm_rms_epsilon', p.number(['rms_norm_eps']) ?? 1e-6);
  meta('attention.key_length', p.number(['head_dim']) ?? 256);
  meta('attention.value_length', p.number(['head_dim']) ?? 256);
  meta('rope.freq_base', numberIn(rope, 'rope_theta') ?? 1_000_000);
  const finalCap = p.number(['final_logit_softcapping']);
  if (finalCap) meta('final_logit_softcapping', finalCap);
  const pattern = p.number(['sliding_window_pattern']);
  if (pattern !== 1) meta('attention.sliding_window', p.required(['sliding_window']));
  meta('attention.head_count_kv', p.number(['num_key_value_heads']) ?? 4);
  const layerTypes = p.hparams.layer_types;
  if (Array.isArray(layerTypes)) {
    meta('attention.sliding_window_pattern', layerTypes.map((t) => t === 'sliding_attention'));
  } else if (pattern !== undefined) {
    meta('attention.sliding_window_pattern', pattern);
  }
  out.attentionScale = queryPreAttnScale(p);
}

/** Gemma scales queries by query_pre_attn_scalar^−½ (HF's definition; llama.cpp derives the same value from the model size). */
function queryPreAttnScale(p: Params): number | undefined {
  const s = p.number(['query_pre_attn_scalar']);
  if (s === undefined) return undefined;
  if (!(s > 0)) throw new FormatError(`${p.where}: query_pre_attn_scalar is ${s}; it must be positive`);
  return Math.fround(1 / Math.fround(Math.sqrt(s)));
}

/** LlamaModel.generate_extra_tensors: Llama 3's per-frequency rope factors, in f32 like torch computes them. */
function llama3RopeFactors(p: Params, rope: Json): Float32Array | undefined {
  if (typeof rope.rope_type !== 'string' || rope.rope_type.toLowerCase() !== 'llama3') return undefined;
  const base = numberIn(rope, 'rope_theta') ?? 10000;
  const dim = p.number(['head_dim']) ?? Math.floor(p.required(['hidden_size']) / p.required(['num_attention_heads']));
  const factor = numberIn(rope, 'factor') ?? 8;
  const low = numberIn(rope, 'low_freq_factor') ?? 1;
  const high = numberIn(rope, 'high_freq_factor') ?? 4;
  const oldContext = numberIn(rope, 'original_max_position_embeddings') ?? 8192;
  const lowWavelen = oldContext / low, highWavelen = oldContext / high;
  // torch evaluates these on f32 tensors: round after every step.
  const f = Math.fround;
  return Float32Array.from({ length: dim / 2 }, (_, i) => {
    const freq = f(1 / f(f(base) ** f((2 * i) / dim)));
    const wavelen = f(f(2 * Math.PI) / freq);
    if (wavelen < highWavelen) return 1;
    if (wavelen > lowWavelen) return factor;
    const smooth = f(f(f(oldContext / wavelen) - low) / (high - low));
    return f(1 / f(f(f(1 - smooth) / factor) + smooth));
  });
}

/** Phi3MiniModel.generate_extra_tensors: LongRoPE long/short factors and the attention factor. */
function longRope(p: Params, rope: Json, contextLength: number, original: number, ropeDims: number, out: TranslatedConfig,
  meta: (key: string, value: GGUFValue | undefined) => void): void {
  const long = rope.long_factor, short = rope.short_factor;
  if (!Array.isArray(long) || long.length === 0) return;
  const type = typeof rope.rope_type === 'string' ? rope.rope_type.toLowerCase() : '';
  if (type !== 'su' && type !== 'longrope') throw new UnsupportedError(`${p.where}: rope scaling '${type || '?'}' with long/short factors is not supported (only LongRoPE)`);
  if (!Array.isArray(short) || short.length !== long.length || long.length !== ropeDims / 2 || ![...long, ...short].every((x) => typeof x === 'number')) {
    throw new FormatError(`${p.where}: rope long_factor and short_factor must be ${ropeDims / 2} numbers each`);
  }
  const scale = contextLength / original;
  meta('rope.scaling.type', 'longrope'); // what Hearth's reader keys LongRoPE on (llama.cpp looks for the tensors)
  meta('rope.scaling.attn_factor', scale > 1 ? Math.sqrt(1 + Math.log(scale) / Math.log(original)) : 1);
  out.generated.push({ name: 'rope_factors_long.weight', data: Float32Array.from(long as number[]) });
  out.generated.push({ name: 'rope_factors_short.weight', data: Float32Array.from(short as number[]) });
}

function numberIn(o: unknown, key: string): number | undefined {
  const v = isPlainObject(o) ? o[key] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** find_hparam: the first of several spellings a config uses; type errors name the key. */
class Params {
  constructor(readonly hparams: Json, readonly where: string) {}

  number(keys: string[]): number | undefined {
    for (const k of keys) {
      const v = this.hparams[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(`${this.where}: config.json "${k}" should be a number but is ${JSON.stringify(v)?.slice(0, 60)}`);
      return v;
    }
    return undefined;
  }

  required(keys: string[]): number {
    const v = this.number(keys);
    if (v === undefined) throw new FormatError(`${this.where}: config.json lacks "${keys[0]}"${keys.length > 1 ? ` (or ${keys.slice(1).join(', ')})` : ''}`);
    return v;
  }

  string(key: string): string | undefined {
    const v = this.hparams[key];
    return typeof v === 'string' ? v : undefined;
  }

  object(key: string): Json | undefined {
    const v = this.hparams[key];
    return isPlainObject(v) ? v : undefined;
  }
}
