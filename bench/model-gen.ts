// The bench's larger model: a random-weight Llama of the reference shape (dim 768 × 12 layers, vocab
// 32000, ~134 M parameters) written as GGUF in Q4_0, Q8_0 or F16, streamed to disk tensor by tensor (the F16
// file is ~270 MB) and cached outside git under node_modules/.cache/hearth-bench. The weights are seeded, so a
// regenerated file is byte-identical; the file name carries a version to bump when the recipe changes.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GGMLType } from '../src/model/ggml-types';
import { floatsToHalfBytes, quantizeQ4_0, quantizeQ8_0 } from '../src/model/quantize';

export type BenchQuant = 'q4_0' | 'q8_0' | 'f16';
export const BENCH_QUANTS: readonly BenchQuant[] = ['q4_0', 'q8_0', 'f16'];

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const cacheDir = join(repoRoot, 'node_modules', '.cache', 'hearth-bench');

/** The reference shape (the one wllama was measured on before Hearth existed). */
export const RANDOM_LLAMA = { dim: 768, layers: 12, heads: 12, kvHeads: 12, ffn: 2048, vocab: 32000, context: 2048 };
const RECIPE_VERSION = 1;

const typeOf: Record<BenchQuant, number> = { q4_0: GGMLType.Q4_0, q8_0: GGMLType.Q8_0, f16: GGMLType.F16 };
const encode: Record<BenchQuant, (x: Float32Array) => Uint8Array> = { q4_0: quantizeQ4_0, q8_0: quantizeQ8_0, f16: floatsToHalfBytes };

