// Tiny random-weight GGUF models of every architecture Hearth runs, written the way llama.cpp's converter
// lays them out (tensor names, fused tensors, metadata keys), for checks against llama.cpp itself.
//
// Weights use a "scaled" initialisation like tinyLlamaSpec's: norm weights 1 ± 0.1 (Gemma's converted
// weights also sit around 1, the +1 is baked in), matrices with std 1/√fan-in so activations stay unit
// scale and logits spread with std ≈ 1, embeddings with std 1/√dim (so a tied output matrix also gives
// logits of std ≈ 1), biases with std 0.3 so they visibly matter. SentencePiece architectures get tinyLlamaSpec's byte-fallback
// vocabulary; GPT-2 gets a small byte-level BPE vocabulary with real GPT-2 merges.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GGMLType } from '../../src/model/ggml-types';
import { f32, tinyLlamaSpec, u32, writeGGUF, type GGUFSpec, type MetaValue, type TensorSpec } from './gguf-writer';
import { compareWithLlamaCpp, formatReport, type CompareReport } from './llama-cpp';
import { seededRng } from './seeded';

export type TinyArch = 'llama' | 'qwen2' | 'qwen3' | 'phi3' | 'gemma2' | 'gemma3' | 'gpt2';

export interface TinyModelOptions {
  dim?: number; layers?: number; heads?: number; kvHeads?: number; ff?: number; vocab?: number;
  contextLength?: number; seed?: number;
  /** Write output.weight (default: tied, i.e. no output.weight, where the architecture allows it). */
  untied?: boolean;
  /** Extra or overriding metadata entries (value undefined removes a key). */
  metadata?: Record<string, MetaValue | undefined>;
  /** Extra tensors (e.g. rope factors), F32. */
  extraTensors?: { name: string; data: Float32Array }[];
}

/** What each architecture's file contains, as llama.cpp's converter writes it. */
interface Layout {
  rope: boolean;
  fusedQkv: boolean;
  qkvBias: boolean;
  qkNorm: boolean;
  fusedGateUp: boolean;
  gated: boolean;
  postNorms: boolean;
  layerNorm: boolean; // GPT-2: norms and every projection have biases
  positions: boolean;
  tiedOnly: boolean; // Gemma 2 never reads output.weight
}

const LAYOUTS: Record<TinyArch, Layout> = {
  llama: { rope: true, fusedQkv: false, qkvBias: false, qkNorm: false, fusedGateUp: false, gated: true, postNorms: false, layerNorm: false, positions: false, tiedOnly: false },
  qwen2: { rope: true, fusedQkv: false, qkvBias: true, qkNorm: false, fusedGateUp: false, gated: true, postNorms: false, layerNorm: false, positions: false, tiedOnly: false },
  qwen3: { rope: true, fusedQkv: false, qkvBias: false, qkNorm: true, fusedGateUp: false, gated: true, postNorms: false, layerNorm: false, positions: false, tiedOnly: false },
  phi3: { rope: true, fusedQkv: true, qkvBias: false, qkNorm: false, fusedGateUp: true, gated: true, postNorms: false, layerNorm: false, positions: false, tiedOnly: false },
  gemma2: { rope: true, fusedQkv: false, qkvBias: false, qkNorm: false, fusedGateUp: false, gated: true, postNorms: true, layerNorm: false, positions: false, tiedOnly: true },
  gemma3: { rope: true, fusedQkv: false, qkvBias: false, qkNorm: true, fusedGateUp: false, gated: true, postNorms: true, layerNorm: false, positions: false, tiedOnly: false },
  gpt2: { rope: false, fusedQkv: true, qkvBias: true, qkNorm: false, fusedGateUp: false, gated: false, postNorms: false, layerNorm: true, positions: true, tiedOnly: false },
};

/** Architectures whose real GGUF files say tokenizer.ggml.add_bos_token = false. */
export const NO_BOS: readonly TinyArch[] = ['qwen2', 'qwen3', 'gpt2'];

/**
 * Gemma's post-norms set the size of each block's contribution to the residual. At 1 the √dim-scaled input
 * embedding stays as large as the blocks' output and a tied head just repeats the input token; at 4 the
 * blocks dominate, as in the real models (whose post-norm weights are larger still).
 */
