// Reads tool calls back from generated text in the template's syntax (formats.ts). The parse works on a prefix
// too (streaming): content is the text before the format's trigger, less any tail that may be the start of it;
// calls are listed as far as they are written, the last one's arguments possibly unfinished. Whitespace in the
// syntax is matched loosely (llama.cpp's expectations include '<tool_call>\n{...}</tool_call>').
import type { ToolFormat } from './formats';

export interface ParsedCall {
  name: string;
  /** The arguments' JSON text as written so far. */
  arguments: string;
  /** The call is complete (arguments closed and its closing syntax written). */
  complete: boolean;
}

export interface ParsedOutput {
  content: string;
  calls: ParsedCall[];
  /** False when the text from the trigger on is not (a prefix of) the calls' syntax: it is then all content. */
  ok: boolean;
}

/**
 * The content and the calls in `text`. With `final`, the text is all there is: calls must be complete and the
 * held-back tail returns to the content. Names are those of `names` (the callable tools).
 */
export function parseToolOutput(format: ToolFormat, text: string, names: readonly string[], final: boolean): ParsedOutput {
  if (format.recipients) return parseRecipients(format, format.recipients.content, text, names, final);
  const at = text.indexOf(format.trigger);
  if (at < 0) {
    const held = final ? 0 : heldBack(text, format.trigger);
    return { content: text.slice(0, text.length - held), calls: [], ok: true };
  }
  const calls = readCalls(format, text, at, names);
  if (!calls || (final && (calls.length === 0 || calls.some((c) => !c.complete)))) return { content: final ? text : text.slice(0, at), calls: [], ok: !final && calls !== null };
  return { content: text.slice(0, at), calls, ok: true };
}

/** Functionary v3.2: `all\n` text (then '>>>' calls), or calls from the start (the prompt wrote their head). */
function parseRecipients(format: ToolFormat, contentPrefix: string, text: string, names: readonly string[], final: boolean): ParsedOutput {
  const plain: ToolFormat = { ...format, recipients: undefined };
  if (text.startsWith(contentPrefix)) return parseToolOutput(plain, text.slice(contentPrefix.length), names, final);
  if (!final && contentPrefix.startsWith(text)) return { content: '', calls: [], ok: true };
  const parsed = parseToolOutput(plain, format.head + text, names, final);
  if (parsed.calls.length > 0) return parsed;
  return { content: final || !parsed.ok ? text : '', calls: [], ok: parsed.ok };
}

/** How many characters at the end of `text` could begin `trigger`. */
function heldBack(text: string, trigger: string): number {
  for (let n = Math.min(trigger.length - 1, text.length); n > 0; n--) if (trigger.startsWith(text.slice(text.length - n))) return n;
  return 0;
}

/** The calls from `pos` on (null when the text leaves the syntax). */
function readCalls(format: ToolFormat, text: string, pos: number, names: readonly string[]): ParsedCall[] | null {
  const calls: ParsedCall[] = [];
  let m = expect(text, pos, format.head);
  for (;;) {
    if (m === 'partial') return calls;
    if (m === null) return null;
    const call = readCall(format, text, m, names);
    if (call === null) return null;
    calls.push(call.call);
    if (call.end === 'partial') return calls;
    call.call.complete = true;
    const end = call.end;
    if (format.sep === '') { // calls follow each other directly (or only one is allowed)
      if (text.slice(end).trim() === '') return calls;
      m = end;
      continue;
    }
    const sep = expect(text, end, format.sep);
    if (typeof sep === 'number') { m = sep; continue; }
    const tail = expect(text, end, format.tail);
    if (typeof tail === 'number') return text.slice(tail).trim() === '' ? calls : null;
    return tail === 'partial' || sep === 'partial' ? calls : null;
  }
}

function readCall(format: ToolFormat, text: string, pos: number, names: readonly string[]): { call: ParsedCall; end: number | 'partial' } | null {
  let partialName = false;
  for (const name of [...names].sort((a, b) => b.length - a.length)) {
    const m = expect(text, pos, format.callPrefix(name));
    if (m === 'partial') { partialName = true; continue; }
    if (m === null) continue;
    let start = m;
    while (start < text.length && /\s/.test(text[start]!)) start++;
    const end = jsonEnd(text, start);
    if (end === null) return null;
    if (end === 'partial') return { call: { name, arguments: text.slice(start), complete: false }, end: 'partial' };
    const call: ParsedCall = { name, arguments: text.slice(start, end), complete: false };
    let after: number | 'partial' | null = end;
    if (format.idLength > 0) {
      after = expect(text, end, ', "id": "');
      if (typeof after === 'number') {
        const id = /^[a-zA-Z0-9]*/.exec(text.slice(after))![0];
        after = id.length >= format.idLength ? after + format.idLength : after + id.length === text.length ? 'partial' : null;
      }
    }
    if (typeof after === 'number') after = expect(text, after, format.callSuffix);
    if (after === null) return null;
    return { call, end: after };
  }
  return partialName ? { call: { name: '', arguments: '', complete: false }, end: 'partial' } : null;
}

/**
 * Where `literal` ends when matched at `pos` (whitespace in it matches any run of whitespace, and whitespace in
 * the text before each of its other characters is skipped); 'partial' when the text ends inside it.
 */
function expect(text: string, pos: number, literal: string): number | 'partial' | null {
  let i = pos;
  for (const c of literal) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (/\s/.test(c)) continue;
    if (i >= text.length) return 'partial';
    if (text[i] !== c) return null;
    i++;
  }
  return i;
}

/** The end of the JSON value starting at `pos`, 'partial' when the text ends inside it, null when it is not one. */
function jsonEnd(text: string, pos: number): number | 'partial' | null {
  if (pos >= text.length) return 'partial';
  let depth = 0;
  let inString = false;
  for (let i = pos; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') { inString = false; if (depth === 0) return valid(text, pos, i + 1); }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') { depth--; if (depth === 0) return valid(text, pos, i + 1); if (depth < 0) return null; }
    else if (depth === 0 && /[\s,}\]]/.test(c)) return valid(text, pos, i);
  }
  return 'partial';
}

function valid(text: string, start: number, end: number): number | null {
  try {
    JSON.parse(text.slice(start, end));
    return end;
  } catch {
    return null;
  }
}
