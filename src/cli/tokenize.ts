// `hearth tokenize`: token ids of a text, from the GGUF header and vocabulary alone (no GPU, no weights),
// so it works on vocab-only files and on URLs without downloading the model.
import { tokenizerFromGGUF } from '../tokenizer';
import { encodeChatPrompt } from '../tokenizer/chat-template';
import { parseCommand, readModelHeader, usage, UsageError } from './args';

export async function tokenizeCommand(args: string[]): Promise<number> {
  const { model, values, fetch } = parseCommand('tokenize', args, {
    text: { type: 'string' },
    json: { type: 'boolean', default: false },
    'no-bos': { type: 'boolean', default: false },
    special: { type: 'boolean', default: false },
  });
  if (values.text === undefined) throw new UsageError(`--text is required\n${usage('tokenize')}`);
  const header = await readModelHeader(model, fetch);
  const tokenizer = 'metadata' in header ? tokenizerFromGGUF(header.metadata) : header.tokenizer;
  if (!('metadata' in header)) await header.close();
  // BOS as the vocabulary says (tokenizer.ggml.add_bos_token), unless --no-bos. --special reads control-token
  // texts ('<|im_start|>', '<s>') as those tokens, the way chat prompts are tokenized (never two BOS).
  const addBos = values['no-bos'] ? false : undefined;
  const ids = values.special ? encodeChatPrompt(tokenizer, values.text, { addBos }) : tokenizer.encode(values.text, { addBos });
  process.stdout.write(values.json ? `${JSON.stringify({ ids })}\n` : `${ids.join(' ')}\n`);
  return 0;
}