const POST_NORM_GAIN = 4;

/** A tiny random model of `arch` (F32). Defaults: dim 256, 2 layers, 4 heads (head dim 64), 2 KV heads, ffn 768, vocab 320. */
export function tinyModelSpec(arch: TinyArch, o: TinyModelOptions = {}): GGUFSpec {
  const L = LAYOUTS[arch];
  const dim = o.dim ?? 256, layers = o.layers ?? 2, heads = o.heads ?? 4, ff = o.ff ?? 768;
  const kvHeads = o.kvHeads ?? (arch === 'gpt2' ? heads : 2); // llama.cpp's gpt2 graph has no GQA
  const headDim = dim / heads, q = heads * headDim, kv = kvHeads * headDim;
  const ctx = o.contextLength ?? 64;
  const rng = seededRng(o.seed ?? 1);
  const normal = (n: number, std: number) => Float32Array.from({ length: n }, () => {
    // Box–Muller: a bell shape gives a clearer top-1 than uniform noise.
    const u = 1 - rng(), v = rng();
    return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });

  const vocabMeta = arch === 'gpt2' ? gpt2Vocabulary(o.vocab) : spmVocabulary(o.vocab ?? 320);
  const vocab = (vocabMeta['tokenizer.ggml.tokens'] as string[]).length;
  const meta: Record<string, MetaValue | undefined> = {
    'general.architecture': arch,
    // Not 'tiny-phi3': llama.cpp gives vocabularies of models named *phi3* special handling that needs Phi-3's tokens.
    'general.name': 'tiny random model',
    [`${arch}.context_length`]: u32(ctx),
    [`${arch}.embedding_length`]: u32(dim),
    [`${arch}.block_count`]: u32(layers),
    [`${arch}.feed_forward_length`]: u32(ff),
    [`${arch}.attention.head_count`]: u32(heads),
    [`${arch}.attention.head_count_kv`]: u32(kvHeads),
    ...(L.rope ? { [`${arch}.rope.dimension_count`]: u32(headDim) } : {}),
    ...(L.layerNorm
      ? { [`${arch}.attention.layer_norm_epsilon`]: f32(1e-5) }
      : { [`${arch}.attention.layer_norm_rms_epsilon`]: f32(1e-6) }),
    ...(arch.startsWith('gemma') ? { [`${arch}.attention.key_length`]: u32(headDim), [`${arch}.attention.value_length`]: u32(headDim) } : {}),
    ...vocabMeta,
    // As llama.cpp's converter writes Qwen2, Qwen3 and GPT-2 files (their tokenizer_config.json says so):
    // no BOS before a text prompt.
    ...(NO_BOS.includes(arch) ? { 'tokenizer.ggml.add_bos_token': false } : {}),
    ...o.metadata,
  };

  const tensors: TensorSpec[] = [];
  const add = (name: string, dims: number[], data: Float32Array) => tensors.push({ name, dims, type: GGMLType.F32, data });
  const matrix = (name: string, cols: number, rows: number) => add(name, [cols, rows], normal(cols * rows, 1 / Math.sqrt(cols)));
  const vector = (name: string, n: number, mean: number, std: number) => add(name, [n], normal(n, std).map((x) => mean + x));
  const norm = (name: string, n = dim, mean = 1) => {
    vector(`${name}.weight`, n, mean, 0.1 * mean);
    if (L.layerNorm) vector(`${name}.bias`, n, 0, 0.1);
  };
  /** A projection [cols → rows]; biased for GPT-2, and for q/k/v where the layout says so. */
  const linear = (name: string, cols: number, rows: number, bias = L.layerNorm) => {
    matrix(`${name}.weight`, cols, rows);
    if (bias) vector(`${name}.bias`, rows, 0, 0.3);
  };

  add('token_embd.weight', [dim, vocab], normal(dim * vocab, 1 / Math.sqrt(dim)));
  if (L.positions) add('position_embd.weight', [dim, ctx], normal(dim * ctx, 0.3));
  for (const t of o.extraTensors ?? []) add(t.name, [t.data.length], t.data);
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    norm(`${b}attn_norm`);
    if (L.fusedQkv) {
      linear(`${b}attn_qkv`, dim, q + 2 * kv, L.qkvBias);
    } else {
      linear(`${b}attn_q`, dim, q, L.qkvBias || L.layerNorm);
      linear(`${b}attn_k`, dim, kv, L.qkvBias || L.layerNorm);
      linear(`${b}attn_v`, dim, kv, L.qkvBias || L.layerNorm);
    }
    if (L.qkNorm) {
      vector(`${b}attn_q_norm.weight`, headDim, 1, 0.1);
      vector(`${b}attn_k_norm.weight`, headDim, 1, 0.1);
    }
    linear(`${b}attn_output`, q, dim);
    if (L.postNorms) norm(`${b}post_attention_norm`, dim, POST_NORM_GAIN);
    norm(`${b}ffn_norm`);
    if (L.fusedGateUp) {
      linear(`${b}ffn_up`, dim, 2 * ff); // [gate; up]
    } else {
      if (L.gated) linear(`${b}ffn_gate`, dim, ff);
      linear(`${b}ffn_up`, dim, ff);
    }
    linear(`${b}ffn_down`, ff, dim);
    if (L.postNorms) norm(`${b}post_ffw_norm`, dim, POST_NORM_GAIN);
  }
  norm('output_norm');
  if (o.untied && !L.tiedOnly) matrix('output.weight', dim, vocab);

  const metadata = Object.entries(meta).filter((e): e is [string, MetaValue] => e[1] !== undefined);
  return { metadata, tensors };
}

