// A context-free grammar over bytes and a matcher for it, in the style of llama.cpp's GBNF engine: the parse
// state is a set of stacks, each stack a chain of positions in the grammar's rules whose top is a byte class
// to match next. Stacks are interned (hash-consed), so a state is a sorted list of small integers, and byte
// transitions and "bytes still needed to finish" are cached per stack. Rules must not be left-recursive.

/** A byte class: inclusive ranges [lo0, hi0, lo1, hi1, ...]. */
export interface Chars { chars: number[] }
/** A reference to another rule by index. */
export interface Ref { rule: number }
export type Element = Chars | Ref;
/** A rule: alternatives, each a sequence of elements (an empty sequence matches nothing, i.e. ε). */
export type Rule = Element[][];

/** Builds a grammar rule by rule; rule 0 is the root. */
export class GrammarBuilder {
  readonly rules: Rule[] = [[]];
  private readonly named = new Map<string, number>();

  /** A new rule index (define it with `define`), or the one already named `name`. */
  declare(name?: string): number {
    if (name !== undefined && this.named.has(name)) return this.named.get(name)!;
    this.rules.push([]);
    const index = this.rules.length - 1;
    if (name !== undefined) this.named.set(name, index);
    return index;
  }

  has(name: string): boolean { return this.named.has(name); }

  define(rule: number, alternatives: Element[][]): Ref {
    this.rules[rule] = alternatives;
    return { rule };
  }

  /** A rule with these alternatives. */
  alt(...alternatives: Element[][]): Ref {
    return this.define(this.declare(), alternatives);
  }

  /** `e` zero or one time. */
  optional(...e: Element[]): Ref {
    return this.alt(e, []);
  }

  /** `e` repeated min..max times (max Infinity: as often as wanted, right-recursively). */
  repeat(e: Element[], min: number, max: number): Element[] {
    const out: Element[] = [];
    for (let i = 0; i < min; i++) out.push(...e);
    if (max === Infinity) {
      const star = this.declare();
      this.define(star, [[...e, { rule: star }], []]);
      out.push({ rule: star });
    } else {
      // Nested optionals: (e (e (e)?)?)? for max − min more.
      let tail: Element[] = [];
      for (let i = min; i < max; i++) tail = [this.optional(...e, ...tail)];
      out.push(...tail);
    }
    return out;
  }
}

/** Bytes of a string (UTF-8) as a sequence of single-byte classes. */
export function literal(text: string): Chars[] {
  return Array.from(new TextEncoder().encode(text), (b) => ({ chars: [b, b] }));
}

export function chars(...ranges: (string | [string | number, string | number])[]): Chars {
  const code = (c: string | number) => (typeof c === 'number' ? c : c.charCodeAt(0));
  const out: number[] = [];
  for (const r of ranges) {
    if (typeof r === 'string') for (const c of r) out.push(code(c), code(c));
    else out.push(code(r[0]), code(r[1]));
  }
  return { chars: out };
}

/**
 * Symbols are bytes (0..255) and, from 256 on, control tokens a grammar names (a tool-call grammar's
 * '[TOOL_CALLS]'): control tokens have no bytes, so they are matched as symbols of their own.
 */
const SYMBOLS = 4096;

/** Stack id of the empty stack: everything matched, the input may end here. */
export const ACCEPT = 0;

interface Frame { rule: number; alt: number; idx: number; up: number }

export class GrammarMatcher {
  /** Interned stacks: id → frame (the top: rule, alternative, next element, continuation stack id). */
  private readonly frames: (Frame | null)[] = [null];
  private readonly ids = new Map<string, number>();
  private readonly expanded = new Map<number, number[]>();
  private readonly transitions = new Map<number, number[]>();
  private readonly minRest = new Map<number, number>();
  private readonly ruleMin: number[];

  constructor(readonly rules: readonly Rule[]) {
    this.ruleMin = minLengths(rules);
  }

  /** The state before any input: the root's stacks. */
  initial(): number[] {
    return this.expand(this.intern(0, -1, 0, ACCEPT));
  }

