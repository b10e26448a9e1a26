// The GGUF header of the bench's random-weight models: metadata, a synthetic SentencePiece vocabulary of any
// size that llama.cpp and Hearth both tokenize, and the tensor table; the tensor data is streamed after it.

export const GGUF = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;

/** One metadata entry: key, GGUF value type, value, and for arrays the element type. */
export type MetaEntry = [string, number, unknown, number?];

/**
 * A SentencePiece vocabulary: <unk> <s> </s>, the 256 byte tokens, ▁ and a–z, a few merges (so ' the' and
 * ' and' are one token each, which is how the bench builds prompts of an exact length), then filler pieces up
 * to `size` (a real model's vocabulary size: the embedding and the output matrix are that tall).
 */
function vocabulary(size: number): { tokens: string[]; scores: Float32Array; types: Int32Array } {
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

/** Metadata of the vocabulary above (BOS 1, EOS 2, UNK 0). */
export function vocabularyMeta(size: number): MetaEntry[] {
  const v = vocabulary(size);
  return [
    ['tokenizer.ggml.model', GGUF.STRING, 'llama'],
    ['tokenizer.ggml.tokens', GGUF.ARRAY, v.tokens, GGUF.STRING],
    ['tokenizer.ggml.scores', GGUF.ARRAY, v.scores, GGUF.FLOAT32],
    ['tokenizer.ggml.token_type', GGUF.ARRAY, v.types, GGUF.INT32],
    ['tokenizer.ggml.bos_token_id', GGUF.UINT32, 1],
    ['tokenizer.ggml.eos_token_id', GGUF.UINT32, 2],
    ['tokenizer.ggml.unknown_token_id', GGUF.UINT32, 0],
  ];
}

/** A GGUF v3 header: metadata, then the tensor infos (offsets packed at 32-byte alignment), padded to 32. */
export function ggufHeader(meta: MetaEntry[], tensors: { name: string; dims: number[]; ggmlType: number; bytes: number }[]): Uint8Array {
  const h = new HeaderWriter();
  h.u32(0x46554747).u32(3).u64(tensors.length).u64(meta.length);
  for (const [key, type, value, elemType] of meta) {
    h.str(key).u32(type);
    if (type === GGUF.ARRAY) {
      const values = value as ArrayLike<string | number>;
      h.u32(elemType!).u64(values.length);
      for (let i = 0; i < values.length; i++) h.value(elemType!, values[i]!);
    } else h.value(type, value as string | number);
  }
  let offset = 0;
  for (const t of tensors) {
    h.str(t.name).u32(t.dims.length);
    for (const d of t.dims) h.u64(d);
    h.u32(t.ggmlType).u64(offset);
    offset += Math.ceil(t.bytes / 32) * 32;
  }
  h.padTo(32);
  return h.finish();
}

class HeaderWriter {
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
