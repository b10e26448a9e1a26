// Hearth's byte grammars (src/engine/json/grammar.ts) written as llama.cpp GBNF, so that the WebAssembly backend
// constrains decoding with the very grammar the WebGPU path builds. GBNF matches Unicode code points, Hearth's
// grammars match UTF-8 bytes: a lead-byte class followed by its continuation classes is written as the code
// points those bytes encode (the 'char' rule of a JSON string, a non-ASCII literal); control tokens the grammar
// names (symbols 256 + i) are written as llama.cpp token references `<[id]>`.
import type { Chars, Element, Rule } from '../engine/json/grammar';

/** The GBNF text of `rules` (rule 0 is `root`); specials[i] is the token id of symbol 256 + i. */
export function gbnfGrammar(rules: readonly Rule[], specials: readonly number[]): string {
  const name = (r: number) => (r === 0 ? 'root' : `r${r}`);
  const lines: string[] = [];
  const seen = new Set<number>([0]);
  const queue = [0];
  while (queue.length > 0) {
    const r = queue.shift()!;
    const alts = rules[r]!;
    if (alts.length === 0) throw new Error(`grammar rule ${r} has no alternative`);
    const written = alts.map((seq) => {
      for (const el of seq) {
        if ('rule' in el && !seen.has(el.rule)) { seen.add(el.rule); queue.push(el.rule); }
      }
      return sequence(seq, specials, name) || '""';
    });
    lines.push(`${name(r)} ::= ${written.join(' | ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One alternative: rule references, literals (runs of single code points) and code-point classes. */
function sequence(seq: readonly Element[], specials: readonly number[], name: (r: number) => string): string {
  const out: string[] = [];
  let run = '';
  const flush = () => { if (run) { out.push(`"${run}"`); run = ''; } };
  for (let i = 0; i < seq.length;) {
    const el = seq[i]!;
    if ('rule' in el) { flush(); out.push(name(el.rule)); i++; continue; }
    const special = specialOf(el, specials);
    if (special !== undefined) { flush(); out.push(special); i++; continue; }
    const { ranges, used } = codePoints(seq, i);
    i += used;
    if (ranges.length === 2 && ranges[0] === ranges[1]) { run += escape(ranges[0]!); continue; }
    flush();
    let cls = '';
    for (let k = 0; k < ranges.length; k += 2) cls += ranges[k] === ranges[k + 1] ? escape(ranges[k]!) : `${escape(ranges[k]!)}-${escape(ranges[k + 1]!)}`;
    out.push(`[${cls}]`);
  }
  flush();
  return out.join(' ');
}

/** A class of control-token symbols as token references (one, or a group of alternatives). */
function specialOf(el: Chars, specials: readonly number[]): string | undefined {
  if (el.chars[0]! < 256) return undefined;
  const ids: string[] = [];
  for (let k = 0; k < el.chars.length; k += 2) {
    for (let s = el.chars[k]!; s <= el.chars[k + 1]!; s++) {
      const id = specials[s - 256];
      if (id === undefined || s < 256) throw new Error(`grammar symbol ${s} is neither a byte nor a named control token`);
      ids.push(`<[${id}]>`);
    }
  }
  return ids.length === 1 ? ids[0] : `(${ids.join(' | ')})`;
}

/** Where each UTF-8 sequence length starts and ends in code points (2, 3, 4 bytes). */
const SEQUENCE_RANGE: Record<number, [number, number]> = { 2: [0x80, 0x7ff], 3: [0x800, 0xffff], 4: [0x10000, 0x10ffff] };

/**
 * The code-point ranges that the byte classes from seq[i] on stand for, and how many elements they took: an
 * ASCII class is itself; a lead-byte class takes its continuation classes, which must each be one byte (one
 * character) or all of 0x80-0xBF (every character the lead bytes begin).
 */
function codePoints(seq: readonly Element[], i: number): { ranges: number[]; used: number } {
  const lead = seq[i] as Chars;
  const r = lead.chars;
  if (r.every((b) => b < 0x80)) return { ranges: r.slice(), used: 1 };
  const length = sequenceLength(r[0]!);
  if (length === 0 || !r.every((b) => sequenceLength(b) === length)) throw new Error(`grammar byte class ${JSON.stringify(r)} mixes UTF-8 lead bytes of different kinds`);
  const conts: Chars[] = [];
  for (let k = 1; k < length; k++) {
    const c = seq[i + k];
    if (!c || 'rule' in c || !c.chars.every((b) => b >= 0x80 && b <= 0xbf)) throw new Error('grammar UTF-8 lead byte without its continuation bytes');
    conts.push(c);
  }
  const single = (c: Chars) => c.chars.length === 2 && c.chars[0] === c.chars[1];
  const full = (c: Chars) => c.chars.length === 2 && c.chars[0] === 0x80 && c.chars[1] === 0xbf;
  if (r.length === 2 && r[0] === r[1] && conts.every(single)) {
    return { ranges: [decode([r[0]!, ...conts.map((c) => c.chars[0]!)])].flatMap((c) => [c, c]), used: length };
  }
  if (!conts.every(full)) throw new Error('grammar UTF-8 continuation classes must be single bytes or all of 0x80-0xBF');
  const [min, max] = SEQUENCE_RANGE[length]!;
  const ranges: number[] = [];
  for (let k = 0; k < r.length; k += 2) {
    const lo = Math.max(min, decode([r[k]!, ...conts.map(() => 0x80)]));
    const hi = Math.min(max, decode([r[k + 1]!, ...conts.map(() => 0xbf)]));
    if (lo <= hi) ranges.push(lo, hi);
  }
  return { ranges, used: length };
}

function sequenceLength(lead: number): number {
  return lead >= 0xc0 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf8 ? 4 : 0;
}

function decode(bytes: number[]): number {
  const [lead, ...rest] = bytes;
  let cp = lead! & (0xff >> (bytes.length + 1));
  for (const b of rest) cp = (cp << 6) | (b & 0x3f);
  return cp;
}

/** A code point inside a GBNF literal or class: letters and digits as they are, anything else escaped. */
function escape(cp: number): string {
  if (/^[A-Za-z0-9 _]$/.test(String.fromCodePoint(cp))) return String.fromCodePoint(cp);
  const hex = cp.toString(16).toUpperCase();
  return cp < 0x100 ? `\\x${hex.padStart(2, '0')}` : cp < 0x10000 ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`;
}