/** tinyLlamaSpec's byte-fallback SentencePiece vocabulary (any text tokenizes the same in llama.cpp and Hearth). */
function spmVocabulary(size: number): Record<string, MetaValue> {
  const spec = tinyLlamaSpec({ dim: 2, heads: 1, kvHeads: 1, ff: 2, layers: 1, vocab: size, vocabulary: 'bytes' });
  return Object.fromEntries((spec.metadata as [string, MetaValue][]).filter(([k]) => k.startsWith('tokenizer.')));
}

/** GPT-2's byte ↔ unicode table (bytes_to_unicode): printable bytes map to themselves, the rest to U+0100… */
function byteChars(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const order: number[] = [];
  const chars: string[] = [];
  for (let b = 0; b < 256; b++) if (printable(b)) { order.push(b); chars.push(String.fromCharCode(b)); }
  let n = 0;
  for (let b = 0; b < 256; b++) if (!printable(b)) { order.push(b); chars.push(String.fromCharCode(256 + n++)); }
  return chars; // in GPT-2's vocabulary order: printable bytes first
}

/** Early merges of GPT-2's own merges.txt (those whose parts are bytes or earlier merges here). */
const GPT2_MERGES = [
  'Ġ t', 'Ġ a', 'h e', 'i n', 'r e', 'o n', 'Ġt he', 'e r', 'Ġ s', 'a t', 'Ġ w', 'Ġ o', 'e n', 'Ġ c', 'i t', 'i s',
  'a n', 'o r', 'e s', 'Ġ b', 'e d', 'Ġ f', 'in g', 'Ġ p', 'o u', 'Ġa n', 'a l', 'a r', 'Ġt o', 'Ġ m', 'Ġo f', 'Ġ in',
  'Ġ d', 'Ġ h', 'Ġan d', 'i c', 'a s', 'l e', 'Ġt h', 'i on', 'o m', 'l l', 'en t', 'Ġ n', 'Ġ l', 's t', 'Ġ re', 'v e',
  'Ġ e', 'r o', 'l y', 'Ġb e', 'Ġ g', 'Ġ T', 'c t', 'Ġ S', 'i d', 'o t', 'Ġ I', 'u t', 'e t', 'Ġ A', 'Ġ y', 'Ġ st',
];

/** A byte-level BPE vocabulary: the 256 byte tokens, the tokens of GPT2_MERGES, then <|endoftext|> (BOS and EOS). */
function gpt2Vocabulary(size?: number): Record<string, MetaValue> {
  const tokens = byteChars();
  const merges: string[] = [];
  for (const m of GPT2_MERGES) {
    if (size !== undefined && tokens.length >= size - 1) break;
    const [a, b] = m.split(' ') as [string, string];
    if (!tokens.includes(a) || !tokens.includes(b)) throw new Error(`tiny-models: merge '${m}' uses a token that is not in the vocabulary yet`);
    merges.push(m);
    tokens.push(a + b);
  }
  tokens.push('<|endoftext|>');
  const eot = tokens.length - 1;
  return {
    'tokenizer.ggml.model': 'gpt2',
    'tokenizer.ggml.pre': 'gpt-2',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': Int32Array.from(tokens, (_, i) => (i === eot ? 3 : 1)),
    'tokenizer.ggml.merges': merges,
    'tokenizer.ggml.bos_token_id': u32(eot),
    'tokenizer.ggml.eos_token_id': u32(eot),
  };
}

