// llama.cpp in WebAssembly (wllama's server loop) takes a prompt as text only and tokenizes it itself, special
// tokens parsed and BOS added as the model file says. Hearth tokenizes as llama.cpp does (the tests compare the
// two), so the text to send is the one whose llama.cpp-style tokenization is the prompt's ids: checked here, so
// that the ids a result reports are the ids llama.cpp ran.
import { UnsupportedError } from '../errors';
import type { Tokenizer } from '../tokenizer';
import { encodeChatPrompt } from '../tokenizer/chat-template';

/**
 * The text llama.cpp turns into exactly `ids`. `written` is the text the prompt came from, if any (a
 * generate() prompt, a rendered chat); otherwise, or where it does not give `ids`, the ids decoded.
 * UnsupportedError where no text gives them (addBos against the model's default, ids no text produces).
 */
export function llamaPromptText(tokenizer: Tokenizer, ids: readonly number[], written?: string): string {
  // encode('') is [BOS] exactly when the model adds BOS, which llama.cpp then does too.
  const [bos] = tokenizer.encode('', { addEos: false });
  if (bos !== undefined && ids[0] !== bos) {
    throw new UnsupportedError('a prompt without BOS for a model that adds one (addBos: false) is not available on the WebAssembly backend, where llama.cpp tokenizes the prompt text itself; use backend \'webgpu\'');
  }
  const body = bos === undefined ? ids : ids.slice(1);
  const bosText = bos === undefined ? undefined : tokenizer.tokenText(bos);
  const candidates: string[] = [];
  if (written !== undefined) candidates.push(bosText !== undefined && written.startsWith(bosText) ? written.slice(bosText.length) : written);
  candidates.push(tokenizer.decode(body));
  for (const text of candidates) {
    if (sameIds(encodeChatPrompt(tokenizer, text), ids)) return text;
  }
  throw new UnsupportedError('this prompt\'s token ids are not what its text tokenizes to (text that spells a control token, or ids no text produces), and llama.cpp on the WebAssembly backend takes text only; use backend \'webgpu\'');
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
