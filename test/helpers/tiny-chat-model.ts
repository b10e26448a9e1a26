// A tiny llama with a chat template: a character-level SentencePiece vocabulary plus the template's control
// tokens, for tests of the chat paths (engine.chat, `hearth chat`).
import { tinyLlamaSpec, writeGGUF } from './gguf-writer';

/** A ChatML template (Qwen's shape) for tinyChatModel, with controls ['<|im_end|>', '<|im_start|>']. */
export const CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const CHARS = [...' abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?\'\n'].map((c) => (c === ' ' ? '▁' : c));

export interface TinyChatOptions { silent?: boolean; extraChars?: string; contextLength?: number; userDefined?: string[] }

/** The vocabulary of tinyChatModel(…, controls, options): a token's id is its index. */
export function tinyChatTokens(controls: string[], options: TinyChatOptions = {}): string[] {
  // Control tokens first: with silent weights every logit is 0 and greedy argmax picks id 0.
  const extra = [...(options.extraChars ?? '')].filter((c) => !CHARS.includes(c) && c !== ' ');
  return [...controls, '<unk>', '<s>', '</s>', ...CHARS, ...extra, ...(options.userDefined ?? [])];
}

/**
 * Token ids: the `controls` first (0, 1, ...), then <unk>, <s>, </s>, then one token per character, then one per
 * character of `extraChars` (e.g. JSON's punctuation and digits), then the `userDefined` tokens (added tokens
 * that are text, not control tokens: Qwen's '<tool_call>' in its real vocabulary).
 */
export function tinyChatModel(template: string, controls: string[], options: TinyChatOptions = {}): Uint8Array {
  const tokens = tinyChatTokens(controls, options);
  const userDefined = options.userDefined ?? [];
  const types = tokens.map((t, i) => (i < controls.length + 3 ? (t === '<unk>' ? 2 : 3) : i >= tokens.length - userDefined.length ? 4 : 1));
  const spec = tinyLlamaSpec({
    vocab: tokens.length,
    contextLength: options.contextLength ?? 512,
    metadata: {
      'tokenizer.ggml.tokens': tokens,
      'tokenizer.ggml.scores': new Float32Array(tokens.length),
      'tokenizer.ggml.token_type': Int32Array.from(types),
      'tokenizer.ggml.unknown_token_id': tokens.indexOf('<unk>'),
      'tokenizer.ggml.bos_token_id': tokens.indexOf('<s>'),
      'tokenizer.ggml.eos_token_id': tokens.indexOf('</s>'),
      'tokenizer.chat_template': template,
    },
  });
  if (options.silent) {
    // A zero output norm makes every logit exactly 0: the model "says" token 0 at every step.
    const norm = spec.tensors!.find((t) => t.name === 'output_norm.weight')!;
    norm.data = new Float32Array((norm.data as Float32Array).length);
  }
  return writeGGUF(spec);
}