/** Llama 3's rope_freqs.weight for a head dim: llama3-style factors (1 for short wavelengths … `factor` for long ones). */
export function llama3RopeFactors(headDim: number, base: number, factor = 8, lowFreqFactor = 1, highFreqFactor = 4, originalContext = 32): Float32Array {
  // The converter's formula (convert_hf_to_gguf LlamaModel.generate_extra_tensors), with a short original
  // context so a tiny model's frequencies span all three regimes.
  const lowWavelen = originalContext / lowFreqFactor, highWavelen = originalContext / highFreqFactor;
  return Float32Array.from({ length: headDim / 2 }, (_, i) => {
    const wavelen = 2 * Math.PI * base ** ((2 * i) / headDim); // 2π / θ_i, θ_i = base^(−2i/d)
    if (wavelen < highWavelen) return 1;
    if (wavelen > lowWavelen) return factor;
    const smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return 1 / ((1 - smooth) / factor + smooth);
  });
}

/**
 * One tiny model checked against llama.cpp (test/arch-*.test.ts), with what it exercises. Seeds were picked
 * for clearly separated top-2 logits at every step (the tests assert it) and for outputs that do not just
 * repeat one token.
 */
export interface ArchCase {
  name: string;
  arch: TinyArch;
  options: TinyModelOptions;
  /** Text prompt: tokenized by both engines, also run through Hearth's public engine. */
  prompt: string;
  /** Per-step logits bound: abs + rel·max|logit|. */
  tolerance: { rel: number };
  oracle?: { contextSize?: number };
}

/**
 * Hearth and llama.cpp both compute in f32 except llama.cpp's GELU, which goes through an f16 lookup
 * table (ggml's GGML_GELU_FP16: input and output rounded to f16). That alone moves GELU models' logits by
 * up to ~1.5e-3 here; with the same f16 rounding emulated in Hearth's kernel the difference falls to 1.3e-6
 * (one GPT-2 layer; measured once, not a mode Hearth ships). Other models agree to a few 1e-6.
 */
export const F32_TOLERANCE = { rel: 1e-4 };
export const GELU_TOLERANCE = { rel: 1e-3 };

const words = 'the cat sat on a mat and then it ran to the park with a dog';

