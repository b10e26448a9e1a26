// A question with the passages found for it, as a prompt that asks for an answer from those passages only,
// each numbered [1], [2], … so the reply can cite them; and the citations a reply made, back to their passages.
import type { ChatMessage } from '../tokenizer/chat-template';
import { InvalidRequestError } from '../errors';
import type { SearchHit } from './document-index';

export interface GroundedPromptOptions {
  /** What the model is told to do with the sources; default: answer from them only, citing them as [n]. */
  instructions?: string;
  /** Most characters of passage text in the prompt (the best passages first; default: all of `hits`). */
  maxSourceChars?: number;
}

export const DEFAULT_INSTRUCTIONS = 'Answer the question using only the numbered sources below. Cite the sources you use by their number in '
  + 'square brackets, like [1]. If the sources do not contain the answer, say that you do not know.';

/** The hits the prompt has room for, in the order given (best first). */
function sourcesWithin(hits: readonly SearchHit[], maxSourceChars = Infinity): SearchHit[] {
  const out: SearchHit[] = [];
  let chars = 0;
  for (const h of hits) {
    if (out.length > 0 && chars + h.text.length > maxSourceChars) break;
    out.push(h);
    chars += h.text.length;
  }
  return out;
}

/** "[n] title (passage p)\ntext" for each source, numbered from 1 in order. */
function formatSources(hits: readonly SearchHit[]): string {
  return hits.map((h, i) => `[${i + 1}] ${h.title} (passage ${h.passage + 1})\n${h.text.trim()}`).join('\n\n');
}

/** One prompt: the instructions, the numbered sources, then the question. Source [n] is hits[n - 1]. */
export function groundedPrompt(question: string, hits: readonly SearchHit[], options: GroundedPromptOptions = {}): string {
  if (typeof question !== 'string' || question.trim() === '') throw new InvalidRequestError('the question must be a non-empty string');
  const sources = sourcesWithin(hits, options.maxSourceChars);
  const instructions = options.instructions ?? DEFAULT_INSTRUCTIONS;
  if (sources.length === 0) return question;
  return `${instructions}\n\nSources:\n\n${formatSources(sources)}\n\nQuestion: ${question.trim()}`;
}

/**
 * `history` (earlier turns) then the grounded question as the user's message: the sources go in the user's turn,
 * where every chat template accepts them (some refuse a system role).
 */
export function groundedMessages(question: string, hits: readonly SearchHit[], history: readonly ChatMessage[] = [], options: GroundedPromptOptions = {}): ChatMessage[] {
  return [...history, { role: 'user', content: groundedPrompt(question, hits, options) }];
}

/** The sources a reply cites ([1], [2, 3], [1][4]), each once, in the order first cited; numbers beyond `hits` ignored. */
export function citedSources(reply: string, hits: readonly SearchHit[]): { number: number; hit: SearchHit }[] {
  const seen = new Set<number>();
  const out: { number: number; hit: SearchHit }[] = [];
  for (const group of reply.matchAll(/\[(\d+(?:\s*,\s*\d+)*)\]/g)) {
    for (const n of group[1]!.split(',').map((s) => Number(s.trim()))) {
      const hit = hits[n - 1];
      if (hit && !seen.has(n)) { seen.add(n); out.push({ number: n, hit }); }
    }
  }
  return out;
}
