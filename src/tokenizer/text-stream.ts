// Turns generated token ids into text as they arrive.
//
// Two things make "decode each token on its own" wrong:
//  - SentencePiece drops the leading space of the first token of a decode, so "▁upon" alone is "upon".
//    Decoding [context..., new] and cutting off decode([context...]) keeps the space.
//  - One character can be spread over several byte tokens (<0xE2><0x80><0x99> is "’"); until the last
//    one arrives the decoded text ends in U+FFFD, and that character may not be shown yet.
// The window is a few already-emitted tokens that start on a character boundary plus the new ones, so each
// push decodes a bounded window: O(1) per token, not O(history).
import type { Tokenizer } from './types';

const REPLACEMENT_CHAR = '\uFFFD';
/** How far back to look for a window start that decodes cleanly on its own. */
const MAX_CONTEXT_TOKENS = 4;
/**
 * While the text keeps ending in an incomplete character (a run of invalid bytes can do that for long), the
 * window is cut back to its last MAX_CONTEXT_TOKENS tokens once it is this long: those hold the at most 3
 * bytes of the incomplete character, and each push stays O(1).
 */
const MAX_WINDOW_TOKENS = 12;

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
  /** The recent tokens decoded on each push: context (already emitted) followed by the new ones. */
  private window: number[] = [];
  /** Characters of decode(window) already emitted or belonging to the context. */
  private emitted = 0;

  constructor(private readonly tokenizer: Tokenizer, opts: TextStreamerOptions = {}) {
    this.skipSpecial = opts.skipSpecial ?? true;
    if (opts.context) this.restartAtBoundary(this.kept(opts.context));
  }

  /**
   * Adds one generated token; returns the text it completes ('' while a character is incomplete).
   * UTF-8 decoding is prefix-stable except for its last character: a trailing U+FFFD may be the start of a
   * character whose remaining bytes are still to come, so it is held back; everything before it is final
   * (an invalid byte followed by more bytes stays U+FFFD, as in llama.cpp's text).
   */
  push(tokenId: number): string {
    if (this.skipSpecial && this.tokenizer.isSpecial(tokenId)) return '';
    this.window.push(tokenId);
    const text = this.tokenizer.decode(this.window);
    const incomplete = text.endsWith(REPLACEMENT_CHAR);
    const end = incomplete ? text.length - 1 : text.length;
    const piece = text.slice(this.emitted, end);
    this.emitted = end;
    if (!incomplete) {
      this.restartAtBoundary(this.window);
    } else if (this.window.length > MAX_WINDOW_TOKENS) {
      this.window = this.window.slice(-MAX_CONTEXT_TOKENS);
      const tail = this.tokenizer.decode(this.window);
      this.emitted = tail.endsWith(REPLACEMENT_CHAR) ? tail.length - 1 : tail.length;
    }
    return piece;
  }

  /** Whatever is still held at the end of generation (an incomplete character comes out as U+FFFD). */
  flush(): string {
    const text = this.tokenizer.decode(this.window);
    const piece = text.slice(this.emitted);
    this.emitted = text.length;
    return piece;
  }

  /** Keeps the shortest tail of `ids` (all emitted) that decodes without a broken character at its start. */
  private restartAtBoundary(ids: readonly number[]): void {
    const start = Math.max(0, ids.length - MAX_CONTEXT_TOKENS);
    this.window = ids.slice(start);
    for (let i = ids.length - 1; i >= start; i--) {
      const tail = ids.slice(i);
      if (!this.tokenizer.decode(tail).startsWith(REPLACEMENT_CHAR)) {
        this.window = tail;
        break;
      }
    }
    this.emitted = this.tokenizer.decode(this.window).length;
  }

  private kept(ids: readonly number[]): number[] {
    return this.skipSpecial ? ids.filter((id) => !this.tokenizer.isSpecial(id)) : ids.slice();
  }
}
