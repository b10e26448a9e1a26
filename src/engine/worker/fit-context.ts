// Context fitting (GenerateOptions.truncation 'auto'): a prompt too long for the context loses its oldest part
// here, in the worker, where the template is rendered and the prompt tokenized anyway. A chat loses whole
// turns, oldest first: the leading system message and the last user turn stay, and a turn (a user message with
// the replies, tool calls and tool results after it) goes as one, so roles keep alternating and a tool call
// never loses its results. A plain prompt loses its oldest tokens (BOS stays).
import type { ChatMessage } from '../../tokenizer/chat-template';

/**
 * Prompt tokens that leave room for the reply: the context less min(maxTokens, a quarter of the context), so
 * a reply of the usual length fits without a long conversation giving up most of its history for maxTokens:
 * Infinity.
 */
export function promptBudget(contextLength: number, maxTokens: number): number {
  return contextLength - Math.min(maxTokens, Math.floor(contextLength / 4));
}

/** A chat prompt that fits `budget` tokens where it can, and how many messages were left out for it. */
export interface FittedChat { prompt: number[]; truncatedMessages: number }

/**
 * The prompt of `messages` (rendered and tokenized by `encode`), leaving out the fewest oldest turns that
 * make it fit `budget`. When even the last turn alone does not fit, that prompt is returned (the caller's
 * context check then says how long it is). Renders once when the conversation fits, else about log2(turns)
 * times more (a binary search over how many turns go).
 */
export function fitChat(messages: readonly ChatMessage[], encode: (messages: ChatMessage[]) => number[], budget: number): FittedChat {
  const full = encode(messages.slice());
  if (full.length <= budget) return { prompt: full, truncatedMessages: 0 };
  const { head, starts } = turnStarts(messages);
  const keep = (k: number): ChatMessage[] => [...messages.slice(0, head), ...messages.slice(starts[k])];
  const last = starts.length - 1;
  if (last < 1) return { prompt: full, truncatedMessages: 0 };
  // The smallest number of turns to leave out whose prompt fits (the prompt shrinks as turns go).
  let lo = 1;
  let hi = last;
  let best: number[] | undefined;
  let bestK = last;
  while (lo <= hi) {
    const k = (lo + hi) >> 1;
    const prompt = encode(keep(k));
    if (prompt.length <= budget) {
      best = prompt;
      bestK = k;
      hi = k - 1;
    } else {
      lo = k + 1;
    }
  }
  return { prompt: best ?? encode(keep(last)), truncatedMessages: starts[bestK]! - head };
}

/**
 * Where the turns of `messages` start: after `head` leading system messages, each user message starts a
 * turn (messages before the first user message form a turn of their own). The last start is the last user
 * message, whose turn always stays; leaving out k turns keeps the head and messages from starts[k] on.
 */
function turnStarts(messages: readonly ChatMessage[]): { head: number; starts: number[] } {
  let head = 0;
  while (head < messages.length && messages[head]!.role === 'system') head++;
  let lastUser = -1;
  messages.forEach((m, i) => { if (m.role === 'user') lastUser = i; });
  const starts = [head];
  for (let i = head + 1; i <= lastUser; i++) if (messages[i]!.role === 'user') starts.push(i);
  return { head, starts };
}

/**
 * The last `budget` tokens of `tokens`, its leading BOS kept, and how many were left out. `bos` undefined: the
 * vocabulary has none.
 */
export function fitTokens(tokens: readonly number[], budget: number, bos: number | undefined): { prompt: number[]; truncatedTokens: number } {
  if (tokens.length <= budget || budget < 1) return { prompt: tokens.slice(), truncatedTokens: 0 };
  const keepBos = bos !== undefined && tokens[0] === bos;
  const tail = tokens.slice(tokens.length - (budget - (keepBos ? 1 : 0)));
  const prompt = keepBos ? [bos, ...tail] : tail;
  return { prompt, truncatedTokens: tokens.length - prompt.length };
}
