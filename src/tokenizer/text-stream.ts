// Turns generated token ids into text as they arrive.
//
// Two things make "decode each token on its own" wrong:
//  - SentencePiece drops the leading space of the first token of a decode, so "▁upon" alone is "upon".
//    Decoding [context..., new] and cutting off decode([context...]) keeps the space.
//  - One character can be spread over several byte tokens (<0xE2><0x80><0x99> is "’"); until the last
//    one arrives the decoded text ends in U+FFFD, and nothing of it may be shown yet.
// The context is a few already-emitted tokens that start on a character boundary, so each push decodes
// a bounded window: O(1) per token, not O(history).
import type { Tokenizer } from './index';

const REPLACEMENT_CHAR = '\uFFFD';
/** A UTF-8 character is at most 4 bytes; a window whose end is still U+FFFD after this many held tokens is
 *  genuinely invalid and is emitted as is rather than held forever. */
const MAX_HELD_TOKENS = 8;
/** How far back to look for a context start that decodes cleanly on its own. */
const MAX_CONTEXT_TOKENS = 4;

export interface TextStreamerOptions {
  /** Leave out control/unknown tokens (BOS, EOS, ...). Default true. */
  skipSpecial?: boolean;
  /**
   * Tokens that precede the stream, e.g. the prompt, whose text is NOT emitted: the first generated
   * token is decoded after them, so its leading space survives ("Once upon a time" + "▁there").
   */
  context?: readonly number[];
}

export class TextStreamer {
  private readonly skipSpecial: boolean;
  /** Emitted tokens kept only as decoding context; they start at a character boundary. */
  private context: number[] = [];
  private contextText = '';
  /** Tokens whose text has not been emitted yet (an incomplete character). */
  private pending: number[] = [];

  constructor(private readonly tokenizer: Tokenizer, opts: TextStreamerOptions = {}) {
    this.skipSpecial = opts.skipSpecial ?? true;
    if (opts.context) this.setContext(this.kept(opts.context));
  }

  /** Adds one generated token; returns the text it completes ('' while a character is incomplete). */
  push(tokenId: number): string {
    if (this.skipSpecial && this.tokenizer.isSpecial(tokenId)) return '';
    this.pending.push(tokenId);
    const window = this.context.concat(this.pending);
    const text = this.tokenizer.decode(window);
    if (text.endsWith(REPLACEMENT_CHAR) && this.pending.length < MAX_HELD_TOKENS) return '';
    return this.emit(window, text);
  }

  /** Whatever is still held at the end of generation (an incomplete character comes out as U+FFFD). */
  flush(): string {
    if (this.pending.length === 0) return '';
    const window = this.context.concat(this.pending);
    return this.emit(window, this.tokenizer.decode(window));
  }

  private emit(window: number[], text: string): string {
    const piece = text.startsWith(this.contextText) ? text.slice(this.contextText.length) : text;
    this.pending = [];
    this.setContext(window);
    return piece;
  }

  /** Keeps the shortest tail of `ids` that decodes without a broken character at its start. */
  private setContext(ids: readonly number[]): void {
    const start = Math.max(0, ids.length - MAX_CONTEXT_TOKENS);
    for (let i = ids.length - 1; i >= start; i--) {
      const tail = ids.slice(i);
      const text = this.tokenizer.decode(tail);
      if (!text.startsWith(REPLACEMENT_CHAR)) {
        this.context = tail;
        this.contextText = text;
        return;
      }
    }
    this.context = ids.slice(start);
    this.contextText = this.tokenizer.decode(this.context);
  }

  private kept(ids: readonly number[]): number[] {
    return this.skipSpecial ? ids.filter((id) => !this.tokenizer.isSpecial(id)) : ids.slice();
  }
}