/** Path of the cached random Llama in `quant`, written first if missing (a few seconds to ~20 s per file). */
export function randomLlamaPath(quant: BenchQuant, log: (msg: string) => void = () => {}): string {
  const path = join(cacheDir, `random-llama-768x12-v${RECIPE_VERSION}-${quant.toUpperCase()}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  log(`writing ${path} (once)`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeRandomLlama(tmp, quant);
  renameSync(tmp, path); // a killed run leaves a .tmp, never a truncated model
  return path;
}

/**
 * A SentencePiece vocabulary llama.cpp and Hearth both tokenize: <unk> <s> </s>, the 256 byte tokens, ▁ and
 * a–z, a few merges (so ' the' and ' and' are one token each, which is how the bench builds prompts of an
 * exact length), then filler pieces up to `size`.
 */
export function vocabulary(size: number): { tokens: string[]; scores: Float32Array; types: Int32Array } {
  const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
  const pieces = ['\u2581', ...'abcdefghijklmnopqrstuvwxyz', '\u2581t', 'he', '\u2581the', '\u2581a', 'nd', '\u2581and'];
  const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => hex(b)), ...pieces];
  for (let i = 0; tokens.length < size; i++) tokens.push(`\u2581w${i}`);
  const first = 3 + 256;
  return {
    tokens,
    scores: Float32Array.from(tokens, (_, i) => (i < first ? 0 : -(i - first))),
    types: Int32Array.from(tokens, (_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < first ? 6 : 1)),
  };
}

export const GGUF = { UINT32: 4, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, INT32: 5 } as const;

function writeRandomLlama(path: string, quant: BenchQuant): void {
  const { dim, layers, heads, kvHeads, ffn, vocab, context } = RANDOM_LLAMA;
  const headDim = dim / heads;
  const v = vocabulary(vocab);
  const meta: [string, number, unknown, number?][] = [
    ['general.architecture', GGUF.STRING, 'llama'],
    ['general.name', GGUF.STRING, `random-llama-768x12-${quant}`],
    ['general.alignment', GGUF.UINT32, 32],
    ['llama.context_length', GGUF.UINT32, context],
    ['llama.embedding_length', GGUF.UINT32, dim],
    ['llama.block_count', GGUF.UINT32, layers],
    ['llama.feed_forward_length', GGUF.UINT32, ffn],
    ['llama.attention.head_count', GGUF.UINT32, heads],
    ['llama.attention.head_count_kv', GGUF.UINT32, kvHeads],
    ['llama.rope.dimension_count', GGUF.UINT32, headDim],
    ['llama.attention.layer_norm_rms_epsilon', GGUF.FLOAT32, 1e-5],
    ['tokenizer.ggml.model', GGUF.STRING, 'llama'],
    ['tokenizer.ggml.tokens', GGUF.ARRAY, v.tokens, GGUF.STRING],
    ['tokenizer.ggml.scores', GGUF.ARRAY, v.scores, GGUF.FLOAT32],
    ['tokenizer.ggml.token_type', GGUF.ARRAY, v.types, GGUF.INT32],
    ['tokenizer.ggml.bos_token_id', GGUF.UINT32, 1],
    ['tokenizer.ggml.eos_token_id', GGUF.UINT32, 2],
    ['tokenizer.ggml.unknown_token_id', GGUF.UINT32, 0],
  ];
  // ggml order: dims[0] is the row length (fan-in).
  const tensors: { name: string; dims: number[] }[] = [{ name: 'token_embd.weight', dims: [dim, vocab] }];
  for (let l = 0; l < layers; l++) {
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [dim] },
      { name: `blk.${l}.attn_q.weight`, dims: [dim, heads * headDim] },
      { name: `blk.${l}.attn_k.weight`, dims: [dim, kvHeads * headDim] },
      { name: `blk.${l}.attn_v.weight`, dims: [dim, kvHeads * headDim] },
      { name: `blk.${l}.attn_output.weight`, dims: [heads * headDim, dim] },
      { name: `blk.${l}.ffn_norm.weight`, dims: [dim] },
      { name: `blk.${l}.ffn_gate.weight`, dims: [dim, ffn] },
      { name: `blk.${l}.ffn_up.weight`, dims: [dim, ffn] },
      { name: `blk.${l}.ffn_down.weight`, dims: [ffn, dim] },
    );
  }
  tensors.push({ name: 'output_norm.weight', dims: [dim] }, { name: 'output.weight', dims: [dim, vocab] });

  const typeOfTensor = (dims: number[]) => (dims.length === 1 ? GGMLType.F32 : typeOf[quant]);
  const bytesOf = (dims: number[]) => {
    const n = dims.reduce((a, b) => a * b, 1);
    return quant === 'f16' || dims.length === 1 ? n * (dims.length === 1 ? 4 : 2) : (n / 32) * (quant === 'q8_0' ? 34 : 18);
  };

  const h = new HeaderWriter();
  h.u32(0x46554747).u32(3).u64(tensors.length).u64(meta.length);
  for (const [key, type, value, elemType] of meta) {
    h.str(key).u32(type);
    if (type === GGUF.ARRAY) {
      const values = value as ArrayLike<string | number>;
      h.u32(elemType!).u64(values.length);
      for (let i = 0; i < values.length; i++) h.value(elemType!, values[i]!);
    } else h.value(type, value as string | number | boolean);
  }
  let offset = 0;
  for (const t of tensors) {
    h.str(t.name).u32(t.dims.length);
    for (const d of t.dims) h.u64(d);
    h.u32(typeOfTensor(t.dims)).u64(offset);
    offset += Math.ceil(bytesOf(t.dims) / 32) * 32;
  }
  h.padTo(32);

  const fd = openSync(path, 'w');
  try {
    writeSync(fd, h.finish());
    let state = 0x5eed ^ RECIPE_VERSION;
    const uniform = (n: number, halfWidth: number, center = 0) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        state = (state + 0x6d2b79f5) | 0; // mulberry32
        let x = Math.imul(state ^ (state >>> 15), state | 1);
        x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
        out[i] = center + halfWidth * (2 * (((x ^ (x >>> 14)) >>> 0) / 4294967296) - 1);
      }
      return out;
    };
    for (const t of tensors) {
      const n = t.dims.reduce((a, b) => a * b, 1);
      let bytes: Uint8Array;
      if (t.dims.length === 1) {
        bytes = new Uint8Array(uniform(n, 0.1, 1).buffer); // norm weights 1 ± 0.1
      } else {
        // std 1/√fan-in keeps activations at unit scale through the layers (U(−a, a) has std a/√3).
        bytes = encode[quant](uniform(n, Math.sqrt(3 / t.dims[0]!)));
      }
      const padded = Math.ceil(bytes.length / 32) * 32;
      writeSync(fd, bytes);
      if (padded > bytes.length) writeSync(fd, new Uint8Array(padded - bytes.length));
    }
  } finally {
    closeSync(fd);
  }
}

export class HeaderWriter {
  private parts: Uint8Array[] = [];
  private length = 0;
  private push(b: Uint8Array): this { this.parts.push(b); this.length += b.length; return this; }
  u32(v: number): this { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return this.push(b); }
  u64(v: number): this { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v), true); return this.push(b); }
  str(s: string): this { const b = new TextEncoder().encode(s); return this.u64(b.length).push(b); }
  value(type: number, v: string | number | boolean): this {
    if (type === GGUF.STRING) return this.str(v as string);
    if (type === GGUF.BOOL) return this.push(Uint8Array.of(v ? 1 : 0));
    const b = new Uint8Array(4);
    const view = new DataView(b.buffer);
    if (type === GGUF.FLOAT32) view.setFloat32(0, v as number, true);
    else if (type === GGUF.INT32) view.setInt32(0, v as number, true);
    else view.setUint32(0, v as number, true);
    return this.push(b);
  }
  padTo(alignment: number): this { const pad = (alignment - (this.length % alignment)) % alignment; return pad ? this.push(new Uint8Array(pad)) : this; }
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}
