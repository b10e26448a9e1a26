// The bytes each token stands for when it follows other text: what a grammar matches a token against, and the
// `bytes` of an OpenAI logprob entry. decode() of one token is not that (SentencePiece drops a leading space,
// a lone byte token decodes to U+FFFD), so the vocabulary's own spelling is read instead:
//   <0xNN>                    → that byte (SentencePiece byte fallback)
//   SentencePiece pieces      → the text with '▁' as a space
//   byte-level BPE symbols    → GPT-2's byte ↔ unicode table read backwards
// Control tokens stand for no text (null).
import type { Tokenizer } from './types';

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** GPT-2's bytes_to_unicode, inverted: the character a byte-level BPE vocabulary writes for each byte. */
function unicodeToByte(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const code = printable.includes(b) ? b : 256 + extra++;
    map.set(String.fromCodePoint(code), b);
  }
  return map;
}

const cache = new WeakMap<Tokenizer, (Uint8Array | null)[]>();

/** Every token's bytes (null for control/unknown tokens), computed once per tokenizer. */
export function tokenBytesTable(tokenizer: Tokenizer): (Uint8Array | null)[] {
  let table = cache.get(tokenizer);
  if (table) return table;
  const texts = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.tokenText(id));
  // SentencePiece vocabularies mark word starts with '▁'; byte-level ones spell a space 'Ġ'.
  const sentencePiece = texts.some((t) => t.startsWith('▁')) || !texts.some((t) => t.startsWith('Ġ'));
  const byteOf = unicodeToByte();
  const encoder = new TextEncoder();
  table = texts.map((text, id) => {
    if (tokenizer.isSpecial(id)) return null;
    const byte = BYTE_TOKEN.exec(text);
    if (byte) return Uint8Array.of(parseInt(byte[1]!, 16));
    if (sentencePiece) return encoder.encode(text.replaceAll('▁', ' '));
    const chars = [...text];
    if (chars.every((c) => byteOf.has(c))) return Uint8Array.from(chars, (c) => byteOf.get(c)!);
    return encoder.encode(tokenizer.decode([id])); // an added token written as plain text
  });
  cache.set(tokenizer, table);
  return table;
}

/** A token as OpenAI's logprobs show it: its text (U+FFFD for a partial character) and its bytes. */
export function tokenEntry(tokenizer: Tokenizer, id: number): { token: string; bytes: number[] } {
  const bytes = tokenBytesTable(tokenizer)[id];
  if (!bytes) return { token: tokenizer.tokenText(id), bytes: [] };
  return { token: new TextDecoder().decode(bytes), bytes: Array.from(bytes) };
}
