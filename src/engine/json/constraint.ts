// JSON mode: a grammar constrains each step to the tokens that keep the output a prefix of valid JSON.
import { UnsupportedError } from '../../errors';
import type { Tokenizer } from '../../tokenizer';
import type { ResponseFormat } from '../types';

/** Restricts decoding step by step. */
export interface TokenConstraint {
  /**
   * The tokens allowed next as a bit mask (bit i % 32 of word i / 32), given that at most `remaining` more
   * tokens may follow; null when the output is complete and generation must end.
   */
  mask(remaining: number): Uint32Array | null;
  /** The model picked `token` (one the last mask allowed). */
  advance(token: number): void;
}

export function createJsonConstraint(_tokenizer: Tokenizer, _format: ResponseFormat, _stopTokens: readonly number[]): TokenConstraint {
  throw new UnsupportedError('response_format JSON is not implemented yet');
}
