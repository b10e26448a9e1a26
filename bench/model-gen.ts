// The bench's random-weight models, written as GGUF once and cached outside git (node_modules/.cache/
// hearth-bench, or $HEARTH_BENCH_CACHE): real model shapes (llama-3.2-1b, qwen2.5-0.5b, llama-3.1-8b), the
// issue's older reference shape `random` (dim 768 × 12 layers, vocab 32000), and `tiny` and `tiny-qwen` (the
// device script's reduced mode and the tests). Files are streamed to disk tensor by tensor in chunks (an 8B F16 never sits in memory) and
// seeded, so a regenerated file is byte-identical; the file name carries a version to bump when a recipe changes.
// The quants follow llama-quantize's choices for real files: Q4_0 and Q4_K_M keep the output matrix (the
// embedding when tied) in Q6_K, Q4_K_M gives attn_v and ffn_down of some layers Q6_K, and K-quants fall back to
// Q5_0 / Q8_0 where a row is not a multiple of 256 (Qwen2.5-0.5B's 896).
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floatsToHalfBytes, quantizeQ4_0, quantizeQ8_0 } from '../src/model/quantize';
import { GGUF, ggufHeader, vocabularyMeta, type MetaEntry } from './gguf-header';
import { blockLayouts, RandomStream, randomBlocks, uniformStream, type BlockType } from './random-blocks';

export type BenchQuant = 'q4_0' | 'q4_k_m' | 'q8_0' | 'f16' | 'q2_k' | 'q3_k' | 'iq4_nl' | 'iq4_xs';
export const BENCH_QUANTS: readonly BenchQuant[] = ['q4_0', 'q4_k_m', 'q8_0', 'f16', 'q2_k', 'q3_k', 'iq4_nl', 'iq4_xs'];
/** The small-device types, written pure (the head in Q6_K, as llama-quantize does) on the real shapes. */
const SMALL_TYPES: readonly BenchQuant[] = ['q2_k', 'q3_k', 'iq4_nl', 'iq4_xs'];
/** The bench's default quants (the software adapters are slow: K-quants on request). */
export const DEFAULT_QUANTS: readonly BenchQuant[] = ['q4_0', 'q8_0', 'f16'];

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const cacheDir = process.env.HEARTH_BENCH_CACHE || join(repoRoot, 'node_modules', '.cache', 'hearth-bench');

export interface BenchShape {
  arch: 'llama' | 'qwen2';
  dim: number; layers: number; heads: number; kvHeads: number; ffn: number; vocab: number;
  /** The model's trained context (metadata only: the bench loads with its own context length). */
  context: number;
  ropeBase: number; normEps: number;
  /** Whether the output matrix is the token embedding (no output.weight). */
  tied: boolean;
  /** Qwen2's q/k/v biases. */
  qkvBias: boolean;
}

/** The shapes `--models` names (besides the stories260K fixture). */
export const BENCH_SHAPES: Record<string, BenchShape> = {
  'llama-3.2-1b': { arch: 'llama', dim: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256, context: 131072, ropeBase: 500000, normEps: 1e-5, tied: true, qkvBias: false },
  'qwen2.5-0.5b': { arch: 'qwen2', dim: 896, layers: 24, heads: 14, kvHeads: 2, ffn: 4864, vocab: 151936, context: 32768, ropeBase: 1000000, normEps: 1e-6, tied: true, qkvBias: true },
  'llama-3.1-8b': { arch: 'llama', dim: 4096, layers: 32, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256, context: 131072, ropeBase: 500000, normEps: 1e-5, tied: false, qkvBias: false },
  /** The older reference shape (the one wllama was measured on before Hearth existed). */
  random: { arch: 'llama', dim: 768, layers: 12, heads: 12, kvHeads: 12, ffn: 2048, vocab: 32000, context: 2048, ropeBase: 10000, normEps: 1e-5, tied: false, qkvBias: false },
  /** A Llama-3-like miniature (GQA, tied, 256-multiple rows) for the device script's reduced mode on software adapters. */
  tiny: { arch: 'llama', dim: 256, layers: 4, heads: 8, kvHeads: 2, ffn: 768, vocab: 4096, context: 4096, ropeBase: 500000, normEps: 1e-5, tied: true, qkvBias: false },
  /** Qwen2.5-0.5B's layout in miniature (biases; rows of 192, not a multiple of 256, so K-quants fall back), for tests. */
  'tiny-qwen': { arch: 'qwen2', dim: 192, layers: 4, heads: 6, kvHeads: 2, ffn: 512, vocab: 4096, context: 4096, ropeBase: 1000000, normEps: 1e-6, tied: true, qkvBias: true },
};

/** Recipe versions: bump one to regenerate its files. `random` v1 is the original float-quantized recipe. */
const RECIPE: Record<string, number> = { random: 1 };
const recipeOf = (model: string) => RECIPE[model] ?? 3;

