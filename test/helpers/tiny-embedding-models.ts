// Tiny random-weight embedding models as llama.cpp's converter writes them — BERT (learned positions, biased
// q/k/v and GELU MLP), nomic-bert (fused QKV, NEOX rope, SwiGLU), Qwen3-Embedding (qwen3 with last-token
// pooling) — a small WordPiece vocabulary, and llama.cpp's embeddings of them through node-llama-cpp's
// embedding context (pooled as the file says, not normalised).
import { GGMLType } from '../../src/model/ggml-types';
import { f32, u32, type GGUFSpec, type MetaValue, type TensorSpec } from './gguf-writer';
import { LlamaContext, LlamaEmbeddingContext } from 'node-llama-cpp';
import { llamaCpp } from './llama-cpp';
import { seededRng } from './seeded';
import { tinyModelSpec } from './tiny-models';

/** WordPiece pieces as the converter writes them: word-initial '▁piece', continuations ('##piece') bare. */
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'embed', 'hello', 'world', 'run', 'cafe', 'naive', 'resume', 'token', 'un', 'believ', 'stop', 'don'];
const CONTINUATIONS = ['ding', 'dings', 's', 'ing', 'ize', 'able', 'ed', 'er', 'ning', 't'];
const CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const PUNCT = '.,!?\'"-()';
const CJK = ['日', '本', '語'];

/** A 'bert' vocabulary: [PAD] [UNK] [CLS] [SEP] [MASK], then whole words, continuations, letters, punctuation, CJK. */
export function wordPieceVocabulary(): Record<string, MetaValue> {
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  tokens.push(...WORDS.map((w) => `▁${w}`), ...CONTINUATIONS);
  for (const c of CHARS) tokens.push(`▁${c}`, ...(CONTINUATIONS.includes(c) ? [] : [c]));
  tokens.push(...[...PUNCT].map((c) => `▁${c}`), ...CJK.map((c) => `▁${c}`), '▁é'); // é: only matched without accent stripping
  return {
    'tokenizer.ggml.model': 'bert',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': Int32Array.from(tokens, (_, i) => (i === 1 ? 2 : i < 5 ? 3 : 1)),
    'tokenizer.ggml.token_type_count': u32(2),
    'tokenizer.ggml.bos_token_id': u32(2),
    'tokenizer.ggml.seperator_token_id': u32(3),
    'tokenizer.ggml.unknown_token_id': u32(1),
    'tokenizer.ggml.padding_token_id': u32(0),
    'tokenizer.ggml.mask_token_id': u32(4),
  };
}

export type EncoderArch = 'bert' | 'nomic-bert';

export interface TinyEncoderOptions {
  dim?: number; layers?: number; heads?: number; ff?: number; contextLength?: number; seed?: number;
  /** llama.cpp's pooling enum: 1 mean (default), 2 CLS, 3 last. */
  pooling?: number;
  metadata?: Record<string, MetaValue>;
}

