// Documents into passages: whole paragraphs packed up to a character budget, a paragraph longer than the budget
// cut at sentence ends, a sentence longer than it at a space; each passage repeats the end of the one before
// (`overlap`) so an answer that straddles a boundary is whole in one of them. Offsets index the document's text.
import { InvalidRequestError } from '../errors';

export interface SplitOptions {
  /** Most characters in a passage (default 800: about 200 tokens of English, within every embedder's context). */
  maxChars?: number;
  /** Characters of whole sentences or paragraphs from the end of a passage that begin the next (default 150). */
  overlap?: number;
}

/** A passage of a document: text.slice(start, end). */
export interface PassageSpan { start: number; end: number }

const DEFAULT_SPLIT: Required<SplitOptions> = { maxChars: 800, overlap: 150 };

/** [start, end) of the non-blank text of `text` between `from` and `to`, or undefined when it is all whitespace. */
function trimmed(text: string, from: number, to: number): PassageSpan | undefined {
  while (from < to && /\s/.test(text[from]!)) from++;
  while (to > from && /\s/.test(text[to - 1]!)) to--;
  return from < to ? { start: from, end: to } : undefined;
}

/** Spans of `text` between the matches of `separator` (global). */
function spansBetween(text: string, from: number, to: number, separator: RegExp): PassageSpan[] {
  const out: PassageSpan[] = [];
  const part = text.slice(from, to);
  let last = 0;
  for (const m of part.matchAll(separator)) {
    const end = m.index + m[0].length;
    const span = trimmed(text, from + last, from + end);
    if (span) out.push(span);
    last = end;
  }
  const rest = trimmed(text, from + last, to);
  if (rest) out.push(rest);
  return out;
}

/** A span no longer than `max`, cut at the last space before the limit (or at the limit in a long word). */
function hardCut(text: string, span: PassageSpan, max: number): PassageSpan[] {
  const out: PassageSpan[] = [];
  let { start } = span;
  while (span.end - start > max) {
    const space = text.lastIndexOf(' ', start + max);
    const cut = space > start + max / 2 ? space : start + max;
    const piece = trimmed(text, start, cut);
    if (piece) out.push(piece);
    start = cut;
  }
  const rest = trimmed(text, start, span.end);
  if (rest) out.push(rest);
  return out;
}

/** Paragraphs, or the sentences of one too long, or pieces of a sentence too long: units no longer than `max`. */
function units(text: string, max: number): PassageSpan[] {
  const out: PassageSpan[] = [];
  for (const paragraph of spansBetween(text, 0, text.length, /\n[ \t]*\n\s*/g)) {
    if (paragraph.end - paragraph.start <= max) { out.push(paragraph); continue; }
    // A sentence ends at . ! ? (or their CJK forms), closing quotes or brackets after them, then space.
    for (const sentence of spansBetween(text, paragraph.start, paragraph.end, /[.!?。！？]+["'”’)\]]*(?:\s+|$)/g)) {
      out.push(...(sentence.end - sentence.start <= max ? [sentence] : hardCut(text, sentence, max)));
    }
  }
  return out;
}

/** The passages of `text`, in order; none for text that is all whitespace. */
export function splitPassages(text: string, options: SplitOptions = {}): PassageSpan[] {
  const { maxChars, overlap } = { ...DEFAULT_SPLIT, ...options };
  if (typeof text !== 'string') throw new InvalidRequestError(`a document's text must be a string, got ${typeof text}`);
  if (!Number.isSafeInteger(maxChars) || maxChars < 16) throw new InvalidRequestError(`maxChars must be an integer of at least 16, got ${maxChars}`);
  if (!Number.isSafeInteger(overlap) || overlap < 0 || overlap >= maxChars) {
    throw new InvalidRequestError(`overlap must be an integer from 0 to maxChars - 1 (${maxChars - 1}), got ${overlap}`);
  }
  const all = units(text, maxChars);
  const passages: PassageSpan[] = [];
  let first = 0;
  while (first < all.length) {
    let last = first;
    while (last + 1 < all.length && all[last + 1]!.end - all[first]!.start <= maxChars) last++;
    passages.push({ start: all[first]!.start, end: all[last]!.end });
    if (last + 1 >= all.length) break;
    // The next passage starts with the trailing units of this one that fit in `overlap`, and with room for a new unit.
    let next = last + 1;
    while (next - 1 > first && all[last]!.end - all[next - 1]!.start <= overlap && all[last + 1]!.end - all[next - 1]!.start <= maxChars) next--;
    first = next;
  }
  return passages;
}