/** Parameters of a shape (every matrix, norm and bias), for logs and the README. */
export function parameterCount(s: BenchShape): number {
  const headDim = s.dim / s.heads, kv = s.kvHeads * headDim;
  const layer = 2 * s.dim + s.dim * (s.dim + 2 * kv) + s.dim * s.dim + 3 * s.dim * s.ffn + (s.qkvBias ? s.dim + 2 * kv : 0);
  return s.vocab * s.dim * (s.tied ? 1 : 2) + s.layers * layer + s.dim;
}

/** Path of the cached model in `quant`, written first if missing (seconds for 1B, about a minute for 8B). */
export function benchModelPath(model: string, quant: BenchQuant, log: (msg: string) => void = () => {}): string {
  const shape = BENCH_SHAPES[model];
  if (!shape) throw new Error(`no bench model '${model}': one of ${Object.keys(BENCH_SHAPES).join(', ')}`);
  if (model === 'random' && !['q4_0', 'q8_0', 'f16'].includes(quant)) throw new Error(`the 'random' model is written in q4_0, q8_0 and f16; ${quant.toUpperCase()} needs a real shape (--models llama-3.2-1b …)`);
  const name = model === 'random' ? 'random-llama-768x12' : `random-${model}`;
  const path = join(cacheDir, `${name}-v${recipeOf(model)}-${quant.toUpperCase()}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  log(`writing ${path} (once; ${(parameterCount(shape) / 1e9).toFixed(2)} B parameters)`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeBenchModel(tmp, model, shape, quant);
  renameSync(tmp, path); // a killed run leaves a .tmp, never a truncated model
  return path;
}

interface TensorPlan { name: string; dims: number[]; type: BlockType | 'f32'; layer: number }

/** llama.cpp's use_more_bits (integer division, as in C): the first and last eighth of the layers and every third in between. */
const useMoreBits = (i: number, n: number) => i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;

/** The type llama-quantize gives a matrix for `quant` (ggml order: dims[0] is the row length). */
function matrixType(model: string, s: BenchShape, quant: BenchQuant, name: string, layer: number, rowLength: number): BlockType {
  if (quant === 'f16') return 'f16';
  if (model === 'random') return quant as 'q4_0' | 'q8_0'; // pure, as it always was (no q4_k_m: benchModelPath)
  const head = name === 'output.weight' || (s.tied && name === 'token_embd.weight');
  let type: BlockType;
  if (quant === 'q8_0') type = 'q8_0';
  else if (head) type = 'q6_k';
  else if (quant === 'q4_0' || SMALL_TYPES.includes(quant)) type = quant as BlockType;
  else type = /attn_v|ffn_down/.test(name) && useMoreBits(layer, s.layers) ? 'q6_k' : 'q4_k';
  // llama-quantize's fallbacks where a row is not a multiple of 256.
  if (rowLength % 256 !== 0) type = type === 'q4_k' ? 'q5_0' : type === 'q6_k' ? 'q8_0' : ['q2_k', 'q3_k', 'iq4_xs'].includes(type) ? 'iq4_nl' : type;
  return type;
}

function tensorPlan(model: string, s: BenchShape, quant: BenchQuant): TensorPlan[] {
  const headDim = s.dim / s.heads, kv = s.kvHeads * headDim;
  const m = (name: string, dims: number[], layer = -1): TensorPlan => ({ name, dims, layer, type: matrixType(model, s, quant, name, layer, dims[0]!) });
  const v = (name: string, n: number, layer = -1): TensorPlan => ({ name, dims: [n], layer, type: 'f32' });
  const plan = [m('token_embd.weight', [s.dim, s.vocab])];
  for (let l = 0; l < s.layers; l++) {
    const b = `blk.${l}`;
    plan.push(v(`${b}.attn_norm.weight`, s.dim, l), m(`${b}.attn_q.weight`, [s.dim, s.dim], l), m(`${b}.attn_k.weight`, [s.dim, kv], l), m(`${b}.attn_v.weight`, [s.dim, kv], l));
    if (s.qkvBias) plan.push(v(`${b}.attn_q.bias`, s.dim, l), v(`${b}.attn_k.bias`, kv, l), v(`${b}.attn_v.bias`, kv, l));
    plan.push(m(`${b}.attn_output.weight`, [s.dim, s.dim], l), v(`${b}.ffn_norm.weight`, s.dim, l),
      m(`${b}.ffn_gate.weight`, [s.dim, s.ffn], l), m(`${b}.ffn_up.weight`, [s.dim, s.ffn], l), m(`${b}.ffn_down.weight`, [s.ffn, s.dim], l));
  }
  plan.push(v('output_norm.weight', s.dim));
  if (!s.tied) plan.push(m('output.weight', [s.dim, s.vocab]));
  return plan;
}

const elements = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
const ggmlTypeOf = (t: TensorPlan) => (t.type === 'f32' ? 0 : blockLayouts[t.type].ggmlType);
const bytesOf = (t: TensorPlan) => (t.type === 'f32' ? 4 * elements(t.dims) : (elements(t.dims) / blockLayouts[t.type].elements) * blockLayouts[t.type].bytes);
const FILE_TYPE: Record<BenchQuant, number> = { f16: 1, q4_0: 2, q8_0: 7, q4_k_m: 15, q2_k: 10, q3_k: 11, iq4_nl: 25, iq4_xs: 30 }; // llama_ftype (Q3_K: Q3_K_S)

function metadata(model: string, s: BenchShape, quant: BenchQuant): MetaEntry[] {
  const a = s.arch;
  const meta: MetaEntry[] = [
    ['general.architecture', GGUF.STRING, a],
    ['general.name', GGUF.STRING, model === 'random' ? `random-llama-768x12-${quant}` : `random-${model}-${quant}`],
    ['general.alignment', GGUF.UINT32, 32],
    [`${a}.context_length`, GGUF.UINT32, s.context],
    [`${a}.embedding_length`, GGUF.UINT32, s.dim],
    [`${a}.block_count`, GGUF.UINT32, s.layers],
    [`${a}.feed_forward_length`, GGUF.UINT32, s.ffn],
    [`${a}.attention.head_count`, GGUF.UINT32, s.heads],
    [`${a}.attention.head_count_kv`, GGUF.UINT32, s.kvHeads],
    [`${a}.rope.dimension_count`, GGUF.UINT32, s.dim / s.heads],
    [`${a}.attention.layer_norm_rms_epsilon`, GGUF.FLOAT32, s.normEps],
  ];
  if (model !== 'random') meta.push([`${a}.rope.freq_base`, GGUF.FLOAT32, s.ropeBase], ['general.file_type', GGUF.UINT32, FILE_TYPE[quant]]);
  return [...meta, ...vocabularyMeta(s.vocab)];
}

function writeBenchModel(path: string, model: string, s: BenchShape, quant: BenchQuant): void {
  const plan = tensorPlan(model, s, quant);
  const header = ggufHeader(metadata(model, s, quant), plan.map((t) => ({ name: t.name, dims: t.dims, ggmlType: ggmlTypeOf(t), bytes: bytesOf(t) })));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    const data = model === 'random' ? legacyRandomData(quant) : blockData(model, recipeOf(model));
    for (const t of plan) {
      let written = 0;
      for (const chunk of data(t)) { writeSync(fd, chunk); written += chunk.length; }
      const pad = Math.ceil(written / 32) * 32 - written;
      if (pad) writeSync(fd, new Uint8Array(pad));
    }
  } finally {
    closeSync(fd);
  }
}

/** Random blocks written straight (random-blocks.ts), in chunks of about 32 MiB; norms 1 ± 0.1, biases ± 0.1. */
function blockData(model: string, recipe: number): (t: TensorPlan) => Iterable<Uint8Array> {
  return function* (t) {
    const rng = RandomStream.fromName(`${model}/${t.name}`, recipe);
    if (t.type === 'f32') {
      const center = t.name.endsWith('.bias') ? 0 : 1;
      yield new Uint8Array(Float32Array.from({ length: elements(t.dims) }, () => center + 0.1 * (2 * rng.next() - 1)).buffer);
      return;
    }
    const { bytes, elements: perBlock } = blockLayouts[t.type];
    const std = 1 / Math.sqrt(t.dims[0]!);
    let blocks = elements(t.dims) / perBlock;
    const chunkBlocks = Math.max(1, Math.floor((32 << 20) / bytes));
    while (blocks > 0) {
      const n = Math.min(blocks, chunkBlocks);
      const out = new Uint8Array(n * bytes);
      randomBlocks(t.type, out, rng, std);
      yield out;
      blocks -= n;
    }
  };
}

/** `random` v1: uniform floats (one mulberry32 stream through the file) quantized by Hearth's JS quantizers. */
function legacyRandomData(quant: BenchQuant): (t: TensorPlan) => Iterable<Uint8Array> {
  const encode: Partial<Record<BenchQuant, (x: Float32Array) => Uint8Array>> = { q4_0: quantizeQ4_0, q8_0: quantizeQ8_0, f16: floatsToHalfBytes };
  const encoder = encode[quant]!;
  const uniform = uniformStream(0x5eed ^ 1);
  // std 1/√fan-in keeps activations at unit scale through the layers (U(−a, a) has std a/√3); norms 1 ± 0.1.
  return (t) => [t.dims.length === 1 ? new Uint8Array(uniform(elements(t.dims), 0.1, 1).buffer) : encoder(uniform(elements(t.dims), Math.sqrt(3 / t.dims[0]!)))];
}