/** A tiny BERT or nomic-bert (F32). Defaults: dim 64, 2 layers, 4 heads, ffn 128, context 64. */
export function tinyEncoderSpec(arch: EncoderArch, o: TinyEncoderOptions = {}): GGUFSpec {
  const dim = o.dim ?? 64, layers = o.layers ?? 2, heads = o.heads ?? 4, ff = o.ff ?? 128, ctx = o.contextLength ?? 64;
  const nomic = arch === 'nomic-bert';
  const rng = seededRng(o.seed ?? 1);
  const normal = (n: number, std: number) => Float32Array.from({ length: n }, () => {
    const u = 1 - rng(), v = rng();
    return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
  const vocabMeta = wordPieceVocabulary();
  const vocab = (vocabMeta['tokenizer.ggml.tokens'] as string[]).length;
  const meta: Record<string, MetaValue> = {
    'general.architecture': arch,
    'general.name': 'tiny random encoder',
    [`${arch}.context_length`]: u32(ctx),
    [`${arch}.embedding_length`]: u32(dim),
    [`${arch}.block_count`]: u32(layers),
    [`${arch}.feed_forward_length`]: u32(ff),
    [`${arch}.attention.head_count`]: u32(heads),
    [`${arch}.attention.layer_norm_epsilon`]: f32(1e-12),
    [`${arch}.attention.causal`]: false,
    [`${arch}.pooling_type`]: u32(o.pooling ?? 1),
    ...(nomic ? { [`${arch}.rope.freq_base`]: f32(1000) } : {}),
    ...vocabMeta,
    ...o.metadata,
  };
  const tensors: TensorSpec[] = [];
  const add = (name: string, dims: number[], data: Float32Array) => tensors.push({ name, dims, type: GGMLType.F32, data });
  const matrix = (name: string, cols: number, rows: number) => add(name, [cols, rows], normal(cols * rows, 1 / Math.sqrt(cols)));
  const vector = (name: string, n: number, mean: number, std: number) => add(name, [n], normal(n, std).map((x) => mean + x));
  const layerNorm = (name: string) => { vector(`${name}.weight`, dim, 1, 0.1); vector(`${name}.bias`, dim, 0, 0.1); };
  const linear = (name: string, cols: number, rows: number, bias: boolean) => {
    matrix(`${name}.weight`, cols, rows);
    if (bias) vector(`${name}.bias`, rows, 0, 0.3);
  };

  add('token_embd.weight', [dim, vocab], normal(dim * vocab, 1));
  add('token_types.weight', [dim, 2], normal(2 * dim, 0.3));
  if (!nomic) add('position_embd.weight', [dim, ctx], normal(dim * ctx, 0.3));
  layerNorm('token_embd_norm');
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    if (nomic) {
      linear(`${b}attn_qkv`, dim, 3 * dim, false);
    } else {
      for (const p of ['attn_q', 'attn_k', 'attn_v']) linear(`${b}${p}`, dim, dim, true);
    }
    linear(`${b}attn_output`, dim, dim, !nomic);
    layerNorm(`${b}attn_output_norm`);
    linear(`${b}ffn_up`, dim, ff, !nomic);
    if (nomic) linear(`${b}ffn_gate`, dim, ff, false);
    linear(`${b}ffn_down`, ff, dim, !nomic);
    layerNorm(`${b}layer_output_norm`);
  }
  return { metadata: Object.entries(meta), tensors };
}

/** A tiny Qwen3-Embedding: the qwen3 architecture, last-token pooling, EOS appended to every input. */
export function tinyQwen3EmbeddingSpec(seed = 3): GGUFSpec {
  return tinyModelSpec('qwen3', { seed, dim: 128, heads: 4, kvHeads: 2, ff: 256, metadata: { 'qwen3.pooling_type': u32(3), 'tokenizer.ggml.add_eos_token': true } });
}

export interface EmbeddingOracle {
  /** llama.cpp's tokenizer, no special tokens added. */
  tokenize(text: string): number[];
  /** llama.cpp's pooled embedding of exactly these ids (not normalised). */
  embed(ids: number[]): Promise<Float32Array>;
  close(): Promise<void>;
}

export async function openEmbeddingOracle(path: string, contextSize = 64): Promise<EmbeddingOracle> {
  const llama = await llamaCpp();
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  // As createEmbeddingContext makes it, but f32 attention: no flash attention (which rounds K and V to f16 on the
  // CPU), an f32 KV cache (the causal models keep one).
  const context = await model.createContext({
    contextSize, batchSize: contextSize, threads: 1, flashAttention: false,
    experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32', _embeddings: true,
  } as Parameters<typeof model.createContext>[0]);
  const ctx = new (LlamaEmbeddingContext as unknown as new (o: { _llamaContext: LlamaContext }) => LlamaEmbeddingContext)({ _llamaContext: context });
  return {
    tokenize: (text) => Array.from(model.tokenize(text, false), Number),
    // It adds BOS/SEP (or EOS) only where the ids lack them; the ids given already have what the model needs.
    embed: async (ids) => Float32Array.from((await ctx.getEmbeddingFor(ids as never)).vector),
    close: async () => { await ctx.dispose(); await model.dispose(); },
  };
}