  /** The state after `byte` (a byte or a symbol >= 256): every stack whose top class holds it, advanced (empty: the byte is not allowed). */
  advance(state: readonly number[], byte: number): number[] {
    if (state.length === 1) return this.step(state[0]!, byte);
    const out = new Set<number>();
    for (const id of state) for (const next of this.step(id, byte)) out.add(next);
    return [...out].sort((a, b) => a - b);
  }

  /** The fewest bytes that complete the input from `state` (0 when it may end now). */
  bytesToFinish(state: readonly number[]): number {
    let best = Infinity;
    for (const id of state) best = Math.min(best, this.rest(id));
    return best;
  }

  private step(id: number, byte: number): number[] {
    const key = id * SYMBOLS + byte;
    let result = this.transitions.get(key);
    if (!result) {
      const f = this.frames[id];
      result = [];
      if (f) {
        const el = this.rules[f.rule]![f.alt]![f.idx] as Chars;
        if (inClass(el.chars, byte)) result = this.expand(this.intern(f.rule, f.alt, f.idx + 1, f.up));
      }
      this.transitions.set(key, result);
    }
    return result;
  }

  /** A stack id for a position; alt -1 marks the synthetic root position (rule 0 to be expanded). */
  private intern(rule: number, alt: number, idx: number, up: number): number {
    const key = `${rule},${alt},${idx},${up}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push({ rule, alt, idx, up });
      this.ids.set(key, id);
    }
    return id;
  }

  /** The stacks a position stands for, each with a byte class on top (or ACCEPT). */
  private expand(id: number): number[] {
    let result = this.expanded.get(id);
    if (result) return result;
    const out = new Set<number>();
    const visit = (sid: number, depth: number) => {
      if (depth > 10_000) throw new Error('grammar recursion too deep (left-recursive rule?)');
      const f = this.frames[sid];
      if (!f) { out.add(ACCEPT); return; }
      if (f.alt < 0) { // the root: each alternative of rule 0
        this.rules[f.rule]!.forEach((_, a) => visit(this.intern(f.rule, a, 0, f.up), depth + 1));
        return;
      }
      const seq = this.rules[f.rule]![f.alt]!;
      if (f.idx === seq.length) { visit(f.up, depth + 1); return; }
      const el = seq[f.idx]!;
      if ('chars' in el) { out.add(sid); return; }
      const cont = this.intern(f.rule, f.alt, f.idx + 1, f.up);
      this.rules[el.rule]!.forEach((_, a) => visit(this.intern(el.rule, a, 0, cont), depth + 1));
    };
    visit(id, 0);
    result = [...out].sort((a, b) => a - b);
    this.expanded.set(id, result);
    return result;
  }

  private rest(id: number): number {
    let n = this.minRest.get(id);
    if (n !== undefined) return n;
    const f = this.frames[id];
    if (!f) n = 0;
    else {
      n = this.rest(f.up);
      const seq = this.rules[f.rule]![f.alt]!;
      for (let k = f.idx; k < seq.length; k++) n += elementMin(seq[k]!, this.ruleMin);
    }
    this.minRest.set(id, n);
    return n;
  }
}

function inClass(ranges: number[], byte: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (byte >= ranges[i]! && byte <= ranges[i + 1]!) return true;
  return false;
}

function elementMin(el: Element, ruleMin: number[]): number {
  return 'chars' in el ? 1 : ruleMin[el.rule]!;
}

/** Fewest bytes each rule matches (a fixpoint: Infinity for rules that never finish). */
function minLengths(rules: readonly Rule[]): number[] {
  const min = rules.map(() => Infinity);
  for (let changed = true; changed;) {
    changed = false;
    rules.forEach((alts, r) => {
      for (const seq of alts) {
        const n = seq.reduce((s, el) => s + elementMin(el, min), 0);
        if (n < min[r]!) { min[r] = n; changed = true; }
      }
    });
  }
  return min;
}
