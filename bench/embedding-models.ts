// The embeddings bench's models: random weights in the shapes of all-MiniLM-L6-v2 (bert: dim 384 × 6 layers,
// 12 heads, ffn 1536, vocab 30522, F16 matrices) and Qwen3-Embedding-0.6B (qwen3: dim 1024 × 28 layers, 16 heads
// of 128, 8 KV heads, ffn 3072, vocab 151669, tied, Q8_0 matrices, last-token pooling), written once as llama.cpp's
// converter lays them out into node_modules/.cache/hearth-bench (seeded: a regenerated file is byte-identical).
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GGMLType } from '../src/model/ggml-types';
import { floatsToHalfBytes, quantizeQ8_0 } from '../src/model/quantize';
import { GGUF, ggufHeader, vocabularyMeta } from './gguf-header';
import { uniformStream } from './random-blocks';
import { cacheDir } from './model-gen';

export type EmbeddingBenchModel = 'minilm' | 'qwen3';
export const EMBEDDING_BENCH_MODELS: readonly EmbeddingBenchModel[] = ['minilm', 'qwen3'];
const RECIPE_VERSION = 2;

type Meta = [string, number, unknown, number?][];
interface Tensor { name: string; dims: number[]; type: number }

/** BERT's vocabulary layout: [PAD], [unused*], [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103, then word pieces. */
function wordPieceMeta(size: number): Meta {
  const tokens = ['[PAD]', ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  for (let i = 0; tokens.length < size; i++) tokens.push(i % 2 ? `w${i}` : `\u2581w${i}`);
  return [
    ['tokenizer.ggml.model', GGUF.STRING, 'bert'],
    ['tokenizer.ggml.tokens', GGUF.ARRAY, tokens, GGUF.STRING],
    ['tokenizer.ggml.token_type', GGUF.ARRAY, Int32Array.from(tokens, (_, i) => (i === 100 ? 2 : i < 104 ? 3 : 1)), GGUF.INT32],
    ['tokenizer.ggml.token_type_count', GGUF.UINT32, 2],
    ['tokenizer.ggml.bos_token_id', GGUF.UINT32, 101],
    ['tokenizer.ggml.seperator_token_id', GGUF.UINT32, 102],
    ['tokenizer.ggml.unknown_token_id', GGUF.UINT32, 100],
    ['tokenizer.ggml.padding_token_id', GGUF.UINT32, 0],
    ['tokenizer.ggml.mask_token_id', GGUF.UINT32, 103],
  ];
}

function miniLm(): { meta: Meta; tensors: Tensor[] } {
  const dim = 384, layers = 6, ffn = 1536, vocab = 30522, ctx = 512;
  const F16 = GGMLType.F16, F32 = GGMLType.F32;
  const meta: Meta = [
    ['general.architecture', GGUF.STRING, 'bert'],
    ['general.name', GGUF.STRING, 'random all-MiniLM-L6-v2 shape'],
    ['bert.context_length', GGUF.UINT32, ctx],
    ['bert.embedding_length', GGUF.UINT32, dim],
    ['bert.block_count', GGUF.UINT32, layers],
    ['bert.feed_forward_length', GGUF.UINT32, ffn],
    ['bert.attention.head_count', GGUF.UINT32, 12],
    ['bert.attention.layer_norm_epsilon', GGUF.FLOAT32, 1e-12],
    ['bert.attention.causal', GGUF.BOOL, false],
    ['bert.pooling_type', GGUF.UINT32, 1],
    ...wordPieceMeta(vocab),
  ];
  const tensors: Tensor[] = [
    { name: 'token_embd.weight', dims: [dim, vocab], type: F16 },
    { name: 'token_types.weight', dims: [dim, 2], type: F32 },
    { name: 'position_embd.weight', dims: [dim, ctx], type: F16 },
    { name: 'token_embd_norm.weight', dims: [dim], type: F32 },
    { name: 'token_embd_norm.bias', dims: [dim], type: F32 },
  ];
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    for (const [name, cols, rows] of [['attn_q', dim, dim], ['attn_k', dim, dim], ['attn_v', dim, dim], ['attn_output', dim, dim], ['ffn_up', dim, ffn], ['ffn_down', ffn, dim]] as const) {
      tensors.push({ name: `${b}${name}.weight`, dims: [cols, rows], type: F16 }, { name: `${b}${name}.bias`, dims: [rows], type: F32 });
    }
    for (const norm of ['attn_output_norm', 'layer_output_norm']) {
      tensors.push({ name: `${b}${norm}.weight`, dims: [dim], type: F32 }, { name: `${b}${norm}.bias`, dims: [dim], type: F32 });
    }
  }
  // The converter's order: each block's tensors together.
  return { meta, tensors };
}