export const ARCH_CASES: ArchCase[] = [
  {
    name: 'llama: Llama 3 rope frequency factors (rope_freqs.weight)',
    arch: 'llama',
    options: { seed: 3, untied: true, metadata: { 'llama.rope.freq_base': f32(500000) }, extraTensors: [{ name: 'rope_freqs.weight', data: llama3RopeFactors(64, 500000) }] },
    prompt: words, tolerance: F32_TOLERANCE,
  },
  {
    name: 'llama: linear rope scaling (factor 4), tied output',
    arch: 'llama',
    options: { seed: 2, metadata: { 'llama.rope.scaling.type': 'linear', 'llama.rope.scaling.factor': f32(4) } },
    prompt: words, tolerance: F32_TOLERANCE,
  },
  { name: 'qwen2: q/k/v biases, NEOX rope', arch: 'qwen2', options: { seed: 3, untied: true }, prompt: words, tolerance: F32_TOLERANCE },
  { name: 'qwen3: per-head q/k RMS norm', arch: 'qwen3', options: { seed: 3 }, prompt: words, tolerance: F32_TOLERANCE },
  { name: 'phi3: fused QKV and gate-up', arch: 'phi3', options: { seed: 2, untied: true }, prompt: words, tolerance: F32_TOLERANCE },
  {
    name: 'phi3: LongRoPE short factors and attention factor',
    arch: 'phi3',
    options: {
      seed: 2, untied: true, kvHeads: 4, contextLength: 512,
      metadata: {
        // No rope.scaling.type: convert_hf_to_gguf.py writes none; the factor tensors alone select LongRoPE.
        'phi3.rope.scaling.attn_factor': f32(1.19),
        'phi3.rope.scaling.original_context_length': u32(256),
      },
      extraTensors: [
        { name: 'rope_factors_long.weight', data: Float32Array.from({ length: 32 }, (_, i) => 1 + i) },
        { name: 'rope_factors_short.weight', data: Float32Array.from({ length: 32 }, (_, i) => 1 + 0.05 * i) },
      ],
    },
    // llama.cpp uses the short factors while its context (padded to a multiple of 256) is within the original length.
    prompt: words, tolerance: F32_TOLERANCE, oracle: { contextSize: 256 },
  },
  {
    name: 'gemma2: GeGLU, post-norms, attention and final soft-caps, sliding window 8 on alternate layers',
    arch: 'gemma2',
    options: { seed: 3, metadata: { 'gemma2.attn_logit_softcapping': f32(2), 'gemma2.final_logit_softcapping': f32(5), 'gemma2.attention.sliding_window': u32(8) } },
    prompt: words, tolerance: GELU_TOLERANCE,
  },
  {
    name: 'gemma3: q/k norm, window 8 on 2 of 3 layers with their own rope base, linear scaling 8 on the global layer',
    arch: 'gemma3',
    options: {
      seed: 6, layers: 3,
      metadata: {
        'gemma3.attention.sliding_window': u32(8), 'gemma3.attention.sliding_window_pattern': u32(3), 'gemma3.rope.freq_base': f32(1e6),
        'gemma3.rope.scaling.type': 'linear', 'gemma3.rope.scaling.factor': f32(8),
      },
    },
    prompt: words, tolerance: GELU_TOLERANCE,
  },
  { name: 'gpt2: layer norm, learned positions, fused biased QKV, GELU MLP, tied output', arch: 'gpt2', options: { seed: 4 }, prompt: words, tolerance: GELU_TOLERANCE },
];

/**
 * Writes the case's model into `dir` and runs it in llama.cpp and Hearth (32 greedy steps from the text
 * prompt, per-step logits of the same contexts, and the public engine); asserts that they agree.
 */
export async function checkArchCase(c: ArchCase, dir: string): Promise<CompareReport> {
  const path = writeArchModel(c, dir);
  const r = await compareWithLlamaCpp(path, { prompt: c.prompt, steps: 32, logitTolerance: c.tolerance, oracle: c.oracle });
  const summary = formatReport(r);
  assert.ok(r.withinTolerance, `logits outside tolerance: ${summary}`);
  // Logits within ±bound can only change the argmax where llama.cpp's top-2 margin is ≤ 2·bound: require more
  // everywhere, so equal ids follow from the logits and the test cannot flip on a near tie.
  assert.ok(r.marginRatio > 1, `a near tie makes greedy fragile here: ${summary}`);
  assert.deepEqual(r.hearthIds, r.oracleIds, `Hearth greedy ids differ from llama.cpp's: ${summary}`);
  assert.deepEqual(r.engine?.promptIds, r.promptIds, `Hearth's tokenizer differs from llama.cpp's: ${summary}`);
  assert.deepEqual(r.engine?.ids, r.engine?.expectedIds, `createEngine's greedy ids differ: ${summary}`);
  assert.ok(r.idsEqual, summary);
  return r;
}

/** Writes the case's model into `dir`, its options overridden by `options`; returns the file's path. */
export function writeArchModel(c: ArchCase, dir: string, options: TinyModelOptions = {}): string {
  const path = join(dir, `${c.name.replace(/\W+/g, '-').slice(0, 60)}.gguf`);
  writeFileSync(path, writeGGUF(tinyModelSpec(c.arch, { ...c.options, ...options })));
  return path;
}

/**
 * Every ARCH_CASES model as [name, a function that writes it into dir() and returns its path]: written when a
 * test asks, into a directory the tests make in before().
 */
export function archModelFiles(dir: () => string, options: (c: ArchCase) => TinyModelOptions = () => ({})): [string, () => string][] {
  return ARCH_CASES.map((c) => [c.name, () => writeArchModel(c, dir(), options(c))]);
}