function qwen3(): { meta: Meta; tensors: Tensor[] } {
  const dim = 1024, layers = 28, heads = 16, kvHeads = 8, headDim = 128, ffn = 3072, vocab = 151669;
  const Q8 = GGMLType.Q8_0, F32 = GGMLType.F32;
  const meta: Meta = [
    ['general.architecture', GGUF.STRING, 'qwen3'],
    ['general.name', GGUF.STRING, 'random Qwen3-Embedding-0.6B shape'],
    ['qwen3.context_length', GGUF.UINT32, 32768],
    ['qwen3.embedding_length', GGUF.UINT32, dim],
    ['qwen3.block_count', GGUF.UINT32, layers],
    ['qwen3.feed_forward_length', GGUF.UINT32, ffn],
    ['qwen3.attention.head_count', GGUF.UINT32, heads],
    ['qwen3.attention.head_count_kv', GGUF.UINT32, kvHeads],
    ['qwen3.attention.key_length', GGUF.UINT32, headDim],
    ['qwen3.attention.value_length', GGUF.UINT32, headDim],
    ['qwen3.rope.freq_base', GGUF.FLOAT32, 1e6],
    ['qwen3.attention.layer_norm_rms_epsilon', GGUF.FLOAT32, 1e-6],
    ['qwen3.pooling_type', GGUF.UINT32, 3],
    ...vocabularyMeta(vocab),
    ['tokenizer.ggml.add_bos_token', GGUF.BOOL, false],
    ['tokenizer.ggml.add_eos_token', GGUF.BOOL, true],
  ];
  const tensors: Tensor[] = [{ name: 'token_embd.weight', dims: [dim, vocab], type: Q8 }];
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    tensors.push(
      { name: `${b}attn_norm.weight`, dims: [dim], type: F32 },
      { name: `${b}attn_q.weight`, dims: [dim, heads * headDim], type: Q8 },
      { name: `${b}attn_k.weight`, dims: [dim, kvHeads * headDim], type: Q8 },
      { name: `${b}attn_v.weight`, dims: [dim, kvHeads * headDim], type: Q8 },
      { name: `${b}attn_q_norm.weight`, dims: [headDim], type: F32 },
      { name: `${b}attn_k_norm.weight`, dims: [headDim], type: F32 },
      { name: `${b}attn_output.weight`, dims: [heads * headDim, dim], type: Q8 },
      { name: `${b}ffn_norm.weight`, dims: [dim], type: F32 },
      { name: `${b}ffn_gate.weight`, dims: [dim, ffn], type: Q8 },
      { name: `${b}ffn_up.weight`, dims: [dim, ffn], type: Q8 },
      { name: `${b}ffn_down.weight`, dims: [ffn, dim], type: Q8 },
    );
  }
  tensors.push({ name: 'output_norm.weight', dims: [dim], type: F32 });
  return { meta, tensors };
}

/** Path of the cached model, written first if missing (MiniLM: seconds; Qwen3 0.6B: a minute or two, ~640 MB). */
export function embeddingModelPath(model: EmbeddingBenchModel, log: (msg: string) => void = () => {}): string {
  const path = join(cacheDir, `random-${model}-embedding-v${RECIPE_VERSION}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  log(`writing ${path} (once)`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeModel(tmp, model === 'minilm' ? miniLm() : qwen3());
  renameSync(tmp, path);
  return path;
}

function encode(type: number, x: Float32Array): Uint8Array {
  if (type === GGMLType.F32) return new Uint8Array(x.buffer);
  return type === GGMLType.F16 ? floatsToHalfBytes(x) : quantizeQ8_0(x);
}

function writeModel(path: string, { meta, tensors }: { meta: Meta; tensors: Tensor[] }): void {
  const bytesOf = (t: Tensor) => {
    const n = t.dims.reduce((a, b) => a * b, 1);
    return t.type === GGMLType.F32 ? 4 * n : t.type === GGMLType.F16 ? 2 * n : (n / 32) * 34;
  };
  const header = ggufHeader([['general.alignment', GGUF.UINT32, 32], ...meta], tensors.map((t) => ({ name: t.name, dims: t.dims, ggmlType: t.type, bytes: bytesOf(t) })));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    const uniform = uniformStream(0x5eed ^ RECIPE_VERSION);
    for (const t of tensors) {
      const n = t.dims.reduce((a, b) => a * b, 1);
      const isNormWeight = t.dims.length === 1 && t.name.endsWith('norm.weight');
      // Norm weights 1 ± 0.1, biases ± 0.1, matrices std 1/√fan-in (U(−a, a) has std a/√3).
      const values = t.dims.length === 1 ? uniform(n, 0.1, isNormWeight ? 1 : 0) : uniform(n, Math.sqrt(3 / t.dims[0]!));
      const bytes = encode(t.type, values);
      writeSync(fd, bytes);
      const padded = Math.ceil(bytes.length / 32) * 32;
      if (padded > bytes.length) writeSync(fd, new Uint8Array(padded - bytes.length));
    }
  } finally {
    closeSync(fd);
  }
}
